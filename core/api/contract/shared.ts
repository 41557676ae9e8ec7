// The contract's shared pieces (core/api/contract.ts): bytes by ledger category and the name lists (declared in
// core/api/names.ts), the budget report, the error a response carries (code, message, field, budget report), plus the
// field helpers the domain files use. Pure TS.
import { z } from 'zod';
import { BudgetReportSchema } from '../train';

export { ByCategorySchema, CATEGORIES, CATEGORY_INFO, METHODS, METHOD_INFO, PROJECTIONS, type ByCategory, type CategoryName, type MethodName, type Projection } from '../names';
export { BudgetReportSchema, type BudgetReport } from '../train';

/** A path field of a request (not re-exported by core/api/contract.ts). */
export const path = z.string().min(1, 'give a path');
/** The params of a method that takes none. */
export const empty = z.object({}).strict();

/** An error as a response carries it: a code for programs, a message that says what, where and what to do. */
export const ServiceErrorSchema = z.object({
  code: z.string(),
  message: z.string(),
  /** The request field the error is about, when there is one (the UI highlights it). */
  field: z.string().optional(),
  budget: BudgetReportSchema.optional(),
});
export type ServiceError = z.infer<typeof ServiceErrorSchema>;

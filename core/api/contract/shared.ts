// The contract's shared pieces (core/api/contract.ts): bytes by ledger category (DESIGN.md §3), the method and
// category names, and the error a response carries (code, message, field, budget report), plus the field helpers the
// domain files use. Pure TS.
import { z } from 'zod';
import { PeakBytesSchema } from '../eval';

/** Live or peak bytes by ledger category (DESIGN.md §3). */
export const ByCategorySchema = PeakBytesSchema.omit({ total: true });
export type ByCategoryBytes = z.infer<typeof ByCategorySchema>;
export const CATEGORY_NAMES = ['weights', 'adapter', 'grads', 'optimizer', 'activations', 'workspace', 'kvcache'] as const;
export type CategoryName = (typeof CATEGORY_NAMES)[number];
export const METHOD_NAMES = ['full', 'mebp', 'mesp', 'mezo'] as const;

/** A path field of a request (not re-exported by core/api/contract.ts). */
export const path = z.string().min(1, 'give a path');
/** The params of a method that takes none. */
export const empty = z.object({}).strict();

/** A budget-exceeded report, as the engine's OutOfBudgetError carries it. */
export const BudgetReportSchema = z.object({
  request: z.object({ name: z.string(), category: z.string(), bytes: z.number() }),
  liveByCategory: z.record(z.string(), z.number()),
  capBytes: z.number(),
  overshootBytes: z.number(),
});
export type BudgetReport = z.infer<typeof BudgetReportSchema>;

/** An error as a response carries it: a code for programs, a message that says what, where and what to do. */
export const ServiceErrorSchema = z.object({
  code: z.string(),
  message: z.string(),
  /** The request field the error is about, when there is one (the UI highlights it). */
  field: z.string().optional(),
  budget: BudgetReportSchema.optional(),
});
export type ServiceError = z.infer<typeof ServiceErrorSchema>;

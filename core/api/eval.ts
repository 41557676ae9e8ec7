// The service contract for evaluation (`mesp eval`, and the app's model check): request and result as zod schemas.
// The request's fields come from the TrainSpec and the run inputs (core/api/train.ts), so a flag means the same in
// `mesp eval` and `mesp train`. Pure TS (DESIGN.md §1): shared by the CLI, the service and the renderer.
import { z } from 'zod';
import { described, reworded } from './fields';
import { PeakBytesSchema, PRECISION_FORWARD_HELP } from './names';
import { TrainInputsSchema, TrainSpecSchema } from './train';

export { PeakBytesSchema, QuantSchema, type PeakBytes, type QuantName } from './names';

export const EvalRequestSchema = TrainInputsSchema.pick({ modelDir: true, dataPath: true, profile: true })
  .extend(TrainSpecSchema.pick({ quant: true }).shape)
  .extend({ precision: reworded(TrainSpecSchema.shape.precision, PRECISION_FORWARD_HELP) })
  .extend({
    adapterDir: described(z.string().min(1).optional(), { label: 'Adapter', flag: 'adapter', arg: 'DIR', group: 'inputs', help: 'a PEFT adapter folder to evaluate with' }),
    seqLen: described(z.number().int().min(2).max(32768).optional(), { label: 'Sequence length', arg: 'N', unit: 'tokens', help: 'truncate rows to N tokens (default: whole rows)' }),
    maxRows: described(z.number().int().positive().optional(), { label: 'Rows', arg: 'N', unit: 'rows', help: 'evaluate only the first N rows' }),
  });
export type EvalRequest = z.input<typeof EvalRequestSchema>;

export const EvalResultSchema = z.object({
  rows: z.array(z.object({ line: z.number(), loss: z.number(), tokens: z.number() })),
  /** Mean over rows of each row's mean next-token loss. */
  meanLoss: z.number(),
  /** exp(total NLL / total target tokens). */
  perplexity: z.number(),
  /** Per category: the highest each reached; total: the highest total reached. */
  peakBytes: PeakBytesSchema,
  workingSetBytes: z.number(),
  capBytes: z.number(),
  profile: z.string(),
  adapter: z.string(),
  seconds: z.number(),
});
export type EvalResult = z.infer<typeof EvalResultSchema>;

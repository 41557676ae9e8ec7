// The service contract for evaluation (`mesp eval`, and the app's model check): request, result, zod schemas.
// Pure TS (DESIGN.md §1): shared by the CLI, the service and the renderer.
import { z } from 'zod';

export const QuantSchema = z.enum(['none', 'int8', 'int4']);
export type QuantName = z.infer<typeof QuantSchema>;

/** Peak bytes by ledger category, plus the total (DESIGN.md §3). */
export const PeakBytesSchema = z.object({
  total: z.number(),
  weights: z.number(),
  adapter: z.number(),
  grads: z.number(),
  optimizer: z.number(),
  activations: z.number(),
  workspace: z.number(),
  /** Generation's KV cache (core/infer); absent in events written before it existed. */
  kvcache: z.number().default(0),
});
export type PeakBytes = z.infer<typeof PeakBytesSchema>;

export const EvalRequestSchema = z.object({
  modelDir: z.string().min(1),
  dataPath: z.string().min(1),
  quant: QuantSchema.default('none'),
  /** A built-in profile id or a path to a profile JSON file. */
  profile: z.string().default('phone-8gb'),
  /** PEFT adapter folder to evaluate with (optional). */
  adapterDir: z.string().optional(),
  seqLen: z.number().int().positive().optional(),
  maxRows: z.number().int().positive().optional(),
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

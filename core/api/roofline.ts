// The roofline projection of a training step on a device profile's GPU, as the contract carries it (plan.fit's
// methods, `mesp bench`'s JSON): the projected seconds per step and tokens/s, with the parts bound by compute and by
// memory, and the one sentence of assumptions every view prints beside it. Computed by core/profiles/roofline.ts from
// the dry run's per-kernel FLOPs and bytes (core/gpu/profiler.ts) and the profile's peak FLOP/s and bandwidth
// (profiles/README.md). Pure TS.
import { z } from 'zod';
import { PrecisionSchema } from './names';

export const StepProjectionSchema = z.object({
  profileId: z.string(),
  /** The arithmetic assumed: the profile's f32 or f16 peak. */
  precision: PrecisionSchema,
  /** Projected seconds per step: Σ over kernels of max(FLOPs / peak, bytes / bandwidth). */
  seconds: z.number(),
  /** Tokens of the step (batch × sequence length) divided by `seconds`. */
  tokensPerSecond: z.number(),
  /** The parts: Σ FLOPs / peak over the compute-bound kernels, Σ bytes / bandwidth over the memory-bound ones. */
  computeBoundSeconds: z.number(),
  memoryBoundSeconds: z.number(),
  /** FLOPs and bytes moved of the step (the dry run's counts). */
  flops: z.number(),
  bytes: z.number(),
});
export type StepProjection = z.infer<typeof StepProjectionSchema>;

/** What the projection assumes, printed wherever it is shown. */
export const ROOFLINE_ASSUMPTIONS =
  'roofline projection: every kernel runs at the GPU\'s peak FLOP/s or its DRAM bandwidth, whichever is slower ' +
  '(bytes = each operand read once and each result written once, as an ideal cache would), with no dispatch or ' +
  'synchronisation overhead; a lower bound on the step time, not a measurement. f16 uses the profile\'s f16 peak ' +
  'with the bytes as counted.';

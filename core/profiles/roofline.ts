// The roofline projection of a training step on a device profile's GPU (DESIGN.md §6): from the per-kernel counts a
// step's dispatches carry (FLOPs and bytes moved, core/gpu/profiler.ts; the memory plan's dry run records the very
// same counts as a real run), each kernel takes the slower of its FLOPs at the GPU's peak and its bytes at the
// GPU's bandwidth (`roofline` of ./schema), and the step takes the sum. Pure TS: the app's plan, the Compare view and
// `mesp bench` call it alike.
import { roofline, type DeviceProfile, type Precision } from './schema';

/** What the projection needs of one kernel's counts (core/gpu/profiler.ts KernelCount has these). */
export interface KernelCost {
  kernel: string;
  flops: number;
  bytes: number;
}

export interface StepProjection {
  profileId: string;
  precision: Precision;
  /** Projected seconds per step: Σ over kernels of max(FLOPs / peak, bytes / bandwidth). */
  seconds: number;
  /** Tokens of the step divided by `seconds`. */
  tokensPerSecond: number;
  /** The parts: Σ FLOPs / peak over the compute-bound kernels, Σ bytes / bandwidth over the memory-bound ones. */
  computeBoundSeconds: number;
  memoryBoundSeconds: number;
  /** FLOPs and bytes of the step. */
  flops: number;
  bytes: number;
}

/** What the projection assumes, printed wherever it is shown. */
export const ROOFLINE_ASSUMPTIONS =
  'roofline projection: every kernel runs at the GPU\'s peak FLOP/s or its DRAM bandwidth, whichever is slower ' +
  '(bytes = each operand read once and each result written once, as an ideal cache would), with no dispatch or ' +
  'synchronisation overhead; a lower bound on the step time, not a measurement. f16 uses the profile\'s f16 peak ' +
  'with the bytes as counted.';

/** Project one step (the counts of its dispatches) on a profile's GPU. `tokens` = batch × sequence length. */
export function projectStep(
  profile: Pick<DeviceProfile, 'id' | 'gpu'>,
  kernels: readonly KernelCost[],
  tokens: number,
  precision: Precision = 'f32',
): StepProjection {
  let seconds = 0;
  let computeBoundSeconds = 0;
  let memoryBoundSeconds = 0;
  let flops = 0;
  let bytes = 0;
  for (const k of kernels) {
    const r = roofline(profile, k.flops, k.bytes, precision);
    seconds += r.seconds;
    if (r.bound === 'compute') computeBoundSeconds += r.seconds;
    else memoryBoundSeconds += r.seconds;
    flops += k.flops;
    bytes += k.bytes;
  }
  return {
    profileId: profile.id, precision, seconds, tokensPerSecond: seconds > 0 ? tokens / seconds : Number.POSITIVE_INFINITY,
    computeBoundSeconds, memoryBoundSeconds, flops, bytes,
  };
}

/** projectStep on each profile. */
export function projectOnProfiles(
  profiles: readonly Pick<DeviceProfile, 'id' | 'gpu'>[],
  kernels: readonly KernelCost[],
  tokens: number,
  precision: Precision = 'f32',
): StepProjection[] {
  return profiles.map((p) => projectStep(p, kernels, tokens, precision));
}

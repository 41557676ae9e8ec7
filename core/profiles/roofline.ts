// The roofline projection of a training step on a device profile's GPU (DESIGN.md §6): from the per-kernel counts a
// step's dispatches carry (FLOPs and bytes moved, core/gpu/profiler.ts; the memory plan's dry run records the very
// same counts as a real run), each kernel takes the slower of its FLOPs at the GPU's peak and its bytes at the
// GPU's bandwidth (`roofline` of ./schema), and the step takes the sum. Pure TS: the app's plan, the Compare view and
// `mesp bench` call it alike. The result's shape and the assumptions' text are the contract's (core/api/roofline.ts).
import { ROOFLINE_ASSUMPTIONS, type StepProjection } from '../api/roofline';
import { roofline, type DeviceProfile, type Precision } from './schema';

export { ROOFLINE_ASSUMPTIONS, type StepProjection };

/** What the projection needs of one kernel's counts (core/gpu/profiler.ts KernelCount has these). */
export interface KernelCost {
  kernel: string;
  flops: number;
  bytes: number;
}

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
    profileId: profile.id, precision, seconds, tokensPerSecond: seconds > 0 ? tokens / seconds : 0, // 0: a step of no work (no dispatches)
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

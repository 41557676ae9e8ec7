// MeZO's perturbation θ += c·z with z regenerated on the GPU from a per-step seed and a per-tensor stream, never
// stored (DESIGN.md §5). CPU reference of the generator: core/reference/mezo.ts.
import { ShapeError } from '../common/errors';
import type { GpuContext } from '../gpu/context';
import { Params } from '../gpu/params';
import type { Tensor } from '../gpu/tensor';
import code from './mezo.wgsl';
import { grid1d } from './grid';

/** The generator key of a (step seed, tensor stream) pair; the same mixing as the CPU reference. */
export function mezoKey(seed: number, stream: number): number {
  return pcgHash((seed >>> 0) ^ pcgHash(stream >>> 0)) >>> 0;
}

export function pcgHash(v: number): number {
  const s = (Math.imul(v >>> 0, 747796405) + 2891336453) >>> 0;
  const w = Math.imul(((s >>> ((s >>> 28) + 4)) ^ s) >>> 0, 277803737) >>> 0;
  return ((w >>> 22) ^ w) >>> 0;
}

/** θ ← θ + c·z(seed, stream) */
export function mezoPerturb(ctx: GpuContext, theta: Tensor, seed: number, stream: number, c: number): void {
  const n = theta.numel;
  if (theta.dtype !== 'f32') throw new ShapeError(`mezoPerturb: ${theta} must be f32 (MeZO keeps its LoRA weights in f32, core/train/methods.ts adapterPrecision)`);
  // the hash and Box–Muller of z (about 20 integer and float operations, counted as 20) and θ += c·z
  ctx.run({ name: 'mezo', code }, [theta], new Params().u(n).u(mezoKey(seed, stream)).f(c), grid1d(n, 64), { flops: 22 * n, bytes: 8 * n });
}

// Optimizer kernels: SGD and AdamW (decoupled weight decay, torch.optim.AdamW) updating one tensor in place, and
// the per-tensor sum of squares used for gradient-norm clipping. CPU reference: core/reference/optim.ts.
import type { GpuContext } from '../gpu/context';
import { Params } from '../gpu/params';
import type { Tensor } from '../gpu/tensor';
import { ShapeError } from '../common/errors';
import optimCode from './optim.wgsl';
import sgdCode from './sgd.wgsl';
import sumsqCode from './sumsq.wgsl';
import { grid1d } from './grid';

export interface AdamWHyper {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  /** 1-based step count, for bias correction. */
  step: number;
}

function check(theta: Tensor, g: Tensor): number {
  if (theta.numel !== g.numel) throw new ShapeError(`optimizer: ${theta} and its gradient ${g} differ in size`);
  return theta.numel;
}

/** θ ← θ − lr·g */
export function sgdUpdate(ctx: GpuContext, theta: Tensor, g: Tensor, lr: number): void {
  const n = check(theta, g);
  ctx.run({ name: 'sgd', code: sgdCode }, [theta, g], new Params().u(n).f(lr), grid1d(n, 64), { flops: 2 * n, bytes: 12 * n });
}

/** One AdamW step on θ with moments m, v (same shape as θ). */
export function adamwUpdate(ctx: GpuContext, theta: Tensor, g: Tensor, m: Tensor, v: Tensor, h: AdamWHyper): void {
  const n = check(theta, g);
  if (m.numel !== n || v.numel !== n) throw new ShapeError(`adamw: moments of ${theta} have the wrong size`);
  const bc1 = 1 - Math.pow(h.beta1, h.step);
  const bc2 = 1 - Math.pow(h.beta2, h.step);
  ctx.run({ name: 'adamw', code: optimCode }, [theta, g, m, v],
    new Params().u(n).f(h.lr).f(h.beta1).f(h.beta2).f(h.eps).f(h.weightDecay).f(bc1).f(bc2), grid1d(n, 64),
    // moments, bias corrections, sqrt, division, decay: about 16 per value; θ, m, v read and written, g read
    { flops: 16 * n, bytes: 28 * n });
}

/** out[slot] = Σ x² */
export function sumSquares(ctx: GpuContext, out: Tensor, slot: number, x: Tensor): void {
  if (slot >= out.numel) throw new ShapeError(`sumSquares: slot ${slot} outside ${out}`);
  ctx.run({ name: 'sumsq', code: sumsqCode }, [out, x], new Params().u(x.numel).u(slot), [1], { flops: 2 * x.numel, bytes: 4 * x.numel + 4 });
}

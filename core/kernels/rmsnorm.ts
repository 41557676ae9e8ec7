// RMSNorm (HF Qwen2RMSNorm, computed in f32): y = w ⊙ x / sqrt(mean(x²) + eps), forward and input gradient (the
// weight is frozen in LoRA training, so there is no dw). Kernels: rmsnorm.wgsl, rmsnorm_backward.wgsl.
// CPU reference: core/reference/rmsnorm.ts.
import { ShapeError } from '../common/errors';
import type { GpuContext } from '../gpu/context';
import { Params } from '../gpu/params';
import type { Tensor } from '../gpu/tensor';
import { needDims, needValues } from './checks';
import { grid1d } from './grid';
import forwardCode from './rmsnorm.wgsl';
import backwardCode from './rmsnorm_backward.wgsl';

export interface RmsnormDims {
  /** Rows (tokens, B·T). */
  N: number;
  /** Features per row (hidden size, or HS for a per-head norm). */
  C: number;
  /** HF `rms_norm_eps`. */
  eps: number;
}

export interface RmsnormBackwardDims {
  N: number;
  C: number;
  /** dx += the gradient instead of dx = the gradient. */
  accumulate?: boolean;
}

const WG = 64;

/**
 * out = w ⊙ x · rstd, with rstd[n] = 1/sqrt(mean_c x[n,c]² + eps) written to `rstd` when it is given (the backward
 * needs exactly these bits). `out` and `x` must be distinct tensors.
 */
export function rmsnormForward(
  ctx: GpuContext,
  out: Tensor, // (N, C)
  rstd: Tensor | null, // (N)
  x: Tensor, // (N, C)
  w: Tensor, // (C)
  dims: RmsnormDims,
): void {
  const { N, C, eps } = dims;
  needDims('rmsnormForward', { N, C }, ['C']);
  if (!(eps >= 0)) throw new ShapeError(`rmsnormForward: eps must be ≥ 0, got ${eps}`);
  if (out === x) throw new ShapeError(`rmsnormForward: out and x must be distinct tensors (${x})`);
  if (rstd && (rstd === out || rstd === x)) throw new ShapeError('rmsnormForward: rstd must be its own tensor');
  needValues('rmsnormForward', 'out', out, N * C);
  needValues('rmsnormForward', 'x', x, N * C);
  needValues('rmsnormForward', 'w', w, C);
  if (rstd) needValues('rmsnormForward', 'rstd', rstd, N);
  ctx.run(
    { name: 'rmsnorm', code: forwardCode, constants: { WRITE_RSTD: rstd !== null } },
    [out, rstd ?? ctx.dummy, x, w],
    new Params().u(N).u(C).f(eps),
    grid1d(N, WG),
    // x² sums, the scale and the product: 4 per value; x and out, w once, rstd
    { flops: 4 * N * C, bytes: 4 * (2 * N * C + C + (rstd ? N : 0)) },
  );
}

/**
 * dx (=, or += with accumulate) ∂L/∂x given dout = ∂L/∂out:
 *   forward: r = (mean(x²) + eps)^(-1/2), y = w ⊙ x · r
 *   so dx_i = r·w_i·dout_i − x_i·(r³/C)·Σ_k dout_k·w_k·x_k.
 * `rstd` must be what rmsnormForward wrote for this x. dx may be dout's tensor (in place, not with accumulate).
 */
export function rmsnormBackward(
  ctx: GpuContext,
  dx: Tensor, // (N, C)
  dout: Tensor, // (N, C)
  x: Tensor, // (N, C)
  w: Tensor, // (C)
  rstd: Tensor, // (N)
  dims: RmsnormBackwardDims,
): void {
  const { N, C } = dims;
  const accumulate = !!dims.accumulate;
  needDims('rmsnormBackward', { N, C }, ['C']);
  const inPlace = dx === dout;
  if (inPlace && accumulate) throw new ShapeError('rmsnormBackward: dx += ... cannot run in place on dout');
  if (dx === x || dx === w || dx === rstd) throw new ShapeError(`rmsnormBackward: dx ${dx} must not be an input other than dout`);
  needValues('rmsnormBackward', 'dx', dx, N * C);
  needValues('rmsnormBackward', 'dout', dout, N * C);
  needValues('rmsnormBackward', 'x', x, N * C);
  needValues('rmsnormBackward', 'w', w, C);
  needValues('rmsnormBackward', 'rstd', rstd, N);
  ctx.run(
    { name: 'rmsnorm_backward', code: backwardCode, constants: { ACCUM: accumulate, IN_PLACE: inPlace } },
    [dx, inPlace ? ctx.dummy : dout, x, w, rstd],
    new Params().u(N).u(C),
    grid1d(N, WG),
    // the row's dot Σ dout·w·x and dx = r·w·dout − x·c: 7 per value; dout, x, dx (read too with accumulate), w, rstd
    { flops: 7 * N * C, bytes: 4 * ((accumulate ? 4 : 3) * N * C + C + N) },
  );
}

// SwiGLU, the Qwen2 MLP activation (HF Qwen2MLP): m = silu(gate) ⊙ up with silu(g) = g·sigmoid(g), forward and
// backward, out of place or in place (gate → dgate, up → dup, so the MLP backward needs no extra (T, I) buffers).
// Kernels: swiglu.wgsl, swiglu_backward.wgsl. CPU reference: core/reference/swiglu.ts.
import { ShapeError } from '../common/errors';
import type { GpuContext } from '../gpu/context';
import { Params } from '../gpu/params';
import type { Tensor } from '../gpu/tensor';
import { needDims, needValues } from './checks';
import { grid1d } from './grid';
import forwardCode from './swiglu.wgsl';
import backwardCode from './swiglu_backward.wgsl';

export interface SwigluDims {
  /** Elements (T·I for a (T, I) MLP activation). */
  N: number;
}

const WG = 256;

/** out = silu(gate) ⊙ up. `out` may be neither gate nor up. */
export function swigluForward(
  ctx: GpuContext,
  out: Tensor, // (N)
  gate: Tensor, // (N)
  up: Tensor, // (N)
  dims: SwigluDims,
): void {
  const { N } = dims;
  needDims('swigluForward', { N });
  if (out === gate || out === up) throw new ShapeError(`swigluForward: out ${out} must not be gate or up`);
  needValues('swigluForward', 'out', out, N);
  needValues('swigluForward', 'gate', gate, N);
  needValues('swigluForward', 'up', up, N);
  // silu(g)·u: exp, add, divide, two products
  ctx.run({ name: 'swiglu', code: forwardCode }, [out, gate, up], new Params().u(N), grid1d(N, WG), { flops: 5 * N, bytes: 12 * N });
}

function backward(ctx: GpuContext, op: string, dgate: Tensor, dup: Tensor, dout: Tensor, gate: Tensor | null, up: Tensor | null, N: number): void {
  needDims(op, { N });
  if (dgate === dup || dout === dgate || dout === dup) throw new ShapeError(`${op}: dgate, dup and dout must be three distinct tensors`);
  needValues(op, 'dgate', dgate, N);
  needValues(op, 'dup', dup, N);
  needValues(op, 'dout', dout, N);
  if (gate) needValues(op, 'gate', gate, N);
  if (up) needValues(op, 'up', up, N);
  const inPlace = gate === null;
  ctx.run(
    { name: 'swiglu_backward', code: backwardCode, constants: { IN_PLACE: inPlace } },
    [dgate, dup, dout, gate ?? ctx.dummy, up ?? ctx.dummy],
    new Params().u(N),
    grid1d(N, WG),
    // σ(g), silu, dup and dgate: about 10 per element; gate, up, dout read, dgate, dup written
    { flops: 10 * N, bytes: 20 * N },
  );
}

/**
 * forward: m = silu(g)·u, silu(g) = g·σ(g)
 * so dup = dm·silu(g) and dgate = dm·u·σ(g)·(1 + g·(1 − σ(g))).
 * Outputs distinct from the inputs (use swigluBackwardInPlace to overwrite gate and up).
 */
export function swigluBackward(
  ctx: GpuContext,
  dgate: Tensor, // (N)
  dup: Tensor, // (N)
  dout: Tensor, // (N)
  gate: Tensor, // (N)
  up: Tensor, // (N)
  dims: SwigluDims,
): void {
  for (const o of [dgate, dup]) {
    if (o === gate || o === up) throw new ShapeError(`swigluBackward: output ${o} is an input; use swigluBackwardInPlace`);
  }
  backward(ctx, 'swigluBackward', dgate, dup, dout, gate, up, dims.N);
}

/** The same gradients, overwriting gate with dgate and up with dup; bit-identical to swigluBackward. */
export function swigluBackwardInPlace(
  ctx: GpuContext,
  gate: Tensor, // (N) in: gate, out: dgate
  up: Tensor, // (N) in: up, out: dup
  dout: Tensor, // (N)
  dims: SwigluDims,
): void {
  backward(ctx, 'swigluBackwardInPlace', gate, up, dout, null, null, dims.N);
}

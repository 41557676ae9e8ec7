// SwiGLU, the Qwen2 MLP activation (HF Qwen2MLP): m = silu(gate) ⊙ up with silu(g) = g·sigmoid(g), forward and
// backward, out of place or in place (gate → dgate, up → dup, so the MLP backward needs no extra (T, I) buffers);
// and the same over f16 storage (`--precision f16`: gate and up f16, m f32; the gradients f16, rounded once; f32
// arithmetic).
// Kernels: swiglu.wgsl, swiglu_backward.wgsl, swiglu_f16.wgsl, swiglu_backward_f16.wgsl.
// CPU reference: core/reference/swiglu.ts (with core/reference/f16.ts's rounding for the f16 forms).
import { ShapeError } from '../common/errors';
import type { GpuContext } from '../gpu/context';
import { Params } from '../gpu/params';
import type { Tensor } from '../gpu/tensor';
import { needDims, needValues } from './checks';
import { grid1d } from './grid';
import forwardCode from './swiglu.wgsl';
import backwardCode from './swiglu_backward.wgsl';
import forwardF16Code from './swiglu_f16.wgsl';
import backwardF16Code from './swiglu_backward_f16.wgsl';

export interface SwigluDims {
  /** Elements (T·I for a (T, I) MLP activation). */
  N: number;
}

const WG = 256;

/** The forward's checks and dispatch; `half`: gate and up are f16 (swiglu_f16.wgsl, a word of two per invocation). */
function forward(ctx: GpuContext, op: string, out: Tensor, gate: Tensor, up: Tensor, N: number, half: boolean): void {
  needDims(op, { N });
  if (out === gate || out === up) throw new ShapeError(`${op}: out ${out} must not be gate or up`);
  needValues(op, 'out', out, N);
  needValues(op, 'gate', gate, N, half ? 'f16' : 'f32');
  needValues(op, 'up', up, N, half ? 'f16' : 'f32');
  // silu(g)·u: exp, add, divide, two products
  const code = half ? { name: 'swiglu_f16', code: forwardF16Code } : { name: 'swiglu', code: forwardCode };
  ctx.run(code, [out, gate, up], new Params().u(N), grid1d(half ? Math.ceil(N / 2) : N, WG), { flops: 5 * N, bytes: (half ? 8 : 12) * N, kernel: 'swiglu' });
}

/** out = silu(gate) ⊙ up. `out` may be neither gate nor up. */
export function swigluForward(
  ctx: GpuContext,
  out: Tensor, // (N)
  gate: Tensor, // (N)
  up: Tensor, // (N)
  dims: SwigluDims,
): void {
  forward(ctx, 'swigluForward', out, gate, up, dims.N, false);
}

/** The backward's checks and dispatch; `half`: gate, up, dgate and dup are f16 (swiglu_backward_f16.wgsl). */
function backward(ctx: GpuContext, op: string, dgate: Tensor, dup: Tensor, dout: Tensor, gate: Tensor | null, up: Tensor | null, N: number, half = false): void {
  needDims(op, { N });
  if (dgate === dup || dout === dgate || dout === dup) throw new ShapeError(`${op}: dgate, dup and dout must be three distinct tensors`);
  const dt = half ? 'f16' : 'f32';
  needValues(op, 'dgate', dgate, N, dt);
  needValues(op, 'dup', dup, N, dt);
  needValues(op, 'dout', dout, N);
  if (gate) needValues(op, 'gate', gate, N, dt);
  if (up) needValues(op, 'up', up, N, dt);
  const inPlace = gate === null;
  ctx.run(
    { name: half ? 'swiglu_backward_f16' : 'swiglu_backward', code: half ? backwardF16Code : backwardCode, constants: { IN_PLACE: inPlace } },
    [dgate, dup, dout, gate ?? ctx.dummy, up ?? ctx.dummy],
    new Params().u(N),
    grid1d(half ? Math.ceil(N / 2) : N, WG),
    // σ(g), silu, dup and dgate: about 10 per element; gate, up, dout read, dgate, dup written
    { flops: 10 * N, bytes: (half ? 12 : 20) * N, kernel: 'swiglu_backward' },
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

/** out (N, f32) = silu(gate)·up from gate and up (N, f16) read exactly; f32 arithmetic, as swigluForward. */
export function swigluForwardF16(
  ctx: GpuContext,
  out: Tensor, // (N) f32
  gate: Tensor, // (N) f16
  up: Tensor, // (N) f16
  dims: SwigluDims,
): void {
  forward(ctx, 'swigluForwardF16', out, gate, up, dims.N, true);
}

/**
 * swigluBackward over f16 storage: dgate, dup (N, f16) from dout (N, f32) and gate, up (N, f16), rounded to f16.
 * With gate and up null it works in place: `dgate` holds gate on entry, `dup` holds up (as swigluBackwardInPlace).
 */
export function swigluBackwardF16(
  ctx: GpuContext,
  dgate: Tensor, // (N) f16
  dup: Tensor, // (N) f16
  dout: Tensor, // (N) f32
  gate: Tensor | null, // (N) f16
  up: Tensor | null, // (N) f16
  dims: SwigluDims,
): void {
  const op = 'swigluBackwardF16';
  if ((gate === null) !== (up === null)) throw new ShapeError(`${op}: gate and up are both given (out of place) or both null (in place)`);
  for (const o of [dgate, dup]) if (o === gate || o === up) throw new ShapeError(`${op}: output ${o} is an input; pass gate and up as null to work in place`);
  backward(ctx, op, dgate, dup, dout, gate, up, dims.N, true);
}

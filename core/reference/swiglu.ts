// CPU reference for core/kernels/swiglu (Qwen2 MLP activation m = silu(g)·u), in float64: forward and derivatives.
import type { SwigluDims } from '../kernels/swiglu';

const sigmoid = (g: number): number => 1 / (1 + Math.exp(-g));

export function swigluForwardRef(
  out: Float64Array | Float32Array, // (N)
  gate: ArrayLike<number>, // (N)
  up: ArrayLike<number>, // (N)
  { N }: SwigluDims,
): void {
  for (let i = 0; i < N; i++) out[i] = gate[i] * sigmoid(gate[i]) * up[i];
}

/** forward: m = g·σ(g)·u, so dup = dm·g·σ(g) and dgate = dm·u·σ(g)·(1 + g·(1 − σ(g))). */
export function swigluBackwardRef(
  dgate: Float64Array | Float32Array, // (N)
  dup: Float64Array | Float32Array, // (N)
  dout: ArrayLike<number>, // (N)
  gate: ArrayLike<number>, // (N)
  up: ArrayLike<number>, // (N)
  { N }: SwigluDims,
): void {
  for (let i = 0; i < N; i++) {
    const g = gate[i];
    const s = sigmoid(g);
    dgate[i] = dout[i] * up[i] * s * (1 + g * (1 - s));
    dup[i] = dout[i] * g * s;
  }
}

// CPU reference for core/kernels/rmsnorm (HF Qwen2RMSNorm), in float64: the forward y = w ⊙ x / sqrt(mean(x²) + eps)
// and its exact input derivative, for tests.
import type { RmsnormBackwardDims, RmsnormDims } from '../kernels/rmsnorm';

/** out (N, C) = w ⊙ x · rstd; returns rstd (N) = 1/sqrt(mean(x²) + eps). */
export function rmsnormForwardRef(
  out: Float64Array | Float32Array, // (N, C)
  x: ArrayLike<number>, // (N, C)
  w: ArrayLike<number>, // (C)
  { N, C, eps }: RmsnormDims,
): Float64Array /* (N) */ {
  const rstd = new Float64Array(N);
  for (let n = 0; n < N; n++) {
    let ss = 0;
    for (let c = 0; c < C; c++) ss += x[n * C + c] * x[n * C + c];
    const r = 1 / Math.sqrt(ss / C + eps);
    rstd[n] = r;
    for (let c = 0; c < C; c++) out[n * C + c] = w[c] * x[n * C + c] * r;
  }
  return rstd;
}

/**
 * dx (N, C) (= or +=) ∂L/∂x for dout = ∂L/∂y, recomputing r from x in float64:
 *   forward: r = (Σ_j x_j²/C + eps)^(-1/2), y_k = w_k·x_k·r
 *   dx_i = r·w_i·dout_i − x_i·(r³/C)·Σ_k dout_k·w_k·x_k.
 */
export function rmsnormBackwardRef(
  dx: Float64Array | Float32Array, // (N, C)
  dout: ArrayLike<number>, // (N, C)
  x: ArrayLike<number>, // (N, C)
  w: ArrayLike<number>, // (C)
  { N, C, accumulate }: RmsnormBackwardDims,
  eps: number,
): void {
  for (let n = 0; n < N; n++) {
    let ss = 0;
    let dot = 0;
    for (let c = 0; c < C; c++) {
      const i = n * C + c;
      ss += x[i] * x[i];
      dot += dout[i] * w[c] * x[i];
    }
    const r = 1 / Math.sqrt(ss / C + eps);
    const k = (dot * r * r * r) / C;
    for (let c = 0; c < C; c++) {
      const i = n * C + c;
      const v = r * w[c] * dout[i] - x[i] * k;
      dx[i] = accumulate ? dx[i] + v : v;
    }
  }
}

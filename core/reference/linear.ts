// CPU reference for core/kernels/linear (HF nn.Linear, W [out, in]), accumulated in float64, over the values the GPU
// kernels use: the f32 weights, or the int8 / int4 weights as core/common/quant.ts dequantizeRows gives them.
import { dequantizeRows, quantizeRows } from '../common/quant';
import type { WeightFormat } from '../kernels/weight';
import type { LinearDims } from '../kernels/linear';

/** The weight values a kernel computes with after writeWeight(values) in `format`: (rows, cols) row-major. */
export function effectiveWeight(values: Float32Array, rows: number, cols: number, format: WeightFormat): Float32Array {
  if (format === 'f32') return values;
  return dequantizeRows(quantizeRows(values, rows, cols, format === 'int8' ? 8 : 4));
}

/** y (T, out) (+)= alpha · x (T, in) · wᵀ (+ bias), w (out, in). */
export function linearForwardRef(
  y: Float64Array | Float32Array, // (T, out)
  x: ArrayLike<number>, // (T, in)
  w: ArrayLike<number>, // (out, in)
  { T, in: C, out: N }: LinearDims,
  o: { bias?: ArrayLike<number>; accumulate?: boolean; alpha?: number } = {},
): void {
  const alpha = o.alpha ?? 1;
  for (let t = 0; t < T; t++) {
    for (let n = 0; n < N; n++) {
      let s = 0;
      for (let k = 0; k < C; k++) s += x[t * C + k] * w[n * C + k];
      let v = alpha * s;
      if (o.bias) v += o.bias[n];
      if (o.accumulate) v += y[t * N + n];
      y[t * N + n] = v;
    }
  }
}

/** forward y = x·wᵀ, so dx (T, in) (+)= alpha · g (T, out) · w (out, in). */
export function linearBackwardInputRef(
  dx: Float64Array | Float32Array, // (T, in)
  g: ArrayLike<number>, // (T, out)
  w: ArrayLike<number>, // (out, in)
  { T, in: C, out: N }: LinearDims,
  o: { accumulate?: boolean; alpha?: number } = {},
): void {
  const alpha = o.alpha ?? 1;
  const row = new Float64Array(C);
  for (let t = 0; t < T; t++) {
    row.fill(0);
    for (let n = 0; n < N; n++) {
      const gv = g[t * N + n];
      for (let c = 0; c < C; c++) row[c] += gv * w[n * C + c];
    }
    for (let c = 0; c < C; c++) dx[t * C + c] = alpha * row[c] + (o.accumulate ? dx[t * C + c] : 0);
  }
}

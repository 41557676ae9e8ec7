// CPU reference for core/kernels/matmul: C = alpha·op(A)·op(B) (+C) (+bias), accumulated in float64.
import type { MatmulDims, MatmulOptions } from '../kernels/matmul';

export function matmulRef(
  c: Float32Array | Float64Array,
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  { M, N, K }: MatmulDims,
  o: Omit<MatmulOptions, 'bias'> & { bias?: ArrayLike<number> } = {},
): void {
  const alpha = o.alpha ?? 1;
  for (let m = 0; m < M; m++) {
    for (let n = 0; n < N; n++) {
      let s = 0;
      for (let k = 0; k < K; k++) {
        const av = o.transA ? a[k * M + m] : a[m * K + k];
        const bv = o.transB ? b[n * K + k] : b[k * N + n];
        s += av * bv;
      }
      let v = alpha * s;
      if (o.bias) v += o.bias[n];
      if (o.accumulate) v += c[m * N + n];
      c[m * N + n] = v;
    }
  }
}

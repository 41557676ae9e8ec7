// CPU reference for core/kernels/embedding (HF nn.Embedding lookup and its table gradient). The table is given as
// the exact f32 values the kernel reads (for int8/int4: core/common/quant.ts dequantizeRows of the packed tiles).
import type { EmbeddingBackwardDims, EmbeddingDims } from '../kernels/embedding';

/** out[n] = table[ids[n]], or zeros for an id outside [0, V). */
export function embeddingForwardRef(
  out: Float32Array | Float64Array, // (N, C)
  ids: ArrayLike<number>, // (N)
  table: ArrayLike<number>, // (V, C)
  { N, C, V }: EmbeddingDims,
): void {
  for (let n = 0; n < N; n++) {
    const id = ids[n];
    for (let c = 0; c < C; c++) out[n * C + c] = id >= 0 && id < V ? table[id * C + c] : 0;
  }
}

/**
 * dtable[v] (= or +=) Σ_{n: ids[n] = v} dout[n] in token order; out-of-range ids are skipped. The sums run in the
 * precision of `dtable`: a Float32Array gives exactly the kernel's f32 sums, a Float64Array the float64 derivative.
 */
export function embeddingBackwardRef(
  dtable: Float32Array | Float64Array, // (V, C)
  dout: ArrayLike<number>, // (N, C)
  ids: ArrayLike<number>, // (N)
  { N, C, V, accumulate }: EmbeddingBackwardDims,
): void {
  const sums = new Map<number, Float32Array | Float64Array>();
  for (let n = 0; n < N; n++) {
    const id = ids[n];
    if (id < 0 || id >= V) continue;
    let s = sums.get(id);
    if (!s) sums.set(id, (s = dtable instanceof Float64Array ? new Float64Array(C) : new Float32Array(C)));
    for (let c = 0; c < C; c++) s[c] += dout[n * C + c];
  }
  if (!accumulate) dtable.fill(0, 0, V * C);
  for (const [id, s] of sums) {
    for (let c = 0; c < C; c++) dtable[id * C + c] = accumulate ? dtable[id * C + c] + s[c] : s[c];
  }
}

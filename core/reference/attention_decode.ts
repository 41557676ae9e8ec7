// CPU reference for core/kernels/attention_decode: one query token's grouped-query attention over cached keys and
// values (HF Qwen2Attention with past_key_values, eager path), in float64: for query head h (kv head h / (NH/NKV)),
// out[h] = Σ_{s<len} softmax_s(q[h]·k[s]/√HS)·v[s]. Layout as the kernel: q and out (NH*HS), k and v (cap, NKV*HS).
import type { AttentionDecodeDims } from '../kernels/attention_decode';

export function attentionDecodeRef(
  out: Float32Array | Float64Array, // (NH*HS)
  q: ArrayLike<number>, // (NH*HS)
  k: ArrayLike<number>, // (≥ len, NKV*HS)
  v: ArrayLike<number>, // (≥ len, NKV*HS)
  d: AttentionDecodeDims,
): void {
  const { len, NH, NKV, HS } = d;
  const scale = 1 / Math.sqrt(HS);
  const score = new Float64Array(len); // (len)
  for (let h = 0; h < NH; h++) {
    const j = Math.floor(h / (NH / NKV));
    let m = -Infinity;
    for (let s = 0; s < len; s++) {
      let dot = 0;
      for (let i = 0; i < HS; i++) dot += q[h * HS + i] * k[s * NKV * HS + j * HS + i];
      score[s] = dot * scale;
      m = Math.max(m, score[s]);
    }
    let sum = 0;
    for (let s = 0; s < len; s++) sum += Math.exp(score[s] - m);
    for (let i = 0; i < HS; i++) {
      let acc = 0;
      for (let s = 0; s < len; s++) acc += (Math.exp(score[s] - m) / sum) * v[s * NKV * HS + j * HS + i];
      out[h * HS + i] = acc;
    }
  }
}

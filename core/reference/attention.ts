// CPU reference for core/kernels/attention: causal grouped-query attention of HF Qwen2Attention (eager path, after
// RoPE), forward and backward, in float64. Layout as the kernels: (B*T, heads*HS), head h at columns [h*HS, (h+1)*HS),
// query head h reading kv head h / (NH/NKV); each of the B rows attends only within itself.
import type { AttentionDims } from '../kernels/attention';

type Out = Float32Array | Float64Array;

/** P[t, s] (s ≤ t) for row b, query head h, as float64 from a plain two-pass softmax. Returns (T, T), zero above the diagonal. */
function probsOf(q: ArrayLike<number>, k: ArrayLike<number>, d: AttentionDims, b: number, h: number, lse?: Out): Float64Array {
  const { T, NH, NKV, HS } = d;
  const j = Math.floor(h / (NH / NKV));
  const scale = 1 / Math.sqrt(HS);
  const P = new Float64Array(T * T); // (T, T)
  for (let t = 0; t < T; t++) {
    const qo = (b * T + t) * NH * HS + h * HS;
    let m = -Infinity;
    for (let s = 0; s <= t; s++) {
      const ko = (b * T + s) * NKV * HS + j * HS;
      let dot = 0;
      for (let i = 0; i < HS; i++) dot += q[qo + i] * k[ko + i];
      P[t * T + s] = dot * scale;
      m = Math.max(m, dot * scale);
    }
    let sum = 0;
    for (let s = 0; s <= t; s++) sum += Math.exp(P[t * T + s] - m);
    const L = m + Math.log(sum);
    for (let s = 0; s <= t; s++) P[t * T + s] = Math.exp(P[t * T + s] - L);
    if (lse) lse[(b * T + t) * NH + h] = L;
  }
  return P;
}

/** out (B*T, NH*HS), lse (B*T, NH) and probs (B, NH, T, T) when given, as attentionForward. */
export function attentionForwardRef(
  out: Out, // (B*T, NH*HS)
  lse: Out | null, // (B*T, NH)
  probs: Out | null, // (B, NH, T, T)
  q: ArrayLike<number>, // (B*T, NH*HS)
  k: ArrayLike<number>, // (B*T, NKV*HS)
  v: ArrayLike<number>, // (B*T, NKV*HS)
  d: AttentionDims,
): void {
  const { B, T, NH, NKV, HS } = d;
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < NH; h++) {
      const j = Math.floor(h / (NH / NKV));
      const P = probsOf(q, k, d, b, h, lse ?? undefined); // (T, T)
      if (probs) probs.set(P, (b * NH + h) * T * T);
      for (let t = 0; t < T; t++) {
        const oo = (b * T + t) * NH * HS + h * HS;
        for (let i = 0; i < HS; i++) {
          let acc = 0;
          for (let s = 0; s <= t; s++) acc += P[t * T + s] * v[(b * T + s) * NKV * HS + j * HS + i];
          out[oo + i] = acc;
        }
      }
    }
  }
}

/**
 * dq, dk, dv (overwritten) of L = Σ dout ⊙ out, as attentionBackward, P recomputed in float64:
 * forward out = P·v, P = softmax(q·kᵀ·scale + mask)  so  dv = Pᵀ·dout; dP = dout·vᵀ; dS = P ⊙ (dP − rowsum(dout ⊙ out));
 * dq = scale·dS·k; dk = scale·dSᵀ·q; dk and dv summed over the query heads of each kv head.
 */
export function attentionBackwardRef(
  dq: Out, // (B*T, NH*HS)
  dk: Out, // (B*T, NKV*HS)
  dv: Out, // (B*T, NKV*HS)
  dout: ArrayLike<number>, // (B*T, NH*HS)
  q: ArrayLike<number>, // (B*T, NH*HS)
  k: ArrayLike<number>, // (B*T, NKV*HS)
  v: ArrayLike<number>, // (B*T, NKV*HS)
  d: AttentionDims,
): void {
  const { B, T, NH, NKV, HS } = d;
  const scale = 1 / Math.sqrt(HS);
  dq.fill(0);
  dk.fill(0);
  dv.fill(0);
  const qr = (b: number, t: number, h: number): number => (b * T + t) * NH * HS + h * HS;
  const kr = (b: number, s: number, j: number): number => (b * T + s) * NKV * HS + j * HS;
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < NH; h++) {
      const j = Math.floor(h / (NH / NKV));
      const P = probsOf(q, k, d, b, h); // (T, T)
      for (let t = 0; t < T; t++) {
        // D[t] = Σ_i dout·out = Σ_s P[t,s]·dP[t,s]
        const dP = new Float64Array(t + 1); // (T) row t of dout·vᵀ
        let D = 0;
        for (let s = 0; s <= t; s++) {
          let x = 0;
          for (let i = 0; i < HS; i++) x += dout[qr(b, t, h) + i] * v[kr(b, s, j) + i];
          dP[s] = x;
          D += P[t * T + s] * x;
        }
        for (let s = 0; s <= t; s++) {
          const p = P[t * T + s];
          const dS = p * (dP[s] - D);
          for (let i = 0; i < HS; i++) {
            dq[qr(b, t, h) + i] += scale * dS * k[kr(b, s, j) + i];
            dk[kr(b, s, j) + i] += scale * dS * q[qr(b, t, h) + i];
            dv[kr(b, s, j) + i] += p * dout[qr(b, t, h) + i];
          }
        }
      }
    }
  }
}

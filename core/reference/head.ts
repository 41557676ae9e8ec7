// CPU reference for core/kernels/head (HF Qwen2ForCausalLM's LM head + cross-entropy), in float64: logits = x·wᵀ,
// lse[t] = log Σ_v exp(logits[t, v]), nll[t] = lse[t] − logits[t, target[t]] (0 where the target is masked, i.e. not in
// [0, V), −100 in HF), and the backward dx = scale·(softmax(logits) − onehot(target))·w.
import type { HeadDims } from '../kernels/head';

export function isMasked(target: number, V: number): boolean {
  return target < 0 || target >= V;
}

/** logits of one token (V) in float64. */
function logitsRow(x: ArrayLike<number>, w: ArrayLike<number>, t: number, C: number, V: number, out: Float64Array): void {
  for (let v = 0; v < V; v++) {
    let s = 0;
    for (let c = 0; c < C; c++) s += x[t * C + c] * w[v * C + c];
    out[v] = s;
  }
}

function lseOf(l: Float64Array): number {
  let m = -Infinity;
  for (let v = 0; v < l.length; v++) m = Math.max(m, l[v]);
  let s = 0;
  for (let v = 0; v < l.length; v++) s += Math.exp(l[v] - m);
  return m + Math.log(s);
}

/** nll (T), lse (T) of x (T, C) against w (V, C). */
export function headLossRef(
  x: ArrayLike<number>, // (T, C)
  w: ArrayLike<number>, // (V, C)
  targets: ArrayLike<number>, // (T)
  { T, C, V }: HeadDims,
): { nll: Float64Array; lse: Float64Array } {
  const nll = new Float64Array(T); // (T)
  const lse = new Float64Array(T); // (T)
  const l = new Float64Array(V); // (V)
  for (let t = 0; t < T; t++) {
    logitsRow(x, w, t, C, V, l);
    lse[t] = lseOf(l);
    nll[t] = isMasked(targets[t], V) ? 0 : lse[t] - l[targets[t]];
  }
  return { nll, lse };
}

/** forward: loss = scale·Σ_t nll[t], logits = x·wᵀ  so  dx (T, C) = scale·(softmax(logits) − onehot(target))·w. */
export function headBackwardRef(
  x: ArrayLike<number>, // (T, C)
  w: ArrayLike<number>, // (V, C)
  targets: ArrayLike<number>, // (T)
  { T, C, V }: HeadDims,
  scale: number,
): Float64Array {
  const dx = new Float64Array(T * C); // (T, C)
  const l = new Float64Array(V); // (V)
  for (let t = 0; t < T; t++) {
    if (isMasked(targets[t], V)) continue;
    logitsRow(x, w, t, C, V, l);
    const z = lseOf(l);
    for (let v = 0; v < V; v++) {
      const g = scale * (Math.exp(l[v] - z) - (v === targets[t] ? 1 : 0));
      for (let c = 0; c < C; c++) dx[t * C + c] += g * w[v * C + c];
    }
  }
  return dx;
}

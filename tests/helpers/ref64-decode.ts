// Greedy decoding by the independent float64 reference (tests/helpers/ref64.ts): no KV cache; the whole sequence is
// run again for every new token and the last row's logits are taken, as HF generate(use_cache=False) does.
import { ref64, type Ref64Config, type Ref64Lora } from './ref64';

/** Logits (V) of the last token of `ids`, in float64. */
export function refLastLogits(cfg: Ref64Config, weights: Map<string, ArrayLike<number>>, ids: readonly number[], lora: Ref64Lora | null): Float64Array {
  const T = ids.length;
  const r = ref64(cfg, weights, ids, new Array<number>(T).fill(-100), 1, T, lora);
  return r.logits.slice((T - 1) * cfg.vocab, T * cfg.vocab);
}

/**
 * The greedy continuation of `prompt` by n tokens (first index of the largest logit), and at each step the margin
 * between the two largest logits (how far the choice is from a tie).
 */
export function refGreedy(
  cfg: Ref64Config, weights: Map<string, ArrayLike<number>>, prompt: readonly number[], n: number, lora: Ref64Lora | null,
): { tokens: number[]; margins: number[] } {
  const seq = [...prompt];
  const tokens: number[] = [];
  const margins: number[] = [];
  for (let i = 0; i < n; i++) {
    const z = refLastLogits(cfg, weights, seq, lora);
    let best = 0;
    for (let j = 1; j < z.length; j++) if (z[j] > z[best]) best = j;
    let second = -Infinity;
    for (let j = 0; j < z.length; j++) if (j !== best && z[j] > second) second = z[j];
    tokens.push(best);
    margins.push(z[best] - second);
    seq.push(best);
  }
  return { tokens, margins };
}

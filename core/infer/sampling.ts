// Choosing the next token from the logits, as Hugging Face transformers' generate() does with its default processors,
// in their order (GenerationMixin._get_logits_processor):
//   RepetitionPenaltyLogitsProcessor: for every token already in the sequence (prompt and generated), a logit z
//     becomes z / penalty when z > 0 and z · penalty otherwise;
//   temperature 0: greedy, the first index of the largest (penalized) logit;
//   TemperatureLogitsWarper: z / temperature;  TopKLogitsWarper: keep the k largest (0 = off);
//   TopPLogitsWarper: keep the smallest set of most likely tokens whose probability reaches top_p (a token is kept
//     while the mass of the tokens ranked above it is < top_p; at least one);
//   then one draw from the renormalized softmax with a seeded generator (core/common/rng.ts): the same seed and
//   logits give the same tokens on every machine.
// Probabilities are float64. Pure TS.
import type { Sampling } from '../api/generate';
import { ConfigError } from '../common/errors';
import { Rng } from '../common/rng';

/** The token-choice settings of a generation (core/api/generate.ts SamplingSchema): temperature 0 = greedy. */
export type SamplingSettings = Pick<Sampling, 'temperature' | 'topK' | 'topP' | 'repetitionPenalty' | 'seed'>;

export const GREEDY: SamplingSettings = { temperature: 0, topK: 0, topP: 1, repetitionPenalty: 1, seed: 0 };

export function checkSampling(s: SamplingSettings): void {
  if (!(s.temperature >= 0) || !Number.isFinite(s.temperature)) throw new ConfigError(`temperature must be ≥ 0, got ${s.temperature}`, { field: 'temperature' });
  if (!Number.isInteger(s.topK) || s.topK < 0) throw new ConfigError(`top-k must be an integer ≥ 0, got ${s.topK}`, { field: 'topK' });
  if (!(s.topP > 0 && s.topP <= 1)) throw new ConfigError(`top-p must be in (0, 1], got ${s.topP}`, { field: 'topP' });
  if (!(s.repetitionPenalty > 0) || !Number.isFinite(s.repetitionPenalty)) {
    throw new ConfigError(`repetition penalty must be > 0, got ${s.repetitionPenalty}`, { field: 'repetitionPenalty' });
  }
}

/** The logits after the repetition penalty over the tokens in `seen` (a copy; the input is not changed). */
export function penalize(logits: Float32Array, seen: ReadonlySet<number>, penalty: number): Float32Array {
  const out = Float32Array.from(logits);
  if (penalty === 1) return out;
  for (const id of seen) {
    if (id < 0 || id >= out.length) continue;
    const z = out[id];
    out[id] = z > 0 ? z / penalty : z * penalty;
  }
  return out;
}

/** The first index of the largest value; throws on NaN (a broken model, not a choice). */
export function argmax(logits: Float32Array): number {
  let best = 0;
  for (let i = 0; i < logits.length; i++) {
    const z = logits[i];
    if (Number.isNaN(z)) throw new Error(`the model produced a NaN logit (token ${i}); check the weights and the adapter`);
    if (z > logits[best]) best = i;
  }
  return best;
}

/** Candidate tokens and their probabilities (summing to 1), most likely first when filtered. */
export interface Distribution {
  ids: Int32Array;
  probs: Float64Array;
}

/** Token ids by decreasing logit (ties: lower id first), from one native sort of packed float64 keys. */
function byDecreasingLogit(z: Float32Array): Int32Array {
  const n = z.length;
  if (n > 2 ** 21) throw new RangeError(`sampling: a vocabulary of ${n} is over 2^21`);
  const bits = new Uint32Array(Float32Array.from(z).buffer);
  const keys = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const b = bits[i];
    const ordered = b & 0x80000000 ? ~b >>> 0 : (b | 0x80000000) >>> 0; // monotone in the float value
    keys[i] = ordered * 2 ** 21 + (2 ** 21 - 1 - i); // 32 + 21 bits: exact in a float64
  }
  keys.sort();
  const ids = new Int32Array(n);
  for (let r = 0; r < n; r++) ids[r] = 2 ** 21 - 1 - (keys[n - 1 - r] % 2 ** 21);
  return ids;
}

/** The distribution one token is drawn from at temperature > 0: temperature, top-k, top-p, renormalized. */
export function distribution(logits: Float32Array, s: SamplingSettings): Distribution {
  const V = logits.length;
  const filtered = s.topK > 0 || s.topP < 1;
  let ids: Int32Array;
  if (filtered) {
    ids = byDecreasingLogit(logits);
    if (s.topK > 0 && s.topK < V) ids = ids.slice(0, s.topK);
  } else {
    ids = new Int32Array(V);
    for (let i = 0; i < V; i++) ids[i] = i;
  }
  let max = -Infinity;
  for (const id of ids) {
    const z = logits[id];
    if (Number.isNaN(z)) throw new Error(`the model produced a NaN logit (token ${id}); check the weights and the adapter`);
    if (z > max) max = z;
  }
  let probs = new Float64Array(ids.length);
  let sum = 0;
  for (let r = 0; r < ids.length; r++) {
    const p = Math.exp((logits[ids[r]] - max) / s.temperature);
    probs[r] = p;
    sum += p;
  }
  for (let r = 0; r < probs.length; r++) probs[r] /= sum;
  if (s.topP < 1) {
    let keep = 0;
    let above = 0;
    while (keep < probs.length && (keep === 0 || above < s.topP)) above += probs[keep++];
    ids = ids.slice(0, keep);
    probs = probs.slice(0, keep);
    for (let r = 0; r < keep; r++) probs[r] /= above;
  }
  return { ids, probs };
}

/** The token at uniform u ∈ [0, 1) of the cumulative distribution. */
export function draw(d: Distribution, u: number): number {
  let acc = 0;
  for (let r = 0; r < d.probs.length; r++) {
    acc += d.probs[r];
    if (u < acc) return d.ids[r];
  }
  return d.ids[d.ids.length - 1]; // u within rounding of 1
}

/** The token chooser of one generation: the settings, the seeded stream, and the tokens seen so far (for the penalty). */
export class Sampler {
  private readonly rng: Rng;
  private readonly seen: Set<number>;
  constructor(
    readonly settings: SamplingSettings,
    history: Iterable<number>,
  ) {
    checkSampling(settings);
    this.rng = new Rng(settings.seed);
    this.seen = new Set(history);
  }

  /** Choose the next token from the logits (V) and remember it. */
  next(logits: Float32Array): number {
    const z = penalize(logits, this.seen, this.settings.repetitionPenalty);
    const id = this.settings.temperature === 0 ? argmax(z) : draw(distribution(z, this.settings), this.rng.next());
    this.seen.add(id);
    return id;
  }
}

// Sampling (core/infer/sampling.ts), pure TS: greedy, HF's repetition penalty, temperature, top-k and top-p, seeded
// reproducibility, and a statistical test with a fixed seed: over many draws at one position the token frequencies
// match the softmax of the logits at the given temperature after top-p (or top-k), a chi-square test at p = 0.001,
// with tokens outside the nucleus never drawn.
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../core/common/errors';
import { argmax, distribution, penalize, Sampler, type SamplingSettings } from '../../core/infer/sampling';

const LOGITS = Float32Array.of(1.2, -0.4, 2.5, 0.3, 2.5, -1.7, 0.9, 1.8, -0.2, 0.05, 1.1, -3);

const settings = (s: Partial<SamplingSettings>): SamplingSettings => ({ temperature: 1, topK: 0, topP: 1, repetitionPenalty: 1, seed: 0, ...s });

/** The expected distribution, written out here from the definitions: softmax(z/T), then the nucleus renormalized. */
function expected(z: Float32Array, T: number, topP: number, topK: number): Map<number, number> {
  const order = [...z.keys()].sort((a, b) => z[b] - z[a] || a - b);
  const kept = topK > 0 ? order.slice(0, topK) : order;
  const w = kept.map((i) => Math.exp(z[i] / T));
  const total = w.reduce((a, b) => a + b, 0);
  const p = w.map((x) => x / total);
  const out = new Map<number, number>();
  let above = 0;
  for (let r = 0; r < kept.length; r++) {
    if (r > 0 && above >= topP) break;
    out.set(kept[r], p[r]);
    above += p[r];
  }
  const mass = [...out.values()].reduce((a, b) => a + b, 0);
  for (const [k, v] of out) out.set(k, v / mass);
  return out;
}

/** Upper 0.1 % point of chi-square with df degrees of freedom (Wilson–Hilferty). */
function chi2Critical(df: number): number {
  const z = 3.0902; // standard normal, upper 0.1 %
  return df * (1 - 2 / (9 * df) + z * Math.sqrt(2 / (9 * df))) ** 3;
}

function frequencies(s: SamplingSettings, draws: number): Map<number, number> {
  const sampler = new Sampler(s, []);
  const counts = new Map<number, number>();
  for (let i = 0; i < draws; i++) {
    const t = sampler.next(LOGITS);
    counts.set(t, (counts.get(t) ?? 0) + 1);
  }
  return counts;
}

describe('sampling', () => {
  it('greedy (temperature 0) takes the first index of the largest logit', () => {
    expect(argmax(LOGITS)).toBe(2); // 2.5 at 2 and 4: the first
    const s = new Sampler(settings({ temperature: 0 }), []);
    for (let i = 0; i < 5; i++) expect(s.next(LOGITS)).toBe(2);
    expect(() => argmax(Float32Array.of(0, NaN, 1))).toThrow(/NaN logit \(token 1\)/);
  });

  it("repetition penalty is HF's: a seen token's positive logit is divided by it, a negative one multiplied", () => {
    const z = penalize(LOGITS, new Set([2, 5]), 2);
    expect(z[2]).toBeCloseTo(1.25, 6);
    expect(z[5]).toBeCloseTo(-3.4, 6);
    expect(z[4]).toBe(LOGITS[4]);
    expect(LOGITS[2]).toBeCloseTo(2.5, 6); // the input is not changed
    // Greedy with the penalty: token 2 was in the prompt, so the other 2.5 wins; then 4 is penalized too.
    const s = new Sampler(settings({ temperature: 0, repetitionPenalty: 2 }), [2]);
    expect(s.next(LOGITS)).toBe(4);
    expect(s.next(LOGITS)).toBe(7);
  });

  it('top-k 1 and a tiny top-p are greedy at any temperature', () => {
    for (const s of [settings({ topK: 1, temperature: 5 }), settings({ topP: 1e-6, temperature: 5 })]) {
      const d = distribution(LOGITS, s);
      expect([...d.ids], JSON.stringify(s)).toEqual([2]);
      expect([...d.probs]).toEqual([1]);
    }
  });

  it('top-p keeps the smallest most-likely set whose mass reaches p (ties: lower id first)', () => {
    const d = distribution(LOGITS, settings({ topP: 0.6 }));
    const want = expected(LOGITS, 1, 0.6, 0);
    expect([...d.ids]).toEqual([...want.keys()]);
    expect([...d.ids].slice(0, 2)).toEqual([2, 4]);
    d.probs.forEach((p, r) => expect(p, `rank ${r}`).toBeCloseTo(want.get(d.ids[r])!, 12));
  });

  it('the same seed gives the same tokens; another seed other tokens', () => {
    const s = settings({ temperature: 1.3, topP: 0.95, topK: 8, seed: 1234 });
    const run = (seed: number) => {
      const sampler = new Sampler({ ...s, seed }, [1, 2]);
      return Array.from({ length: 64 }, () => sampler.next(LOGITS));
    };
    expect(run(1234)).toEqual(run(1234));
    expect(run(1234)).not.toEqual(run(1235));
  });

  for (const [T, topP, topK] of [[0.7, 0.9, 0], [1.0, 1, 0], [1.5, 0.8, 0], [1.0, 1, 5]] as const) {
    it(`frequencies over 40000 draws match softmax(z / ${T}) after top-p ${topP}, top-k ${topK} (chi-square, fixed seed)`, () => {
      const draws = 40000;
      const want = expected(LOGITS, T, topP, topK);
      const got = frequencies(settings({ temperature: T, topP, topK, seed: 7 }), draws);
      for (const id of got.keys()) expect(want.has(id), `token ${id} is outside the kept set but was drawn`).toBe(true);
      let chi2 = 0;
      for (const [id, p] of want) chi2 += ((got.get(id) ?? 0) - draws * p) ** 2 / (draws * p);
      const df = want.size - 1;
      const crit = chi2Critical(df);
      const worst = Math.max(...[...want].map(([id, p]) => Math.abs((got.get(id) ?? 0) / draws - p)));
      console.log(`T ${T}, top-p ${topP}, top-k ${topK}: ${want.size} tokens kept, chi-square ${chi2.toFixed(2)} (df ${df}, 0.1 % point ${crit.toFixed(2)}), largest frequency error ${worst.toExponential(2)}`);
      expect(chi2).toBeLessThan(crit);
      if (topP < 1 || topK > 0) expect(want.size).toBeLessThan(LOGITS.length); // the filter bites
    });
  }

  it('refuses settings out of range, naming the setting', () => {
    const bad: [Partial<SamplingSettings>, RegExp][] = [
      [{ temperature: -0.1 }, /temperature must be ≥ 0/],
      [{ topK: 1.5 }, /top-k must be an integer ≥ 0/],
      [{ topP: 0 }, /top-p must be in \(0, 1\]/],
      [{ topP: 1.2 }, /top-p must be in \(0, 1\]/],
      [{ repetitionPenalty: 0 }, /repetition penalty must be > 0/],
    ];
    for (const [s, msg] of bad) {
      const e = (() => { try { new Sampler(settings(s), []); return null; } catch (x) { return x; } })();
      expect(e, JSON.stringify(s)).toBeInstanceOf(ConfigError);
      expect((e as Error).message, JSON.stringify(s)).toMatch(msg);
    }
  });
});

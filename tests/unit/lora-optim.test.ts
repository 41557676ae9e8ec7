// LoRA initialisation (PEFT's: A Kaiming-uniform with a = √5, i.e. U(−1/√in, 1/√in); B zero; deterministic from the
// seed), target parsing, and the learning-rate schedule (constant, cosine with linear warmup).
import { describe, expect, it } from 'vitest';
import { parseQwen2Config } from '../../core/model/config';
import { QWEN25_CONFIGS } from '../../core/model/shapes';
import { parseTargets } from '../../core/api/names';
import { initHostAdapter, loraParamCount } from '../../core/train/lora';
import { DEFAULT_OPTIMIZER, lrAt } from '../../core/train/optimizer';

const cfg = parseQwen2Config({ ...QWEN25_CONFIGS['qwen2.5-0.5b'], num_hidden_layers: 2 }, 'test');

describe('LoRA init', () => {
  it('A ~ U(−1/√in, 1/√in) per layer and projection, B = 0, the same for the same seed', () => {
    const a = initHostAdapter(cfg, { rank: 8, alpha: 16, targets: ['q', 'down'], seed: 5 });
    const b = initHostAdapter(cfg, { rank: 8, alpha: 16, targets: ['q', 'down'], seed: 5 });
    const c = initHostAdapter(cfg, { rank: 8, alpha: 16, targets: ['q', 'down'], seed: 6 });
    expect([...a.A.keys()]).toEqual(['0.q', '0.down', '1.q', '1.down']);
    for (const [key, A] of a.A) {
      const inF = key.endsWith('down') ? cfg.intermediate : cfg.hidden;
      expect(A.length, `key ${key}`).toBe(8 * inF);
      const bound = 1 / Math.sqrt(inF);
      let mx = 0;
      let mean = 0;
      let sq = 0;
      for (const v of A) {
        mx = Math.max(mx, Math.abs(v));
        mean += v / A.length;
        sq += (v * v) / A.length;
      }
      expect(mx, `key ${key}`).toBeLessThanOrEqual(bound);
      expect(mx, `key ${key}`).toBeGreaterThan(0.98 * bound);
      expect(Math.abs(mean), `key ${key}`).toBeLessThan(0.05 * bound);
      expect(sq, `key ${key}`).toBeCloseTo((bound * bound) / 3, 2); // variance of U(−b, b)
      expect(a.B.get(key)!.every((v) => v === 0), `key ${key}`).toBe(true);
      expect(b.A.get(key), `key ${key}`).toEqual(A);
      expect(c.A.get(key), `key ${key}`).not.toEqual(A);
    }
    expect(a.A.get('0.q')).not.toEqual(a.A.get('1.q')); // one stream per layer and projection
  });

  it('counts parameters and parses targets', () => {
    expect(loraParamCount(cfg, 8, ['q', 'v'])).toBe(2 * (8 * (896 + 896) + 8 * (896 + 128)));
    expect(parseTargets('v_proj, q')).toEqual(['q', 'v']);
    expect(parseTargets('all')).toEqual(['q', 'k', 'v', 'o', 'gate', 'up', 'down']);
    expect(() => parseTargets('q,mlp')).toThrow(/unknown LoRA target "mlp"/);
  });
});

describe('learning-rate schedule', () => {
  it('constant, and cosine decay to 0 after a linear warmup', () => {
    const c = { ...DEFAULT_OPTIMIZER, lr: 0.1, totalSteps: 10 };
    expect([0, 5, 9].map((s) => lrAt(c, s))).toEqual([0.1, 0.1, 0.1]);
    const w = { ...c, schedule: 'cosine' as const, warmupSteps: 2 };
    expect(lrAt(w, 0)).toBeCloseTo(0.05, 12);
    expect(lrAt(w, 1)).toBeCloseTo(0.1, 12);
    expect(lrAt(w, 2)).toBeCloseTo(0.1, 12);
    expect(lrAt(w, 6)).toBeCloseTo(0.05, 12); // halfway through the decay
    expect(lrAt(w, 10)).toBeCloseTo(0, 12);
  });
});

// The float64 reference's LoRA gradients (its tape of whole-tensor VJPs) against central finite differences of its
// own loss: the reference that the engine's gradients are judged by is itself checked here.
import { describe, expect, it } from 'vitest';
import { ref64, type Ref64Lora } from '../helpers/ref64';
import { makeTinyModel, tokenRows } from '../helpers/tiny';

function randomLora(cfg: { hidden: number; intermediate: number; heads: number; kvHeads: number; layers: number }, rank: number, seed: number): Ref64Lora {
  let s = seed;
  const r = (): number => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return (s / 4294967296 - 0.5) * 0.4;
  };
  const hs = cfg.hidden / cfg.heads;
  const shapes: Record<string, [number, number]> = {
    q: [cfg.heads * hs, cfg.hidden], k: [cfg.kvHeads * hs, cfg.hidden], v: [cfg.kvHeads * hs, cfg.hidden], o: [cfg.hidden, cfg.heads * hs],
    gate: [cfg.intermediate, cfg.hidden], up: [cfg.intermediate, cfg.hidden], down: [cfg.hidden, cfg.intermediate],
  };
  const A = new Map<string, Float64Array>();
  const B = new Map<string, Float64Array>();
  for (let l = 0; l < cfg.layers; l++)
    for (const [p, [out, inF]] of Object.entries(shapes)) {
      A.set(`${l}.${p}`, Float64Array.from({ length: rank * inF }, r));
      B.set(`${l}.${p}`, Float64Array.from({ length: out * rank }, r));
    }
  return { rank, alpha: 8, A, B };
}

describe('ref64 (float64 Qwen2 + LoRA)', () => {
  it('LoRA gradients match central finite differences', () => {
    const m = makeTinyModel({ hidden: 32, intermediate: 64, heads: 4, kvHeads: 2, vocab: 97, layers: 2 });
    try {
      const lora = randomLora(m.cfg, 2, 11);
      const [row0, row1] = tokenRows(m.cfg.vocab, [6, 6], 5);
      const ids = [...row0.ids, ...row1.ids];
      const targets = [...row0.targets, ...row1.targets];
      targets[3] = -100;
      const g = ref64(m.cfg, m.weights, ids, targets, 2, 6, lora, true);
      let worst = 0;
      for (const key of ['0.q', '0.k', '1.v', '1.o', '0.gate', '1.up', '0.down']) {
        for (const which of ['A', 'B'] as const) {
          const t = (which === 'A' ? lora.A : lora.B).get(key)!;
          const grad = (which === 'A' ? g.gradA : g.gradB).get(key)!;
          for (const i of [0, Math.floor(t.length / 2), t.length - 1]) {
            const h = 1e-5;
            const x0 = t[i];
            t[i] = x0 + h;
            const lp = ref64(m.cfg, m.weights, ids, targets, 2, 6, lora).loss;
            t[i] = x0 - h;
            const lm = ref64(m.cfg, m.weights, ids, targets, 2, 6, lora).loss;
            t[i] = x0;
            const fd = (lp - lm) / (2 * h);
            worst = Math.max(worst, Math.abs(fd - grad[i]));
            expect(Math.abs(fd - grad[i]), `key ${key} which ${which} i ${i}`).toBeLessThan(1e-7 + 1e-5 * Math.abs(fd));
          }
        }
      }
      console.log(`[max diff] ref64 LoRA grad vs finite differences: ${worst.toExponential(3)}`);
    } finally {
      m.cleanup();
    }
  });
});

// Training checks on tiny Qwen2 models (f32): one SGD step with lr 1 moves the adapter by exactly the
// gradient; full, mebp and mesp give the same 50-step loss curve; the plan predicts every method's peak within 2 %;
// the ledger returns to its baseline after every step (200 steps, no leak).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunEvent } from '../../core/api/train';
import { GpuContext } from '../../core/gpu/context';
import type { TokenBatch } from '../../core/model/forward';
import { loadModelWeights, PROJECTIONS, type ModelWeights } from '../../core/model/weights';
import { dawnProvider } from '../../core/node/dawn';
import { openModelFolder, type ModelFolder } from '../../core/node/modelfiles';
import { runTrain } from '../../core/node/service/train';
import { exactGradients, maxRelDiff } from '../../core/train/grads';
import { downloadAdapter, initHostAdapter, uploadAdapter, type HostAdapter } from '../../core/train/lora';
import { METHODS } from '../../core/train/methods';
import { DEFAULT_OPTIMIZER, Optimizer } from '../../core/train/optimizer';
import { planTrainStep } from '../../core/train/plan';
import { trainStep, type TrainLoopSpec } from '../../core/train/trainer';
import { gpu } from '../helpers/gpu';
import { refGrads, toRef64 } from '../helpers/lora';
import { ref64 } from '../helpers/ref64';
import { makeTinyModel, tokenRows, type TinyModel } from '../helpers/tiny';

const spec = (method: TrainLoopSpec['method']): TrainLoopSpec => ({
  method, steps: 1, seed: 5, storeH: false, chunkedHead: true, headChunk: 4, mezoEps: 1e-3, valEvery: 0, checkpointEvery: 0, immediateUpdates: true,
});

function nonZero(h: HostAdapter, seed: number): HostAdapter {
  let s = seed >>> 0;
  const r = (): number => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return (s / 4294967296 - 0.5) * 0.2;
  };
  for (const v of [...h.A.values(), ...h.B.values()]) for (let i = 0; i < v.length; i++) v[i] = r();
  return h;
}

function batchOf(vocab: number, B: number, T: number, seed: number): TokenBatch {
  const rows = tokenRows(vocab, Array(B).fill(T), seed);
  return { B, T, inputIds: Int32Array.from(rows.flatMap((r) => r.ids)), targets: Int32Array.from(rows.flatMap((r) => r.targets)) };
}

describe('training methods', () => {
  let m: TinyModel;
  let folder: ModelFolder;
  beforeAll(() => {
    m = makeTinyModel({ seed: 31 });
    folder = openModelFolder(m.dir);
  });
  afterAll(() => m.cleanup());

  it('one SGD step with lr 1 moves the adapter by exactly its gradient (deferred and immediate updates)', async () => {
    const ctx = await gpu();
    const model: ModelWeights = loadModelWeights(ctx, folder.config, 'none', (n) => folder.read(n));
    const start = nonZero(initHostAdapter(folder.config, { rank: 4, alpha: 8, targets: [...PROJECTIONS], seed: 1 }), 3);
    const batch = batchOf(m.cfg.vocab, 2, 9, 41);
    const want = ref64(m.cfg, m.weights, batch.inputIds, batch.targets, 2, 9, toRef64(start), true);
    for (const method of ['full', 'mesp'] as const) {
      const lora = uploadAdapter(ctx, folder.config, start);
      const { grads } = await exactGradients(ctx, model, lora, batch, { method: 'full' });
      const opt = new Optimizer(ctx, lora, { ...DEFAULT_OPTIMIZER, kind: 'sgd', lr: 1 });
      await trainStep(ctx, model, lora, opt, spec(method), 0, batch);
      const after = await downloadAdapter(ctx, lora);
      const moved: HostAdapter = { ...grads, A: new Map(), B: new Map() };
      for (const [k, a0] of start.A) moved.A.set(k, a0.map((v, i) => v - after.A.get(k)![i]));
      for (const [k, b0] of start.B) moved.B.set(k, b0.map((v, i) => v - after.B.get(k)![i]));
      const rel = maxRelDiff(moved, grads);
      const relRef = maxRelDiff(moved, refGrads(grads, want));
      console.log(`[max diff] ${method}: θ₀ − θ₁ vs the engine's gradient rel ${rel.toExponential(3)}, vs the float64 reference gradient rel ${relRef.toExponential(3)}`);
      expect(rel, `method ${method}`).toBeLessThan(1e-5);
      expect(relRef, `method ${method}`).toBeLessThan(1e-4);
      for (const layer of lora.layers) for (const p of lora.targets) ctx.free(layer[p]!.A, layer[p]!.B);
    }
  });

  it('full, mebp and mesp give the same 50-step loss curve from the same seed and data', async () => {
    const data = join(m.dir, 'curve.jsonl');
    writeFileSync(data, tokenRows(m.cfg.vocab, [12, 9, 14, 11, 10, 13, 8, 12], 51).map((r) => JSON.stringify({ input_ids: r.ids })).join('\n') + '\n');
    const curves: Record<string, number[]> = {};
    for (const method of ['full', 'mebp', 'mesp'] as const) {
      const losses: number[] = [];
      await runTrain(
        { modelDir: m.dir, dataPath: data, outDir: join(m.dir, `run-${method}`), method, steps: 50, batch: 2, lr: 0.05, rank: 4, alpha: 8, targets: ['q', 'v', 'o', 'down'], seed: 9, headChunk: 5 },
        {},
        (e: RunEvent) => {
          if (e.type === 'step') losses.push(e.loss);
        },
      );
      curves[method] = losses;
    }
    const worst = Math.max(...curves.full.map((l, i) => Math.max(Math.abs(l - curves.mebp[i]), Math.abs(l - curves.mesp[i]))));
    console.log(`[max diff] 50-step curves: full ${curves.full[0].toFixed(4)} → ${curves.full[49].toFixed(4)}; largest difference mebp/mesp vs full ${worst.toExponential(3)}`);
    expect(curves.full).toHaveLength(50);
    expect(worst).toBeLessThan(1e-6 * curves.full[0]);
    expect(curves.full[49]).toBeLessThan(curves.full[0] - 0.1); // it trains
  });

  it('the plan predicts each method\'s measured peak within 2 %', async () => {
    const T = 16;
    const B = 2;
    for (const method of METHODS) {
      const plan = await planTrainStep({ cfg: folder.config, quant: 'none', seqLen: T, batch: B, method, rank: 4, alpha: 8, targets: ['q', 'k', 'v', 'gate'], headChunk: 4 });
      const ctx = await GpuContext.open(dawnProvider);
      try {
        const model = loadModelWeights(ctx, folder.config, 'none', (n) => folder.read(n));
        const lora = uploadAdapter(ctx, folder.config, initHostAdapter(folder.config, { rank: 4, alpha: 8, targets: ['q', 'k', 'v', 'gate'], seed: 2 }));
        const opt = new Optimizer(ctx, lora, { ...DEFAULT_OPTIMIZER });
        for (let step = 0; step < 2; step++) await trainStep(ctx, model, lora, opt, spec(method), step, batchOf(m.cfg.vocab, B, T, 60 + step));
        const measured = ctx.ledger.snapshot().peakTotal;
        const rel = Math.abs(plan.peakBytes - measured) / measured;
        console.log(`[plan] ${method}: planned ${plan.peakBytes} B, measured ${measured} B, difference ${(rel * 100).toFixed(3)} %`);
        expect(rel, `method ${method}`).toBeLessThan(0.02);
      } finally {
        ctx.destroy();
      }
    }
  });

  it('the ledger returns to the same baseline after every step: no leak over 200 steps, for every method', async () => {
    const small = makeTinyModel({ seed: 33, hidden: 32, intermediate: 64, layers: 1, vocab: 256 });
    try {
      const f = openModelFolder(small.dir);
      for (const method of METHODS) {
        const ctx = await GpuContext.open(dawnProvider);
        try {
          const model = loadModelWeights(ctx, f.config, 'none', (n) => f.read(n));
          const lora = uploadAdapter(ctx, f.config, initHostAdapter(f.config, { rank: 2, alpha: 4, targets: ['q', 'v'], seed: 2 }));
          const opt = new Optimizer(ctx, lora, { ...DEFAULT_OPTIMIZER, kind: method === 'mezo' ? 'sgd' : 'adamw' });
          const baseline = ctx.ledger.liveBytes;
          const batch = batchOf(256, 1, 8, 70);
          for (let step = 0; step < 200; step++) {
            await trainStep(ctx, model, lora, opt, spec(method), step, batch);
            if (ctx.ledger.liveBytes !== baseline) throw new Error(`${method}: ${ctx.ledger.liveBytes - baseline} bytes left live after step ${step + 1}: ${JSON.stringify(ctx.ledger.liveEntries().slice(0, 5))}`);
          }
          console.log(`[ledger] ${method}: back to ${baseline} B after each of 200 steps`);
        } finally {
          ctx.destroy();
        }
      }
    } finally {
      small.cleanup();
    }
  });
});

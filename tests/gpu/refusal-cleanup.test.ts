// The engine cleans up after a refusal: for every method, a training step refused by the cap mid-way (and an eval
// batch refused mid-forward) frees everything it allocated, so the ledger is back at its baseline, and the same
// context then runs the next step: its loss and adapter are the bits a fresh context computes from the same state.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { METHODS } from '../../core/api/names';
import { GpuContext } from '../../core/gpu/context';
import { forwardNll, type TokenBatch } from '../../core/model/forward';
import { loadModelWeights } from '../../core/model/weights';
import { dawnProvider } from '../../core/node/dawn';
import { openModelFolder, type ModelFolder } from '../../core/node/modelfiles';
import { downloadAdapter, initHostAdapter, uploadAdapter, type HostAdapter } from '../../core/train/lora';
import { DEFAULT_OPTIMIZER, Optimizer } from '../../core/train/optimizer';
import { planForward, planTrainStep } from '../../core/train/plan';
import { trainStep, type TrainLoopSpec } from '../../core/train/trainer';
import { expectCleanRefusal } from '../helpers/refusal';
import { makeTinyModel, tokenRows, type TinyModel } from '../helpers/tiny';

const T = 12;
const LORA = { rank: 4, alpha: 8, targets: ['q', 'k', 'v', 'up'] as const };
const spec = (method: TrainLoopSpec['method']): TrainLoopSpec => ({
  method, steps: 4, seed: 9, storeH: false, chunkedHead: true, headChunk: 4, mezoEps: 1e-3, valEvery: 0, checkpointEvery: 0, immediateUpdates: true,
});
const OPT = { ...DEFAULT_OPTIMIZER, kind: 'sgd' as const, lr: 0.05 };

let m: TinyModel;
let folder: ModelFolder;
let batch: TokenBatch;
let start: HostAdapter;
beforeAll(() => {
  m = makeTinyModel({ seed: 77 });
  folder = openModelFolder(m.dir);
  const row = tokenRows(m.cfg.vocab, [T], 5)[0];
  batch = { B: 1, T, inputIds: Int32Array.from(row.ids), targets: Int32Array.from(row.targets) };
  start = initHostAdapter(folder.config, { ...LORA, targets: [...LORA.targets], seed: 3 });
});
afterAll(() => m.cleanup());

/** One step on a fresh context from an adapter: its loss and the adapter after it. */
async function freshStep(method: TrainLoopSpec['method'], from: HostAdapter): Promise<{ loss: number; after: HostAdapter }> {
  const ctx = await GpuContext.open(dawnProvider);
  try {
    const model = loadModelWeights(ctx, folder.config, 'none', (n) => folder.read(n));
    const lora = uploadAdapter(ctx, folder.config, from);
    const r = await trainStep(ctx, model, lora, new Optimizer(ctx, lora, OPT), spec(method), 1, batch);
    return { loss: r.loss, after: await downloadAdapter(ctx, lora) };
  } finally {
    ctx.destroy();
  }
}

describe('cleanup after a refusal', () => {
  for (const method of METHODS) {
    it(`${method}: a step refused mid-way leaves the ledger at its baseline, and the same context runs the next step`, async () => {
      const plan = await planTrainStep({ cfg: folder.config, quant: 'none', seqLen: T, batch: 1, method, ...LORA, optimizer: OPT, headChunk: 4 });
      const ctx = await GpuContext.open(dawnProvider);
      try {
        const model = loadModelWeights(ctx, folder.config, 'none', (n) => folder.read(n));
        const lora = uploadAdapter(ctx, folder.config, start);
        const opt = new Optimizer(ctx, lora, OPT);
        const baseline = ctx.ledger.liveBytes;
        const err = await expectCleanRefusal(ctx, plan.peakBytes, () => trainStep(ctx, model, lora, opt, spec(method), 0, batch), `${method} step`);
        console.log(`[refusal] ${method}: the halfway cap refused ${err.request.category}:${err.request.name}; live back to ${baseline} B`);
        // The next request on the same context: a whole step, then the ledger at its baseline again.
        const state = await downloadAdapter(ctx, lora); // what the refused step left (MeSP may have updated some layers)
        const r = await trainStep(ctx, model, lora, opt, spec(method), 1, batch);
        expect(ctx.ledger.liveBytes, `${method}: live after the next step`).toBe(baseline);
        const fresh = await freshStep(method, state);
        expect(r.loss, `${method}: the next step's loss equals a fresh context's`).toBe(fresh.loss);
        const after = await downloadAdapter(ctx, lora);
        for (const [k, v] of after.A) expect(v, `${method}: lora_A ${k} after the next step`).toEqual(fresh.after.A.get(k));
        for (const [k, v] of after.B) expect(v, `${method}: lora_B ${k} after the next step`).toEqual(fresh.after.B.get(k));
      } finally {
        ctx.destroy();
      }
    });
  }

  it('eval: a forward refused mid-way leaves the ledger at its baseline; the next forward gives the same bits as before', async () => {
    const plan = await planForward({ cfg: folder.config, quant: 'none', seqLen: T, batch: 1, lora: LORA });
    const ctx = await GpuContext.open(dawnProvider);
    try {
      const model = loadModelWeights(ctx, folder.config, 'none', (n) => folder.read(n));
      const lora = uploadAdapter(ctx, folder.config, start);
      const first = await forwardNll(ctx, model, lora, batch);
      await expectCleanRefusal(ctx, plan.peakBytes, () => forwardNll(ctx, model, lora, batch), 'eval forward');
      expect(Array.from(await forwardNll(ctx, model, lora, batch)), 'the forward after the refusal').toEqual(Array.from(first));
    } finally {
      ctx.destroy();
    }
  });
});

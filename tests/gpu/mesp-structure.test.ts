// MeSP's structure, pinned (the MeSP paper; core/train/methods.ts): during a MeSP step no LoRA h = x·Aᵀ is ever stored —
// no saved-table entry l<l>.h_<proj> is allocated, and the h it recomputes (l<l>.<proj>.lora_h, a workspace
// temporary) is live one at a time — while --store-h keeps every h of the layer it replays, MeBP keeps one layer's
// autograd table (h included) at a time, and full backprop keeps every layer's. Counts for a 2-layer model with LoRA
// on all 7 projections. Read from the ledger's timeline of a
// real step on Dawn.
import { afterAll, describe, expect, it } from 'vitest';
import { PROJECTIONS } from '../../core/api/names';
import { GpuContext } from '../../core/gpu/context';
import type { TimelineEvent } from '../../core/gpu/ledger';
import { loadModelWeights } from '../../core/model/weights';
import { dawnProvider } from '../../core/node/dawn';
import { openModelFolder, type ModelFolder } from '../../core/node/modelfiles';
import { initHostAdapter, uploadAdapter } from '../../core/train/lora';
import { DEFAULT_OPTIMIZER, Optimizer } from '../../core/train/optimizer';
import { trainStep, type TrainLoopSpec } from '../../core/train/trainer';
import { makeTinyModel, tokenRows, type TinyModel } from '../helpers/tiny';

const STORED_H = /^l\d+\.h_(q|k|v|o|gate|up|down)$/;
const TEMP_H = /^l\d+\.(q|k|v|o|gate|up|down)\.lora_h$/;
const T = 10;

const m: TinyModel = makeTinyModel({ seed: 83 });
afterAll(() => m.cleanup());
const folder: ModelFolder = openModelFolder(m.dir);

interface HStats {
  /** Allocations of stored h (saved-table entries), by category. */
  stored: { category: string | null; name: string }[];
  /** Most stored h live at one moment. */
  maxStoredLive: number;
  tempAllocs: number;
  maxTempLive: number;
}

/** The ledger's timeline of one step (the second: the first compiles), as what it did with h. */
async function hDuringStep(variant: Pick<TrainLoopSpec, 'method' | 'storeH'>): Promise<HStats> {
  const ctx = await GpuContext.open(dawnProvider);
  try {
    const model = loadModelWeights(ctx, folder.config, 'none', (n) => folder.read(n));
    const lora = uploadAdapter(ctx, folder.config, initHostAdapter(folder.config, { rank: 4, alpha: 8, targets: [...PROJECTIONS], seed: 2 }));
    const opt = new Optimizer(ctx, lora, { ...DEFAULT_OPTIMIZER, kind: 'sgd' });
    const spec: TrainLoopSpec = { ...variant, steps: 2, seed: 1, chunkedHead: true, headChunk: 4, mezoEps: 1e-3, valEvery: 0, checkpointEvery: 0, immediateUpdates: true };
    const row = tokenRows(m.cfg.vocab, [T], 9)[0];
    const batch = { B: 1, T, inputIds: Int32Array.from(row.ids), targets: Int32Array.from(row.targets) };
    await trainStep(ctx, model, lora, opt, spec, 0, batch);
    ctx.ledger.timeline = [];
    ctx.ledger.recording = true;
    await trainStep(ctx, model, lora, opt, spec, 1, batch);
    ctx.ledger.recording = false;
    return stats(ctx.ledger.timeline);
  } finally {
    ctx.destroy();
  }
}

function stats(tl: TimelineEvent[]): HStats {
  const s: HStats = { stored: [], maxStoredLive: 0, tempAllocs: 0, maxTempLive: 0 };
  let stored = 0;
  let temp = 0;
  for (const e of tl) {
    const d = e.kind === 'alloc' ? 1 : e.kind === 'free' ? -1 : 0;
    if (STORED_H.test(e.name)) {
      stored += d;
      if (d > 0) s.stored.push({ category: e.category, name: e.name });
    } else if (TEMP_H.test(e.name)) {
      temp += d;
      if (d > 0) s.tempAllocs++;
    }
    s.maxStoredLive = Math.max(s.maxStoredLive, stored);
    s.maxTempLive = Math.max(s.maxTempLive, temp);
  }
  return s;
}

describe('MeSP never stores h = x·Aᵀ', () => {
  const L = 2; // layers of the tiny model
  const P = PROJECTIONS.length;

  it('MeSP: no stored h at any moment of a step; each recomputed h is a temporary, live one at a time', async () => {
    const s = await hDuringStep({ method: 'mesp', storeH: false });
    console.log(`[h] mesp: ${s.stored.length} stored h, ${s.tempAllocs} recomputed h, at most ${s.maxTempLive} live at once`);
    expect(s.stored, 'stored h during a MeSP step').toEqual([]);
    expect(s.maxTempLive, 'recomputed h live at once').toBe(1);
    // h is computed in the forward, again in the replay (which stops at m: no down projection) and again in the
    // backward.
    expect(s.tempAllocs, 'recomputations of h').toBe(L * P + L * (P - 1) + L * P);
  });

  it('MeSP --store-h: the replay keeps every h it computes (saved-table entries, activations), one layer at a time', async () => {
    const s = await hDuringStep({ method: 'mesp', storeH: true });
    console.log(`[h] mesp --store-h: ${s.stored.length} stored h, at most ${s.maxStoredLive} live at once`);
    // The replay stops at m, so it computes (and keeps) every h but the down projection's.
    expect(s.stored.length, 'stored h').toBe(L * (P - 1));
    expect(new Set(s.stored.map((x) => x.category)), 'their category').toEqual(new Set(['activations']));
    expect(s.maxStoredLive, 'stored h live at once (one layer\'s)').toBe(P - 1);
  });

  it('MeBP keeps one layer\'s h at a time, full backprop every layer\'s', async () => {
    const mebp = await hDuringStep({ method: 'mebp', storeH: false });
    const full = await hDuringStep({ method: 'full', storeH: false });
    console.log(`[h] mebp: at most ${mebp.maxStoredLive} stored h live; full: ${full.maxStoredLive}`);
    expect(mebp.maxStoredLive, 'mebp: stored h live at once').toBe(P);
    expect(full.maxStoredLive, 'full: stored h live at once').toBe(L * P);
  });
});

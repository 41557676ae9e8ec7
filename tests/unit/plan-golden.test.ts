// The memory plan of Qwen2.5-0.5B (the paper's setting: int4 weights, seq 256, batch 1, LoRA rank 8 on q and v, SGD),
// pinned to the byte for every method and category (core/train/plan.ts, the dry run of the real schedule). Weights,
// adapter and gradients are also derived here from the shapes, so a changed number says which part of the schedule
// moved; the activations and workspace are golden values. docs/benchmarks.md quotes these plans (in MB).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CATEGORIES, METHODS, type ByCategory, type MethodName } from '../../core/api/names';
import { qwen25Config, type Qwen25Id } from '../../core/model/shapes';
import { projShape } from '../../core/model/weights';
import { loraParamCount } from '../../core/train/lora';
import { planTrainStep } from '../../core/train/plan';
import { runMain } from '../helpers/cli';

const cfg = qwen25Config('qwen2.5-0.5b');
const LORA = { rank: 8, alpha: 16, targets: ['q', 'v'] as const };
const plan = (method: MethodName, o: { storeH?: boolean; chunkedHead?: boolean } = {}) =>
  planTrainStep({ cfg, quant: 'int4', seqLen: 256, batch: 1, method, ...LORA, optimizer: { kind: 'sgd' }, ...o });

// int4: 4 bits a weight plus an f16 scale and bias per group of 64 (core/kernels/weight.ts): rows·cols·(1/2 + 4/64) bytes.
const int4 = (rows: number, cols: number): number => rows * (cols / 8 + cols / 64) * 4;
const layerWeights = (['q', 'k', 'v', 'o', 'gate', 'up', 'down'] as const).reduce((s, p) => s + int4(...projShape(cfg, p)), 0)
  + 2 * cfg.hidden * 4 /* norms */ + (cfg.heads + 2 * cfg.kvHeads) * cfg.headDim * 4 /* q, k, v biases */;
const WEIGHTS = int4(cfg.vocab, cfg.hidden) /* tied embedding and head */ + cfg.layers * layerWeights + cfg.hidden * 4 /* final norm */;
const projLora = (p: 'q' | 'v'): number => { const [out, inF] = projShape(cfg, p); return LORA.rank * (inF + out) * 4; };
const ADAPTER = cfg.layers * LORA.targets.reduce((s, p) => s + projLora(p), 0);

/** Peak by category and at the total's peak, to the byte. */
const GOLDEN: Record<MethodName, { peak: number; atPeak: ByCategory; peakByCategory: ByCategory }> = {
  full: {
    peak: 1026071408,
    atPeak: { weights: WEIGHTS, adapter: ADAPTER, grads: 0, optimizer: 0, activations: 742968320, workspace: 2801008, kvcache: 0 },
    peakByCategory: { weights: WEIGHTS, adapter: ADAPTER, grads: ADAPTER, optimizer: 0, activations: 742968320, workspace: 15992848, kvcache: 0 },
  },
  mebp: {
    peak: 462543728,
    atPeak: { weights: WEIGHTS, adapter: ADAPTER, grads: 0, optimizer: 0, activations: 179440640, workspace: 2801008, kvcache: 0 },
    peakByCategory: { weights: WEIGHTS, adapter: ADAPTER, grads: ADAPTER, optimizer: 0, activations: 179440640, workspace: 15992848, kvcache: 0 },
  },
  mesp: {
    peak: 323182096,
    atPeak: { weights: WEIGHTS, adapter: ADAPTER, grads: 0, optimizer: 0, activations: 36848640, workspace: 6031376, kvcache: 0 },
    // Immediate updates: one projection's dA and dB live at a time, the largest being q's.
    peakByCategory: { weights: WEIGHTS, adapter: ADAPTER, grads: projLora('q'), optimizer: 0, activations: 36848640, workspace: 15992848, kvcache: 0 },
  },
  mezo: {
    peak: 300955152,
    atPeak: { weights: WEIGHTS, adapter: ADAPTER, grads: 0, optimizer: 0, activations: 0, workspace: 20653072, kvcache: 0 },
    peakByCategory: { weights: WEIGHTS, adapter: ADAPTER, grads: 0, optimizer: 0, activations: 0, workspace: 20653072, kvcache: 0 },
  },
};

describe('the Qwen2.5-0.5B plan, to the byte', () => {
  it('weights and adapter follow from the shapes', () => {
    expect(WEIGHTS).toBe(278139392);
    expect(ADAPTER).toBe(2162688);
  });

  for (const method of METHODS) {
    it(`${method}: the peak and every category`, async () => {
      const r = await plan(method);
      const g = GOLDEN[method];
      console.log(`[plan 0.5B] ${method}: peak ${r.peakBytes} B, working set ${r.peakWorkingSet} B`);
      expect(r.peakBytes, `${method}: peak`).toBe(g.peak);
      for (const c of CATEGORIES) {
        expect(r.atPeak[c], `${method}: ${c} at the peak`).toBe(g.atPeak[c]);
        expect(r.peakByCategory[c], `${method}: ${c}'s own peak`).toBe(g.peakByCategory[c]);
      }
      expect(CATEGORIES.reduce((s, c) => s + r.atPeak[c], 0), `${method}: the categories at the peak add up to it`).toBe(r.peakBytes);
    });
  }

  it('MeSP\'s ablations: --store-h adds exactly one layer\'s h; --no-chunked-head materializes the (T, V) logits', async () => {
    const mesp = await plan('mesp');
    const storeH = await plan('mesp', { storeH: true });
    const h = LORA.targets.length * 256 * LORA.rank * 4; // h (T, R) of each target of the replayed layer
    expect(storeH.peakBytes - mesp.peakBytes, 'store-h over mesp').toBe(h);
    expect(storeH.atPeak.activations - mesp.atPeak.activations, 'store-h activations over mesp').toBe(h);
    const unchunked = await plan('mesp', { chunkedHead: false });
    expect(unchunked.atPeak.activations, 'logits kept whole (mesp --no-chunked-head)').toBeGreaterThanOrEqual(256 * cfg.vocab * 4);
    expect(unchunked.peakBytes, 'mesp --no-chunked-head').toBe(GOLDEN.mebp.peak);
  });
});

const ALL = ['q', 'k', 'v', 'o', 'gate', 'up', 'down'] as const;

describe('--precision f16 plans: all seven projections, seq 256, rank 8, int4, SGD', () => {
  /** MeSP's working-set goals in f16 (MB = 10⁶ bytes): the paper's 136 MB for 0.5B, halved and then some. */
  const GOAL: Partial<Record<Qwen25Id, number>> = { 'qwen2.5-0.5b': 34e6, 'qwen2.5-3b': 100e6 };
  for (const id of ['qwen2.5-0.5b', 'qwen2.5-1.5b', 'qwen2.5-3b'] as const) {
    it(`${id}: the adapter and checkpoints take half their f32 bytes, and MeSP's working set meets its goal`, async () => {
      const c = qwen25Config(id);
      const p = { cfg: c, quant: 'int4' as const, seqLen: 256, batch: 1, method: 'mesp' as const, rank: 8, alpha: 16, targets: ALL, optimizer: { kind: 'sgd' as const } };
      const f32 = await planTrainStep({ ...p, precision: 'f32' });
      const f16 = await planTrainStep({ ...p, precision: 'f16' });
      const params = loraParamCount(c, 8, ALL);
      console.log(`[plan f16] ${id} mesp: working set ${(f32.peakWorkingSet / 1e6).toFixed(2)} MB in f32, ${(f16.peakWorkingSet / 1e6).toFixed(2)} MB in f16; adapter ${f16.peakByCategory.adapter} B, activations ${f16.peakByCategory.activations} B`);
      expect(f32.peakByCategory.adapter, `${id}: f32 adapter`).toBe(4 * params);
      expect(f16.peakByCategory.adapter, `${id}: f16 adapter`).toBe(2 * params);
      // the checkpoints: the residual stream entering each layer and after the last, (L + 1) × (T, C) halves
      expect(f16.peakByCategory.activations, `${id}: f16 activations hold the checkpoints`).toBeGreaterThanOrEqual((c.layers + 1) * 256 * c.hidden * 2);
      expect(f16.peakWorkingSet, `${id}: f16 below f32`).toBeLessThan(f32.peakWorkingSet);
      const goal = GOAL[id];
      if (goal !== undefined) expect(f16.peakWorkingSet, `${id}: MeSP working set in f16 ≤ ${goal / 1e6} MB`).toBeLessThanOrEqual(goal);
    });
  }

  it('mesp bench --plan-only prints and writes these plans without a GPU', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mesp-plan-only-'));
    try {
      const json = join(dir, 'plan.json');
      const r = await runMain(['bench', '--shape', 'qwen2.5-0.5b', '--methods', 'mebp,mesp', '--targets', 'all', '--precision', 'f16', '--plan-only', '--json', json]);
      expect(r.code, r.err).toBe(0);
      expect(r.out).toMatch(/\| mesp +\| 311\.8 MB +\| 33\.6 MB/);
      expect(r.out).toMatch(/f16 arithmetic:/);
      const out = JSON.parse(readFileSync(json, 'utf8')) as { planOnly: boolean; methods: Record<string, { predictedWorkingSetBytes: number; projections: unknown[] }> };
      const direct = await planTrainStep({ cfg, quant: 'int4', seqLen: 256, batch: 1, method: 'mesp', rank: 8, alpha: 16, targets: ALL, optimizer: { kind: 'sgd', lr: 1e-4 }, precision: 'f16' });
      expect(out.planOnly).toBe(true);
      expect(out.methods.mesp.predictedWorkingSetBytes).toBe(direct.peakWorkingSet);
      expect(out.methods.mesp.projections.length).toBeGreaterThan(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

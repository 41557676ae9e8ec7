// The memory plan of Qwen2.5-0.5B (the paper's setting: int4 weights, seq 256, batch 1, LoRA rank 8 on q and v, SGD),
// pinned to the byte for every method and category (core/train/plan.ts, the dry run of the real schedule). Weights,
// adapter and gradients are also derived here from the shapes, so a changed number says which part of the schedule
// moved; the activations and workspace are golden values. docs/benchmarks.md quotes these plans (in MB).
import { describe, expect, it } from 'vitest';
import { CATEGORIES, METHODS, type ByCategory, type MethodName } from '../../core/api/names';
import { qwen25Config } from '../../core/model/shapes';
import { projShape } from '../../core/model/weights';
import { planTrainStep } from '../../core/train/plan';

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
    peak: 328162832,
    atPeak: { weights: WEIGHTS, adapter: ADAPTER, grads: 0, optimizer: 0, activations: 41829376, workspace: 6031376, kvcache: 0 },
    // Immediate updates: one projection's dA and dB live at a time, the largest being q's.
    peakByCategory: { weights: WEIGHTS, adapter: ADAPTER, grads: projLora('q'), optimizer: 0, activations: 41829376, workspace: 15992848, kvcache: 0 },
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

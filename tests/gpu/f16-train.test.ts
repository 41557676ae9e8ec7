// --precision f16 on a tiny Qwen2 model (checkpoints, the layers' saved tables and the LoRA weights stored in f16,
// core/train/methods.ts, core/model/block.ts): full, mebp and mesp agree bit for bit in f16 as in f32; the f16 loss is
// within 1e-2 relative of f32's and the gradients' cosine with f32's is ≥ 0.999; an f16 update stays f16 and moves the
// weights as the f32 one does; the plan counts the f16 storage and predicts the measured peak; an adapter without
// shader-f16 is refused.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pickSpec, TRAIN_DEFAULTS } from '../../core/api/train';
import type { LoraAdapter } from '../../core/model/adapter';
import { forwardNll, type TokenBatch } from '../../core/model/forward';
import { KvDecoder } from '../../core/infer/decoder';
import { loadModelWeights, type ModelWeights } from '../../core/model/weights';
import { dawnProvider } from '../../core/node/dawn';
import { openModelFolder, type ModelFolder } from '../../core/node/modelfiles';
import { GpuContext } from '../../core/gpu/context';
import { exactGradients, gradientCosine, maxRelDiff } from '../../core/train/grads';
import { downloadAdapter, uploadAdapter, type HostAdapter } from '../../core/train/lora';
import { roundF16Ref } from '../../core/reference/f16';
import { DEFAULT_OPTIMIZER, Optimizer } from '../../core/train/optimizer';
import { planTrainStep } from '../../core/train/plan';
import { LOOP_SPEC_KEYS, trainStep, type TrainLoopSpec } from '../../core/train/trainer';
import { gpu } from '../helpers/gpu';
import { randomAdapter } from '../helpers/lora';
import { makeTinyModel, tokenRows, type TinyModel } from '../helpers/tiny';

/** Values whose bits differ between two gradient sets. */
function bitDiffs(a: HostAdapter, b: HostAdapter): number {
  let n = 0;
  for (const side of ['A', 'B'] as const) {
    for (const [k, x] of a[side]) {
      const y = b[side].get(k)!;
      for (let i = 0; i < x.length; i++) if (!Object.is(x[i], y[i])) n++;
    }
  }
  return n;
}

describe('--precision f16: checkpoints, tables and LoRA weights in f16', () => {
  let m: TinyModel;
  let folder: ModelFolder;
  let model: ModelWeights;
  let lora: LoraAdapter;
  let lora16: LoraAdapter;
  let batch: TokenBatch;

  beforeAll(async () => {
    const ctx = await gpu();
    m = makeTinyModel({ seed: 27 });
    folder = openModelFolder(m.dir);
    model = loadModelWeights(ctx, folder.config, 'none', (n) => folder.read(n));
    lora = uploadAdapter(ctx, folder.config, randomAdapter(m, 4, 8, 77));
    lora16 = uploadAdapter(ctx, folder.config, randomAdapter(m, 4, 8, 77), 'f16');
    const rows = tokenRows(m.cfg.vocab, [12, 12], 45);
    batch = { B: 2, T: 12, inputIds: Int32Array.from(rows.flatMap((r) => r.ids)), targets: Int32Array.from(rows.flatMap((r) => r.targets)) };
  });
  afterAll(() => m.cleanup());

  it('full = mebp = mesp in f16 as in f32; f16 loss within 1e-2 of f32 and gradient cosine ≥ 0.999', async () => {
    const ctx = await gpu();
    const run = async (method: 'full' | 'mebp' | 'mesp', precision: 'f32' | 'f16') =>
      exactGradients(ctx, model, precision === 'f16' ? lora16 : lora, batch, { method, precision, headChunk: 5 });
    const f32 = { full: await run('full', 'f32'), mebp: await run('mebp', 'f32'), mesp: await run('mesp', 'f32') };
    const f16 = { full: await run('full', 'f16'), mebp: await run('mebp', 'f16'), mesp: await run('mesp', 'f16') };
    for (const method of ['full', 'mebp', 'mesp'] as const) {
      const relLoss = Math.abs(f16[method].loss - f32[method].loss) / Math.abs(f32[method].loss);
      const cos = gradientCosine(f16[method].grads, f32[method].grads);
      const rel = maxRelDiff(f16[method].grads, f32[method].grads);
      console.log(`[max diff] ${method} f16 vs f32: loss ${f16[method].loss.toFixed(6)} vs ${f32[method].loss.toFixed(6)} (rel ${relLoss.toExponential(3)}), gradient cosine ${cos.toFixed(7)}, max rel ${rel.toExponential(3)}`);
      expect(relLoss, method).toBeLessThanOrEqual(1e-2);
      expect(cos, method).toBeGreaterThanOrEqual(0.999);
    }
    for (const p of ['f32', 'f16'] as const) {
      const r = p === 'f32' ? f32 : f16;
      const fm = bitDiffs(r.full.grads, r.mebp.grads);
      const relMesp = maxRelDiff(r.mesp.grads, r.full.grads);
      console.log(`[max diff] ${p}: full vs mebp ${fm} values with different bits (loss ${r.full.loss === r.mebp.loss ? 'equal' : 'differs'}); mesp vs full max rel ${relMesp.toExponential(3)}, ${bitDiffs(r.mesp.grads, r.full.grads)} values differ in bits`);
      expect(fm, `${p}: full vs mebp`).toBe(0);
      expect(r.full.loss, `${p}: full vs mebp loss`).toBe(r.mebp.loss);
      expect(relMesp, `${p}: mesp vs full`).toBe(0);
      expect(bitDiffs(r.mesp.grads, r.full.grads), `${p}: mesp vs full`).toBe(0);
      expect(r.mesp.loss, `${p}: mesp vs full loss`).toBe(r.full.loss);
    }
  });

  it('an f16 SGD step is the f32 update of the f16 weights rounded once, and they stay f16', async () => {
    const ctx = await gpu();
    const l16 = uploadAdapter(ctx, folder.config, randomAdapter(m, 4, 8, 91), 'f16');
    expect(l16.layers[0].q!.A.dtype).toBe('f16');
    const before = await downloadAdapter(ctx, l16);
    const g = await exactGradients(ctx, model, l16, batch, { method: 'mesp', precision: 'f16', headChunk: 5 });
    const lr = 0.05;
    const opt = new Optimizer(ctx, l16, { ...DEFAULT_OPTIMIZER, kind: 'sgd', lr, schedule: 'constant', warmupSteps: 0 });
    const spec: TrainLoopSpec = { ...pickSpec(TRAIN_DEFAULTS, LOOP_SPEC_KEYS), method: 'mesp', steps: 1, headChunk: 5, precision: 'f16', valEvery: 0, checkpointEvery: 0, immediateUpdates: true };
    await trainStep(ctx, model, l16, opt, spec, 0, batch);
    const after = await downloadAdapter(ctx, l16);
    let moved = 0;
    let n = 0;
    let worstUlps = 0;
    for (const side of ['A', 'B'] as const) {
      for (const [k, b] of before[side]) {
        const a = after[side].get(k)!;
        const gk = g.grads[side].get(k)!;
        const want = roundF16Ref(b.map((v, i) => Math.fround(v - Math.fround(Math.fround(lr) * gk[i])))); // f32 update, one f16 rounding
        for (let i = 0; i < b.length; i++) {
          n++;
          if (a[i] !== b[i]) moved++;
          expect(roundF16Ref([a[i]])[0], `${side} ${k}[${i}] is an f16 value`).toBe(a[i]);
          const ulp = Math.max(2 ** -24, 2 ** (Math.floor(Math.log2(Math.abs(want[i]) || 2 ** -24)) - 10)); // f16 spacing at the value
          const ulps = Math.abs(a[i] - want[i]) / ulp;
          worstUlps = Math.max(worstUlps, ulps);
          expect(ulps, `${side} ${k}[${i}]: ${a[i]} vs ${want[i]}`).toBeLessThanOrEqual(1); // FMA or a tie may round the other way
        }
      }
    }
    console.log(`[max diff] f16 SGD step: ${moved} of ${n} weights moved; largest difference from the CPU update ${worstUlps} f16 ulp`);
    expect(moved, 'the step moves the f16 weights').toBeGreaterThan(n / 2);
  });

  it('eval and decoding with f16 storage: per-token losses and logits within 1e-2 of f32', async () => {
    const ctx = await gpu();
    const nll32 = await forwardNll(ctx, model, lora, batch, 'f32');
    const nll16 = await forwardNll(ctx, model, lora16, batch, 'f16');
    let worst = 0;
    for (let i = 0; i < nll32.length; i++) if (nll32[i] > 0) worst = Math.max(worst, Math.abs(nll16[i] - nll32[i]) / nll32[i]);
    console.log(`[max diff] eval f16 vs f32: per-token NLL max rel ${worst.toExponential(3)}`);
    expect(worst).toBeLessThanOrEqual(1e-2);
    const prompt = Array.from(batch.inputIds.subarray(0, 10));
    const logitsOf = async (l: LoraAdapter, precision: 'f32' | 'f16') => {
      const dec = KvDecoder.open(ctx, model, l, prompt.length + 2, { precision });
      try {
        const first = await dec.prefill(prompt);
        return [first, await dec.step(0)];
      } finally {
        dec.free();
      }
    };
    const a = await logitsOf(lora, 'f32');
    const b = await logitsOf(lora16, 'f16');
    for (const [k, name] of [[0, 'prefill'], [1, 'decode step']] as const) {
      const scale = a[k].reduce((mx, v) => Math.max(mx, Math.abs(v)), 0);
      const d = a[k].reduce((mx, v, i) => Math.max(mx, Math.abs(v - b[k][i])), 0);
      console.log(`[max diff] ${name} logits f16 vs f32: ${d.toExponential(3)} (largest |logit| ${scale.toFixed(3)})`);
      expect(d / scale, name).toBeLessThanOrEqual(1e-2);
    }
  });

  it('the plan counts the f16 storage and predicts the measured peak', async () => {
    for (const method of ['full', 'mesp'] as const) {
      const p = { cfg: folder.config, quant: 'none' as const, seqLen: batch.T, batch: batch.B, method, rank: 4, alpha: 8, targets: lora.targets, optimizer: { kind: 'sgd' as const } };
      const plan32 = await planTrainStep({ ...p, precision: 'f32' });
      const plan16 = await planTrainStep({ ...p, precision: 'f16' });
      // the residual stream entering each layer and after the last: (L + 1) checkpoints of (N, C)
      const ckpt = (folder.config.layers + 1) * batch.B * batch.T * folder.config.hidden;
      console.log(`[plan] ${method}: peak activations f32 ${plan32.peakByCategory.activations} B, f16 ${plan16.peakByCategory.activations} B; checkpoints ${4 * ckpt} → ${2 * ckpt} B; peak ${plan32.peakBytes} → ${plan16.peakBytes} B`);
      expect(plan16.peakByCategory.activations, method).toBeLessThan(plan32.peakByCategory.activations);
      const ctx = await GpuContext.open(dawnProvider, { capBytes: plan16.peakBytes });
      try {
        const w = loadModelWeights(ctx, folder.config, 'none', (n) => folder.read(n));
        const l = uploadAdapter(ctx, folder.config, randomAdapter(m, 4, 8, 77), 'f16');
        const opt = new Optimizer(ctx, l, { ...DEFAULT_OPTIMIZER, kind: 'sgd' });
        const spec: TrainLoopSpec = { ...pickSpec(TRAIN_DEFAULTS, LOOP_SPEC_KEYS), method, steps: 1, precision: 'f16', valEvery: 0, checkpointEvery: 0, immediateUpdates: true };
        await trainStep(ctx, w, l, opt, spec, 0, batch);
        const measured = ctx.ledger.snapshot().peakTotal;
        console.log(`[plan] ${method} f16: planned ${plan16.peakBytes} B, measured ${measured} B`);
        expect(measured, method).toBeLessThanOrEqual(plan16.peakBytes); // it ran under a cap of exactly the plan
        expect(measured, method).toBeGreaterThan(0.98 * plan16.peakBytes);
      } finally {
        ctx.destroy();
      }
    }
  });

  it('refuses f16 on an adapter without shader-f16 (train, eval, generate), naming the feature and the flag', async () => {
    const ctx = await GpuContext.open(dawnProvider, {});
    try {
      (ctx.features as { f16: boolean }).f16 = false; // stands in for an adapter without the feature (SwiftShader)
      const w = loadModelWeights(ctx, folder.config, 'none', (n) => folder.read(n));
      const l = uploadAdapter(ctx, folder.config, randomAdapter(m, 4, 8, 77));
      await expect(exactGradients(ctx, w, l, batch, { method: 'mesp', precision: 'f16' })).rejects.toThrow(/precision f16 needs an adapter with the shader-f16 feature.*--precision f32/);
      await expect(forwardNll(ctx, w, l, batch, 'f16'), 'eval').rejects.toThrow(/precision f16 needs an adapter with the shader-f16 feature.*--precision f32/);
      expect(() => KvDecoder.open(ctx, w, null, 4, { precision: 'f16' }), 'generate').toThrow(/precision f16 needs an adapter with the shader-f16 feature.*--precision f32/);
    } finally {
      ctx.destroy();
    }
  });
});

// The per-kernel counts and profile (core/gpu/profiler.ts): the memory plan's dry run counts the very calls, FLOPs and
// bytes a real training step dispatches, kernel by kernel; a profile timed by GPU timestamps lists every dispatched
// kernel with its calls and a positive time, one timed by queue completion every kernel and the step's total; both
// free their buffers and leave the step's training unchanged; the roofline projection of the plan is the per-kernel
// sum on a profile's GPU.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GpuContext } from '../../core/gpu/context';
import type { KernelCount } from '../../core/gpu/profiler';
import type { TokenBatch } from '../../core/model/forward';
import { loadModelWeights, PROJECTIONS } from '../../core/model/weights';
import { dawnProvider } from '../../core/node/dawn';
import { openModelFolder, type ModelFolder } from '../../core/node/modelfiles';
import { getProfile } from '../../core/profiles/builtin';
import { roofline } from '../../core/profiles/schema';
import { initHostAdapter, uploadAdapter } from '../../core/train/lora';
import { DEFAULT_OPTIMIZER, Optimizer } from '../../core/train/optimizer';
import { planTrainStep, projectPlan } from '../../core/train/plan';
import { trainStep, type TrainLoopSpec } from '../../core/train/trainer';
import { makeTinyModel, tokenRows, type TinyModel } from '../helpers/tiny';

const SPEC: TrainLoopSpec = {
  method: 'mesp', steps: 2, seed: 5, storeH: false, chunkedHead: true, headChunk: 4, mezoEps: 1e-3, valEvery: 0, checkpointEvery: 0, immediateUpdates: true,
};
const OPT = { ...DEFAULT_OPTIMIZER, kind: 'sgd' as const, lr: 1e-3, totalSteps: 3 };
const LORA = { rank: 4, alpha: 8, targets: [...PROJECTIONS] };

function batchOf(vocab: number, B: number, T: number): TokenBatch {
  const rows = tokenRows(vocab, Array(B).fill(T), 17);
  return { B, T, inputIds: Int32Array.from(rows.flatMap((r) => r.ids)), targets: Int32Array.from(rows.flatMap((r) => r.targets)) };
}

const byName = <R extends KernelCount>(rows: readonly R[]): Record<string, R> => Object.fromEntries(rows.map((r) => [r.kernel, r]));

describe('per-kernel counts and profile', () => {
  let m: TinyModel;
  let folder: ModelFolder;
  beforeAll(() => {
    m = makeTinyModel({ seed: 9 });
    folder = openModelFolder(m.dir);
  });
  afterAll(() => m.cleanup());

  it('the dry run counts what the real step dispatches, kernel by kernel; both profiles time every kernel', async () => {
    const B = 2;
    const T = 12;
    const plan = await planTrainStep({ cfg: folder.config, quant: 'int4', seqLen: T, batch: B, method: 'mesp', ...LORA, optimizer: OPT, headChunk: 4 });
    const ctx = await GpuContext.open(dawnProvider);
    try {
      const model = loadModelWeights(ctx, folder.config, 'int4', (n) => folder.read(n));
      const lora = uploadAdapter(ctx, folder.config, initHostAdapter(folder.config, { ...LORA, seed: 2 }));
      const opt = new Optimizer(ctx, lora, OPT);
      const batch = batchOf(m.cfg.vocab, B, T);
      await trainStep(ctx, model, lora, opt, SPEC, 0, batch);
      await ctx.finish();

      ctx.counts.reset();
      const plain = await trainStep(ctx, model, lora, opt, SPEC, 1, batch);
      await ctx.finish();
      const real = ctx.counts.snapshot();
      expect(real.length).toBeGreaterThan(10);
      expect(real).toEqual(plan.kernels); // calls, FLOPs and bytes of every kernel, as planned
      const want = byName(real);
      for (const k of ['linear.int4', 'linear_t.int4', 'head.int4', 'head_t.int4', 'lora.h', 'lora.dA', 'attention_fwd', 'rmsnorm', 'sgd']) {
        expect(want[k]?.calls, k).toBeGreaterThan(0);
      }
      console.log(`planned step: ${plan.kernels.length} kernels, ${plan.kernels.reduce((s, k) => s + k.calls, 0)} dispatches, ` +
        `${(plan.kernels.reduce((s, k) => s + k.flops, 0) / 1e6).toFixed(2)} MFLOP, ${(plan.kernels.reduce((s, k) => s + k.bytes, 0) / 1e6).toFixed(2)} MB`);

      for (const mode of ['timestamps', 'queue'] as const) {
        const live0 = ctx.ledger.snapshot().liveTotal;
        expect(ctx.startProfile(mode)).toBe(mode);
        const r = await trainStep(ctx, model, lora, opt, SPEC, 2, batch);
        const prof = await ctx.stopProfile();
        expect(prof.timing).toBe(mode);
        expect(ctx.ledger.snapshot().liveTotal, `${mode}: the timer's buffers are freed`).toBe(live0);
        expect(Number.isFinite(r.loss) && Math.abs(r.loss - plain.loss) < 1e-2, `${mode}: the profiled step trains as the plain one`).toBe(true);
        const got = byName(prof.kernels);
        for (const k of Object.values(want)) {
          expect(got[k.kernel], `${mode}: ${k.kernel} profiled`).toMatchObject({ calls: k.calls, flops: k.flops, bytes: k.bytes });
          // Queue timing splits by completion bursts (profiler.ts), so only timestamps time each kernel.
          if (mode === 'timestamps') expect(got[k.kernel].seconds, `${mode}: ${k.kernel} timed`).toBeGreaterThan(0);
        }
        expect(prof.kernels).toHaveLength(real.length);
        expect(prof.seconds).toBeCloseTo(prof.kernels.reduce((s, k) => s + k.seconds, 0), 12);
        expect(prof.seconds).toBeGreaterThan(0);
        expect(prof.seconds).toBeLessThanOrEqual(prof.wallSeconds * 1.05);
        const top = prof.kernels.slice(0, 3).map((k) => `${k.kernel} ${(k.seconds * 1e3).toFixed(2)} ms`).join(', ');
        console.log(`${mode}: ${prof.kernels.length} kernels, device ${(prof.seconds * 1e3).toFixed(1)} ms of ${(prof.wallSeconds * 1e3).toFixed(1)} ms wall; most time: ${top}`);
      }
    } finally {
      ctx.destroy();
    }

    // The roofline projection of the plan: per kernel, the slower of compute and memory, summed.
    const phone = getProfile('pixel-8');
    const proj = projectPlan(plan, phone);
    const want = plan.kernels.reduce((s, k) => s + roofline(phone, k.flops, k.bytes).seconds, 0);
    expect(proj.seconds).toBeCloseTo(want, 15);
    expect(proj.tokensPerSecond).toBeCloseTo((B * T) / want, 6);
    expect(proj.computeBoundSeconds + proj.memoryBoundSeconds).toBeCloseTo(proj.seconds, 15);
    expect(projectPlan(plan, phone, 'f16').seconds).toBeLessThan(proj.seconds);
  });
});

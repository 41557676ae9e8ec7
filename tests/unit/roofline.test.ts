// The roofline projection of a step (core/profiles/roofline.ts): each kernel takes the slower of its FLOPs at the GPU's
// peak and its bytes at the bandwidth, the step the sum; tokens/s follows; f16 uses the f16 peak; every built-in
// profile gets a projection; plan.fit's result carries each method's projection on the profile, from its dry run.
import { describe, expect, it } from 'vitest';
import { FitResultSchema } from '../../core/api/contract/plan';
import { PRECISIONS } from '../../core/api/names';
import { TRAIN_DEFAULTS } from '../../core/api/train';
import { qwen25Config } from '../../core/model/shapes';
import { planFit } from '../../core/node/service/inspect';
import { getProfile, listBuiltinProfiles } from '../../core/profiles/builtin';
import { projectPlan, planTrainStep } from '../../core/train/plan';
import { ROOFLINE_ASSUMPTIONS, projectOnProfiles, projectStep } from '../../core/profiles/roofline';

const GPU = { id: 'test', gpu: { name: 'x', peakFlopsF32: 1e12, peakFlopsF16: 4e12, bandwidthGBs: 100 } };

describe('roofline projection of a step', () => {
  it('sums each kernel\'s roofline and splits compute- from memory-bound time', () => {
    const kernels = [
      { kernel: 'gemm', flops: 2e12, bytes: 1e9 }, // compute 2 s, memory 0.01 s
      { kernel: 'add', flops: 1e9, bytes: 50e9 }, // compute 0.001 s, memory 0.5 s
    ];
    const p = projectStep(GPU, kernels, 256);
    expect(p.seconds).toBeCloseTo(2.5, 12);
    expect(p.computeBoundSeconds).toBeCloseTo(2, 12);
    expect(p.memoryBoundSeconds).toBeCloseTo(0.5, 12);
    expect(p.tokensPerSecond).toBeCloseTo(256 / 2.5, 9);
    expect(p.flops).toBe(2e12 + 1e9);
    expect(p.bytes).toBe(51e9);
    const h = projectStep(GPU, kernels, 256, 'f16');
    expect(h.seconds).toBeCloseTo(0.5 + 0.5, 12); // gemm now 0.5 s compute; add still 0.5 s memory
    expect(h.precision).toBe('f16');
  });

  it('projects on every built-in profile and says what it assumes', () => {
    const all = projectOnProfiles(listBuiltinProfiles(), [{ kernel: 'gemm', flops: 1e12, bytes: 1e9 }], 256);
    expect(all.map((p) => p.profileId)).toEqual(listBuiltinProfiles().map((p) => p.id));
    for (const p of all) expect(p.seconds, p.profileId).toBeGreaterThan(0);
    expect(ROOFLINE_ASSUMPTIONS).toMatch(/roofline projection/);
    expect(ROOFLINE_ASSUMPTIONS).toMatch(/lower bound/);
    expect(projectStep(GPU, [], 256).tokensPerSecond).toBe(0); // no work: no rate (JSON has no Infinity)
  });
});

describe('the plan carries the projection', () => {
  it('plan.fit gives each method its roofline projection on the profile in f32 and f16, the dry run\'s own counts', async () => {
    const spec = { quant: 'int4', seqLen: 64, batch: 1, rank: 8, alpha: 16, targets: ['q', 'v'], optimizer: 'sgd', storeH: false, chunkedHead: true, headChunk: TRAIN_DEFAULTS.headChunk, precision: 'f32' } as const;
    const fit = await planFit({ ...spec, targets: [...spec.targets], shape: 'qwen2.5-0.5b', profile: 'phone-8gb', methods: ['mebp', 'mesp'] });
    FitResultSchema.parse(fit); // the contract's shape, projections included
    const profile = getProfile('phone-8gb');
    for (const m of fit.methods) {
      expect(m.error, m.method).toBeNull();
      expect(m.projections.map((p) => p.precision), m.method).toEqual([...PRECISIONS]);
      const plan = await planTrainStep({ cfg: qwen25Config('qwen2.5-0.5b'), quant: 'int4', seqLen: 64, batch: 1, method: m.method, rank: 8, alpha: 16, targets: ['q', 'v'], optimizer: { kind: 'sgd' } });
      for (const p of m.projections) {
        const want = projectPlan(plan, profile, p.precision);
        expect(p, `${m.method} ${p.precision}`).toEqual(want);
        expect(p.profileId).toBe('phone-8gb');
        expect(p.seconds, `${m.method} ${p.precision}`).toBeGreaterThan(0);
        expect(p.tokensPerSecond * p.seconds, `${m.method} ${p.precision}: tokens/s × s = batch × seq`).toBeCloseTo(64, 6);
      }
      // f16 arithmetic is never slower on a profile whose f16 peak is at least its f32 peak
      expect(m.projections[1].seconds, m.method).toBeLessThanOrEqual(m.projections[0].seconds);
      console.log(`[roofline] ${m.method} on phone-8gb: f32 ${m.projections[0].seconds.toFixed(4)} s/step, f16 ${m.projections[1].seconds.toFixed(4)} s/step`);
    }
  });
});

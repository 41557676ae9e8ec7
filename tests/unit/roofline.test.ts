// The roofline projection of a step (core/profiles/roofline.ts): each kernel takes the slower of its FLOPs at the GPU's
// peak and its bytes at the bandwidth, the step the sum; tokens/s follows; f16 uses the f16 peak; every built-in
// profile gets a projection.
import { describe, expect, it } from 'vitest';
import { listBuiltinProfiles } from '../../core/profiles/builtin';
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
    expect(projectStep(GPU, [], 256).tokensPerSecond).toBe(Number.POSITIVE_INFINITY);
  });
});

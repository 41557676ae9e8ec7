// Optimizer kernels (SGD, AdamW, sum of squares) and MeZO's regenerated perturbation against float64 references.
import { describe, expect, it } from 'vitest';
import { adamwUpdate, sgdUpdate, sumSquares } from '../../core/kernels/optim';
import { mezoPerturb } from '../../core/kernels/mezo';
import { adamwRef, sgdRef } from '../../core/reference/optim';
import { mezoZ } from '../../core/reference/mezo';
import { gpu, rand, report, upload } from '../helpers/gpu';

describe('optimizers', () => {
  it('SGD: θ − lr·g', async () => {
    const ctx = await gpu();
    const th = rand(1000, 1);
    const g = rand(1000, 2);
    const tT = upload(ctx, 'theta', [1000], th);
    const tG = upload(ctx, 'g', [1000], g);
    sgdUpdate(ctx, tT, tG, 0.1);
    const want = Float64Array.from(th);
    sgdRef(want, g, 0.1);
    expect(report('sgd', await ctx.readF32(tT), want).maxAbs).toBeLessThan(1e-7);
    ctx.free(tT, tG);
  });

  it('AdamW over three steps, with weight decay', async () => {
    const ctx = await gpu();
    const n = 777;
    const th = rand(n, 3);
    const tT = upload(ctx, 'theta', [n], th);
    const tM = ctx.alloc('optimizer', 'm', [n]);
    const tV = ctx.alloc('optimizer', 'v', [n]);
    const want = Float64Array.from(th);
    const m = new Float64Array(n);
    const v = new Float64Array(n);
    for (let step = 1; step <= 3; step++) {
      const g = rand(n, 10 + step, 0.5);
      const tG = upload(ctx, 'g', [n], g);
      const h = { lr: 1e-2, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01, step };
      adamwUpdate(ctx, tT, tG, tM, tV, h);
      adamwRef(want, g, m, v, h);
      ctx.free(tG);
    }
    expect(report('adamw 3 steps', await ctx.readF32(tT), want).maxAbs).toBeLessThan(1e-6);
    ctx.free(tT, tM, tV);
  });

  it('sum of squares into slots', async () => {
    const ctx = await gpu();
    const x = rand(5003, 4);
    const tX = upload(ctx, 'x', [5003], x);
    const out = ctx.alloc('workspace', 'norms', [4]);
    sumSquares(ctx, out, 2, tX);
    let s = 0;
    for (const v of x) s += v * v;
    const got = await ctx.readF32(out);
    console.log(`[max diff] sumsq: ${Math.abs(got[2] - s).toExponential(3)} of ${s.toFixed(3)}`);
    expect(Math.abs(got[2] - s) / s).toBeLessThan(1e-5);
    expect(got[0]).toBe(0);
    ctx.free(tX, out);
  });
});

describe('MeZO perturbation', () => {
  it('regenerates the same z from (seed, stream), matches the CPU generator, and undoes exactly in expectation', async () => {
    const ctx = await gpu();
    const n = 4096;
    const th = rand(n, 5);
    const t = upload(ctx, 'theta', [n], th);
    mezoPerturb(ctx, t, 1234, 7, 0.5);
    const got = await ctx.readF32(t);
    const z = mezoZ(1234, 7, n);
    const want = Float64Array.from(th, (v, i) => v + 0.5 * z[i]);
    expect(report('mezo +0.5z', got, want).maxAbs).toBeLessThan(2e-5);
    // z is standard normal
    let mean = 0;
    let sq = 0;
    for (const v of z) {
      mean += v / n;
      sq += (v * v) / n;
    }
    expect(Math.abs(mean)).toBeLessThan(0.06);
    expect(Math.abs(sq - 1)).toBeLessThan(0.08);
    // a different stream gives a different z
    const z2 = mezoZ(1234, 8, n);
    let dot = 0;
    for (let i = 0; i < n; i++) dot += (z[i] * z2[i]) / n;
    expect(Math.abs(dot)).toBeLessThan(0.08);
    // −0.5z regenerates the same z: back to θ within rounding
    mezoPerturb(ctx, t, 1234, 7, -0.5);
    expect(report('mezo undo', await ctx.readF32(t), th).maxAbs).toBeLessThan(1e-6);
    ctx.free(t);
  });
});

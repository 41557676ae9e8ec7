// Element-wise kernels (add, y += alpha·x, y *= alpha) on the GPU against the float64 reference, with every aliasing
// case (output = operand, bound once) and a grid over 65535 workgroups (folded into 2-D). Their backward passes are
// these same ops (d(a + b) routes dout to both; d(y + αx)/dx = α·dy is addInPlace / scaleInPlace), tested here too.
import { describe, expect, it } from 'vitest';
import { add, addInPlace, scaleInPlace } from '../../core/kernels/elementwise';
import { grid1d } from '../../core/kernels/grid';
import { addInPlaceRef, addRef, scaleInPlaceRef } from '../../core/reference/elementwise';
import { gpu, rand, report, upload } from '../helpers/gpu';

const N = 1000; // not a multiple of the 256-wide workgroup

describe('elementwise', () => {
  it('add: out = a + b, out distinct, out = a, out = b, out = a = b', async () => {
    const ctx = await gpu();
    const a = rand(N, 41); // (N)
    const b = rand(N, 42, 3); // (N)
    const want = new Float64Array(N);
    addRef(want, a, b, N);
    const want2a = new Float64Array(N);
    addRef(want2a, a, a, N);
    const tA = upload(ctx, 'a', [N], a);
    const tB = upload(ctx, 'b', [N], b);
    const tOut = ctx.alloc('workspace', 'out', [N]);
    add(ctx, tOut, tA, tB, { N });
    const r0 = report('add out = a + b', await ctx.readF32(tOut), want);
    // an f32 sum of two f32 values is the float64 sum rounded once: exact agreement
    expect(r0.maxAbs).toBeLessThanOrEqual(Math.abs(want[r0.at]) * 2 ** -24);
    const tA2 = upload(ctx, 'a2', [N], a);
    add(ctx, tA2, tA2, tB, { N });
    const r1 = report('add a = a + b (in place)', await ctx.readF32(tA2), want);
    const tB2 = upload(ctx, 'b2', [N], b);
    add(ctx, tB2, tA, tB2, { N });
    const r2 = report('add b = a + b (in place)', await ctx.readF32(tB2), want);
    const tA3 = upload(ctx, 'a3', [N], a);
    add(ctx, tA3, tA3, tA3, { N });
    const r3 = report('add a = a + a', await ctx.readF32(tA3), want2a);
    for (const [i, r] of [r0, r1, r2, r3].entries()) expect(r.maxRel, `report r${i}`).toBeLessThan(1e-7);
    ctx.free(tA, tB, tOut, tA2, tB2, tA3);
  });

  it('addInPlace: y += alpha·x (alpha 1, 0.3, −2.5, and x = y)', async () => {
    const ctx = await gpu();
    const y0 = rand(N, 43); // (N)
    const x = rand(N, 44, 2); // (N)
    const tX = upload(ctx, 'x', [N], x);
    for (const alpha of [undefined, 0.3, -2.5]) {
      const tY = upload(ctx, 'y', [N], y0);
      addInPlace(ctx, tY, tX, alpha === undefined ? { N } : { N, alpha });
      const want = Float64Array.from(y0);
      addInPlaceRef(want, x, N, alpha ?? 1);
      const r = report(`addInPlace alpha ${alpha ?? 'default'}`, await ctx.readF32(tY), want);
      expect(r.maxRel, `alpha ${alpha}`).toBeLessThan(2e-7);
      ctx.free(tY);
    }
    const tY = upload(ctx, 'y', [N], y0);
    addInPlace(ctx, tY, tY, { N, alpha: 0.5 });
    const want = Float64Array.from(y0);
    addInPlaceRef(want, y0, N, 0.5);
    const r = report('addInPlace y += 0.5·y', await ctx.readF32(tY), want);
    expect(r.maxRel).toBeLessThan(2e-7);
    ctx.free(tX, tY);
  });

  it('scaleInPlace: y *= alpha', async () => {
    const ctx = await gpu();
    const y0 = rand(N, 45); // (N)
    const tY = upload(ctx, 'y', [N], y0);
    scaleInPlace(ctx, tY, { N, alpha: -0.7 });
    const want = Float64Array.from(y0);
    scaleInPlaceRef(want, N, -0.7);
    const r = report('scaleInPlace alpha −0.7', await ctx.readF32(tY), want);
    expect(r.maxRel).toBeLessThan(2e-7);
    // only the first N values are touched
    const tZ = upload(ctx, 'z', [N], y0);
    scaleInPlace(ctx, tZ, { N: N - 10, alpha: 2 });
    const z = await ctx.readF32(tZ);
    expect(z[N - 11]).toBe(y0[N - 11] * 2);
    expect(z[N - 10]).toBe(y0[N - 10]);
    ctx.free(tY, tZ);
  });

  it('a grid over 65535 workgroups is folded into 2-D and covers every element once', async () => {
    const ctx = await gpu();
    const big = 65535 * 256 + 999; // 16,777,959 values (67 MB)
    const [gx, gy] = grid1d(big, 256);
    expect(gy).toBeGreaterThan(1);
    expect(gx).toBeLessThanOrEqual(65535);
    const y0 = rand(big, 46); // (N)
    const tY = upload(ctx, 'big', [big], y0);
    scaleInPlace(ctx, tY, { N: big, alpha: 0.5 }); // exact in f32
    const got = await ctx.readF32(tY);
    let bad = 0;
    for (let i = 0; i < big; i++) if (got[i] !== y0[i] * 0.5) bad++;
    console.log(`[max diff] scaleInPlace over a folded grid [${gx}, ${gy}] (N ${big}): ${bad} values differ`);
    expect(bad).toBe(0);
    ctx.free(tY);
  });
});

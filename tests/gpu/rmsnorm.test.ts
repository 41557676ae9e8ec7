// RMSNorm (HF Qwen2RMSNorm) forward and backward on the GPU against the float64 reference, the backward also against
// central finite differences of the CPU forward; rstd is the one the forward used, and recomputing gives the same bits.
import { describe, expect, it } from 'vitest';
import { rmsnormBackward, rmsnormForward } from '../../core/kernels/rmsnorm';
import { rmsnormBackwardRef, rmsnormForwardRef } from '../../core/reference/rmsnorm';
import { gpu, rand, report, upload } from '../helpers/gpu';
import { fdGrad, probeIndices } from '../helpers/fd';

const cases = [
  { N: 7, C: 96, eps: 1e-6 },
  { N: 3, C: 2048, eps: 1e-6 },
  { N: 130, C: 13, eps: 1e-5 }, // more rows than one workgroup, odd C
];

function equalBits(a: Float32Array, b: Float32Array): boolean {
  if (a.length !== b.length) return false;
  const ua = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const ub = new Uint32Array(b.buffer, b.byteOffset, b.length);
  return ua.every((v, i) => v === ub[i]);
}

describe('rmsnorm', () => {
  for (const d of cases) {
    it(`forward and backward N${d.N} C${d.C} eps ${d.eps}`, async () => {
      const ctx = await gpu();
      const { N, C, eps } = d;
      const x = rand(N * C, 11); // (N, C)
      x.fill(0, 0, C); // a zero row: rstd = 1/sqrt(eps)
      const w = rand(C, 12).map((v) => 1 + 0.5 * v); // (C)
      const dout = rand(N * C, 13); // (N, C)
      const dx0 = rand(N * C, 14); // (N, C)
      const tX = upload(ctx, 'x', [N, C], x);
      const tW = upload(ctx, 'w', [C], w);
      const tOut = ctx.alloc('workspace', 'out', [N, C]);
      const tOut2 = ctx.alloc('workspace', 'out2', [N, C]);
      const tRstd = ctx.alloc('workspace', 'rstd', [N]);
      rmsnormForward(ctx, tOut, tRstd, tX, tW, d);
      rmsnormForward(ctx, tOut2, null, tX, tW, d);
      const out = await ctx.readF32(tOut);
      const out2 = await ctx.readF32(tOut2);
      const rstd = await ctx.readF32(tRstd);

      const wantOut = new Float64Array(N * C);
      const wantRstd = rmsnormForwardRef(wantOut, x, w, d);
      const rOut = report(`rmsnorm forward out N${N} C${C}`, out, wantOut);
      const rRstd = report(`rmsnorm forward rstd N${N} C${C}`, rstd, wantRstd);
      expect(rOut.maxRel, `d ${JSON.stringify(d)}`).toBeLessThan(1e-6);
      expect(rRstd.maxRel, `d ${JSON.stringify(d)}`).toBeLessThan(1e-6);
      expect(rstd[0], `d ${JSON.stringify(d)}`).toBeCloseTo(1 / Math.sqrt(eps), 0);
      expect(equalBits(out, out2), `d ${JSON.stringify(d)}`).toBe(true); // with or without saving rstd: same bits

      // backward: dx = ..., then dx += ..., then in place on dout
      const tDout = upload(ctx, 'dout', [N, C], dout);
      const tDx = ctx.alloc('workspace', 'dx', [N, C]);
      const tDxAcc = upload(ctx, 'dxacc', [N, C], dx0);
      const tInPlace = upload(ctx, 'inplace', [N, C], dout);
      rmsnormBackward(ctx, tDx, tDout, tX, tW, tRstd, { N, C });
      rmsnormBackward(ctx, tDxAcc, tDout, tX, tW, tRstd, { N, C, accumulate: true });
      rmsnormBackward(ctx, tInPlace, tInPlace, tX, tW, tRstd, { N, C });
      const dx = await ctx.readF32(tDx);
      const dxAcc = await ctx.readF32(tDxAcc);
      const dxIn = await ctx.readF32(tInPlace);

      const wantDx = new Float64Array(N * C);
      rmsnormBackwardRef(wantDx, dout, x, w, { N, C }, eps);
      const wantAcc = Float64Array.from(dx0);
      rmsnormBackwardRef(wantAcc, dout, x, w, { N, C, accumulate: true }, eps);
      const rDx = report(`rmsnorm backward dx N${N} C${C}`, dx, wantDx);
      const rAcc = report(`rmsnorm backward dx+= N${N} C${C}`, dxAcc, wantAcc);
      expect(rDx.maxRel, `d ${JSON.stringify(d)}`).toBeLessThan(2e-6);
      expect(rAcc.maxRel, `d ${JSON.stringify(d)}`).toBeLessThan(2e-6);
      expect(equalBits(dx, dxIn), `d ${JSON.stringify(d)}`).toBe(true); // in place = out of place, bit for bit

      // finite differences of the float64 forward on a few coordinates (rows 1.. so that eps does not dominate)
      const fwd = (xv: Float64Array): Float64Array => {
        const y = new Float64Array(N * C);
        rmsnormForwardRef(y, xv, w, d);
        return y;
      };
      const idx = probeIndices(N * C - C).map((i) => i + C);
      const fd = idx.map((i) => fdGrad(fwd, x, dout, i));
      const got = idx.map((i) => dx[i]);
      const rFd = report(`rmsnorm backward vs finite differences N${N} C${C} at [${idx.join(',')}]`, got, fd);
      expect(rFd.maxRel, `d ${JSON.stringify(d)}`).toBeLessThan(1e-5);

      // recomputing the forward gives the same bits
      rmsnormForward(ctx, tOut2, tRstd, tX, tW, d);
      expect(equalBits(await ctx.readF32(tOut2), out), `d ${JSON.stringify(d)}`).toBe(true);
      expect(equalBits(await ctx.readF32(tRstd), rstd), `d ${JSON.stringify(d)}`).toBe(true);
      ctx.free(tX, tW, tOut, tOut2, tRstd, tDout, tDx, tDxAcc, tInPlace);
    });
  }

  it('rejects out aliasing x and short tensors', async () => {
    const ctx = await gpu();
    const t = ctx.alloc('workspace', 't', [4, 8]);
    const w = ctx.alloc('workspace', 'w', [8]);
    expect(() => rmsnormForward(ctx, t, null, t, w, { N: 4, C: 8, eps: 1e-6 })).toThrow(/distinct/);
    expect(() => rmsnormForward(ctx, ctx.alloc('workspace', 'o', [4, 7]), null, t, w, { N: 4, C: 8, eps: 1e-6 })).toThrow(/needs 32/);
    ctx.free(t, w);
  });
});

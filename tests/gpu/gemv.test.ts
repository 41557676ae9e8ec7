// The one-token linear forward (core/kernels/gemv.ts, what linearForward runs when T = 1 and the decoder's LM head
// runs) in f32, int8 and int4 against the float64 CPU reference over the dequantized weights (core/reference/
// linear.ts): row counts that are not a multiple of the 8-row block, single and multi-tile weights, accumulate /
// alpha / bias, a row of x other than the first, and the Qwen2.5-0.5B MLP width; and equal (to f32 rounding) to
// the batched kernel's row for the same token.
import { describe, expect, it } from 'vitest';
import { gemvTile } from '../../core/kernels/gemv';
import { linearForward } from '../../core/kernels/linear';
import { allocWeight, freeWeight, writeWeight, type WeightFormat } from '../../core/kernels/weight';
import { effectiveWeight, linearForwardRef } from '../../core/reference/linear';
import { gpu, rand, report, upload } from '../helpers/gpu';

const FORMATS: WeightFormat[] = ['f32', 'int8', 'int4'];
const bound = (K: number): number => 2e-7 * K;

describe('gemv (one-token linear forward)', () => {
  for (const format of FORMATS) {
    const cases = [
      { in: format === 'f32' ? 36 : 128, out: 45 },
      { in: format === 'f32' ? 68 : 192, out: 40, tileRows: 16 }, // 3 tiles
      { in: 896, out: 4864 }, // Qwen2.5-0.5B gate/up
    ];
    for (const c of cases) {
      const name = `${format} in${c.in} out${c.out}${c.tileRows ? ` tiles of ${c.tileRows}` : ''}`;
      it(`${name}: plain, then accumulate/alpha/bias, vs the float64 reference`, async () => {
        const ctx = await gpu();
        const wv = rand(c.out * c.in, 21);
        const W = allocWeight(ctx, 'weights', 'w', c.out, c.in, format, c.tileRows);
        writeWeight(ctx, W, wv);
        const w = effectiveWeight(wv, c.out, c.in, format);
        const x = rand(c.in, 22);
        const y0 = rand(c.out, 23);
        const bias = rand(c.out, 24);
        const tX = upload(ctx, 'x', [1, c.in], x); // (1, in)
        const tY = upload(ctx, 'y', [1, c.out], y0); // (1, out)
        const tB = upload(ctx, 'bias', [c.out], bias); // (out)
        const dims = { T: 1, in: c.in, out: c.out };
        linearForward(ctx, tY, tX, W, dims);
        const want = new Float64Array(c.out);
        linearForwardRef(want, x, w, dims);
        expect(report(`gemv ${name}`, await ctx.readF32(tY), want).maxAbs).toBeLessThan(bound(c.in));
        ctx.write(tY, y0);
        const o = { accumulate: true, alpha: -0.75 };
        linearForward(ctx, tY, tX, W, dims, { ...o, bias: tB });
        const want2 = Float64Array.from(y0);
        linearForwardRef(want2, x, w, dims, { ...o, bias });
        expect(report(`gemv ${name} accumulate alpha bias`, await ctx.readF32(tY), want2).maxAbs).toBeLessThan(bound(c.in));
        ctx.free(tX, tY, tB);
        freeWeight(ctx, W);
      });
    }

    it(`${format}: row 2 of a (3, in) x, and the batched kernel's row for the same token`, async () => {
      const ctx = await gpu();
      const K = format === 'f32' ? 64 : 128;
      const N = 50;
      const wv = rand(N * K, 31);
      const W = allocWeight(ctx, 'weights', 'w', N, K, format);
      writeWeight(ctx, W, wv);
      const x = rand(3 * K, 32);
      const tX = upload(ctx, 'x', [3, K], x); // (3, K)
      const one = ctx.alloc('workspace', 'one', [1, N]); // (1, N)
      gemvTile(ctx, one, tX, W, W.tiles[0], { ycol: 0, xrow: 2 });
      const got = await ctx.readF32(one);
      const want = new Float64Array(N);
      linearForwardRef(want, x.subarray(2 * K), effectiveWeight(wv, N, K, format), { T: 1, in: K, out: N });
      expect(report(`gemv ${format} row 2`, got, want).maxAbs).toBeLessThan(bound(K));
      const all = ctx.alloc('workspace', 'all', [3, N]); // (3, N)
      linearForward(ctx, all, tX, W, { T: 3, in: K, out: N });
      const batched = (await ctx.readF32(all)).subarray(2 * N);
      expect(report(`gemv ${format} vs the batched kernel's row`, got, batched).maxRel).toBeLessThan(1e-6);
      ctx.free(tX, one, all);
      freeWeight(ctx, W);
    });
  }
});

// Frozen linear layers (core/kernels/linear.ts) in f32, int8 and int4 against the float64 CPU reference over the
// dequantized weights (core/reference/linear.ts): forward and backward-input, single and multi-tile weights, token and
// output tails, accumulate / alpha / bias; the in-kernel dequantization bit-exact against dequantizeRows; and the
// int8 / int4 quantization error against the original f32 weights (printed).
import { describe, expect, it } from 'vitest';
import { linearBackwardInput, linearFlops, linearForward } from '../../core/kernels/linear';
import { allocWeight, freeWeight, writeWeight, type WeightFormat } from '../../core/kernels/weight';
import { effectiveWeight, linearBackwardInputRef, linearForwardRef } from '../../core/reference/linear';
import { gpu, rand, report, upload } from '../helpers/gpu';

const FORMATS: WeightFormat[] = ['f32', 'int8', 'int4'];

interface Case {
  T: number;
  in: number;
  out: number;
  /** Rows per tile (undefined: as many as the binding limit allows, i.e. one tile here). */
  tileRows?: number;
}

function casesFor(format: WeightFormat): Case[] {
  const C = format === 'f32' ? 36 : 128; // f32: in % 8 == 4 exercises the half-step tail
  return [
    { T: 37, in: C, out: 45 },
    { T: 5, in: format === 'f32' ? 64 : 192, out: 40, tileRows: 16 }, // 3 tiles: 16, 16, 8
    { T: 33, in: C, out: 45, tileRows: 13 }, // 4 tiles of odd sizes: 13, 13, 13, 6
  ];
}

function label(format: WeightFormat, c: Case): string {
  return `${format} T${c.T} in${c.in} out${c.out}${c.tileRows ? ` tiles of ${c.tileRows} rows` : ''}`;
}

/** Largest |got − want| allowed for f32 sums of K products of values in (−1, 1). */
const bound = (K: number): number => 2e-7 * K;

describe('linear', () => {
  for (const format of FORMATS) {
    for (const c of casesFor(format)) {
      const dims = { T: c.T, in: c.in, out: c.out };
      it(`forward ${label(format, c)}, plain and with accumulate/alpha/bias`, async () => {
        const ctx = await gpu();
        const wv = rand(c.out * c.in, 11);
        const W = allocWeight(ctx, 'weights', 'w', c.out, c.in, format, c.tileRows);
        if (c.tileRows) expect(W.tiles.length, `format ${format} c ${JSON.stringify(c)}`).toBeGreaterThan(1);
        writeWeight(ctx, W, wv);
        const w = effectiveWeight(wv, c.out, c.in, format);
        const x = rand(c.T * c.in, 12);
        const y0 = rand(c.T * c.out, 13);
        const bias = rand(c.out, 14);
        const tX = upload(ctx, 'x', [c.T, c.in], x); // (T, in)
        const tY = upload(ctx, 'y', [c.T, c.out], y0); // (T, out)
        const tB = upload(ctx, 'bias', [c.out], bias); // (out)

        linearForward(ctx, tY, tX, W, dims);
        const want = new Float64Array(c.T * c.out);
        linearForwardRef(want, x, w, dims);
        const r = report(`linearForward ${label(format, c)}`, await ctx.readF32(tY), want);
        expect(r.maxAbs, `format ${format} c ${JSON.stringify(c)}`).toBeLessThan(bound(c.in));

        ctx.write(tY, y0);
        const o = { accumulate: true, alpha: -0.75 };
        linearForward(ctx, tY, tX, W, dims, { ...o, bias: tB });
        const want2 = Float64Array.from(y0);
        linearForwardRef(want2, x, w, dims, { ...o, bias });
        const r2 = report(`linearForward ${label(format, c)} accumulate alpha bias`, await ctx.readF32(tY), want2);
        expect(r2.maxAbs, `format ${format} c ${JSON.stringify(c)}`).toBeLessThan(bound(c.in));
        ctx.free(tX, tY, tB);
        freeWeight(ctx, W);
      });

      it(`backward input ${label(format, c)}, plain and with accumulate/alpha`, async () => {
        const ctx = await gpu();
        const wv = rand(c.out * c.in, 21);
        const W = allocWeight(ctx, 'weights', 'w', c.out, c.in, format, c.tileRows);
        writeWeight(ctx, W, wv);
        const w = effectiveWeight(wv, c.out, c.in, format);
        const g = rand(c.T * c.out, 22);
        const dx0 = rand(c.T * c.in, 23);
        const tG = upload(ctx, 'g', [c.T, c.out], g); // (T, out)
        const tDX = upload(ctx, 'dx', [c.T, c.in], dx0); // (T, in)

        linearBackwardInput(ctx, tDX, tG, W, dims);
        const want = new Float64Array(c.T * c.in);
        linearBackwardInputRef(want, g, w, dims);
        const r = report(`linearBackwardInput ${label(format, c)}`, await ctx.readF32(tDX), want);
        expect(r.maxAbs, `format ${format} c ${JSON.stringify(c)}`).toBeLessThan(bound(c.out));

        ctx.write(tDX, dx0);
        const o = { accumulate: true, alpha: 1.5 };
        linearBackwardInput(ctx, tDX, tG, W, dims, o);
        const want2 = Float64Array.from(dx0);
        linearBackwardInputRef(want2, g, w, dims, o);
        const r2 = report(`linearBackwardInput ${label(format, c)} accumulate alpha`, await ctx.readF32(tDX), want2);
        expect(r2.maxAbs, `format ${format} c ${JSON.stringify(c)}`).toBeLessThan(bound(c.out));
        ctx.free(tG, tDX);
        freeWeight(ctx, W);
      });
    }

    it(`${format}: the kernels use exactly the dequantized weights (one-hot inputs read W back bit for bit)`, async () => {
      // y = I·Wᵀ = Wᵀ and dx = I·W = W: each output is one product with 1 plus zeros, so it is exact.
      const ctx = await gpu();
      const out = 24;
      const C = 64;
      const wv = rand(out * C, 31, 3);
      const W = allocWeight(ctx, 'weights', 'w', out, C, format, 10); // 3 tiles, q-kernels also for f32
      writeWeight(ctx, W, wv);
      const w = effectiveWeight(wv, out, C, format);
      const eyeIn = new Float32Array(C * C);
      for (let i = 0; i < C; i++) eyeIn[i * C + i] = 1;
      const eyeOut = new Float32Array(out * out);
      for (let i = 0; i < out; i++) eyeOut[i * out + i] = 1;
      const tX = upload(ctx, 'eye.in', [C, C], eyeIn); // (T = in, in)
      const tY = ctx.alloc('workspace', 'y', [C, out]); // (T, out)
      const tG = upload(ctx, 'eye.out', [out, out], eyeOut); // (T = out, out)
      const tDX = ctx.alloc('workspace', 'dx', [out, C]); // (T, in)
      linearForward(ctx, tY, tX, W, { T: C, in: C, out });
      linearBackwardInput(ctx, tDX, tG, W, { T: out, in: C, out });
      const y = await ctx.readF32(tY);
      const dx = await ctx.readF32(tDX);
      const wT = new Float32Array(C * out);
      for (let n = 0; n < out; n++) for (let k = 0; k < C; k++) wT[k * out + n] = w[n * C + k];
      report(`${format} forward one-hot vs dequantizeRows`, y, wT);
      report(`${format} backward one-hot vs dequantizeRows`, dx, w);
      expect(Array.from(y), `format ${format}`).toEqual(Array.from(wT));
      expect(Array.from(dx), `format ${format}`).toEqual(Array.from(w));
      ctx.free(tX, tY, tG, tDX);
      freeWeight(ctx, W);
    });
  }

  it('quantization error of int8 / int4 against the original f32 weights (printed)', async () => {
    const ctx = await gpu();
    const dims = { T: 16, in: 256, out: 64 };
    const wv = rand(dims.out * dims.in, 41, 0.05); // a trained layer's weights are small
    const x = rand(dims.T * dims.in, 42);
    const exact = new Float64Array(dims.T * dims.out);
    linearForwardRef(exact, x, wv, dims);
    const tX = upload(ctx, 'x', [dims.T, dims.in], x); // (T, in)
    const tY = ctx.alloc('workspace', 'y', [dims.T, dims.out]); // (T, out)
    const errs: Record<string, number> = {};
    for (const format of ['int8', 'int4'] as const) {
      const w = effectiveWeight(wv, dims.out, dims.in, format);
      let wErr = 0;
      for (let i = 0; i < w.length; i++) wErr = Math.max(wErr, Math.abs(w[i] - wv[i]));
      console.log(`[quant error] ${format} weights: max |w_q − w| = ${wErr.toExponential(3)} (|w| < 0.05)`);
      const W = allocWeight(ctx, 'weights', 'w', dims.out, dims.in, format);
      writeWeight(ctx, W, wv);
      linearForward(ctx, tY, tX, W, dims);
      errs[format] = report(`[quant error] ${format} linear output vs f32 weights`, await ctx.readF32(tY), exact).maxRel;
      freeWeight(ctx, W);
    }
    // int8 is ~16× finer than int4; both are far from exact.
    expect(errs.int8).toBeLessThan(errs.int4 / 4);
    expect(errs.int8).toBeGreaterThan(1e-5);
    expect(errs.int4).toBeLessThan(0.1);
    ctx.free(tX, tY);
  });

  it('linearFlops counts multiply-adds twice', () => {
    expect(linearFlops({ T: 256, in: 896, out: 4864 })).toBe(2 * 256 * 896 * 4864);
  });
});

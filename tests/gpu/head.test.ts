// The LM head + cross-entropy (core/kernels/head.ts): the fused, chunked path and the unchunked path give
// BIT-IDENTICAL nll, lse and dx whatever the chunk; both match the float64 CPU reference (core/reference/head.ts) for
// f32, int8 and int4 weights in several vocabulary tiles, masked targets, T not a multiple of the chunk and V not a
// multiple of anything; and the head runs under phone limits on a 151936 × 256 f32 weight (two tiles).
import { describe, expect, it } from 'vitest';
import type { GpuContext } from '../../core/gpu/context';
import type { Tensor } from '../../core/gpu/tensor';
import {
  crossEntropyBackward,
  crossEntropyForward,
  headBackwardInput,
  headLogits,
  headLossBackward,
  headLossForward,
} from '../../core/kernels/head';
import { allocWeight, freeWeight, writeWeight, type WeightFormat, type WeightMatrix } from '../../core/kernels/weight';
import { headBackwardRef, headLossRef } from '../../core/reference/head';
import { effectiveWeight } from '../../core/reference/linear';
import { gpu, rand, report, upload } from '../helpers/gpu';

/** Number of positions where two f32 arrays differ in their bits. */
function bitMismatches(a: Float32Array, b: Float32Array): number {
  const ua = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const ub = new Uint32Array(b.buffer, b.byteOffset, b.length);
  if (ua.length !== ub.length) return Math.max(ua.length, ub.length);
  let n = 0;
  for (let i = 0; i < ua.length; i++) if (ua[i] !== ub[i]) n++;
  return n;
}

interface Out {
  nll: Float32Array;
  lse: Float32Array;
  dx: Float32Array;
}

async function runChunked(ctx: GpuContext, x: Tensor, W: WeightMatrix, targets: Tensor, d: { T: number; C: number; V: number }, chunk: number, scale: number, dx0?: Float32Array): Promise<Out> {
  const nll = ctx.alloc('workspace', 'nll', [d.T]); // (T)
  const lse = ctx.alloc('workspace', 'lse', [d.T]); // (T)
  const dx = ctx.alloc('workspace', 'dx', [d.T, d.C]); // (T, C)
  if (dx0) ctx.write(dx, dx0);
  headLossForward(ctx, nll, lse, x, W, targets, { ...d, chunk });
  headLossBackward(ctx, dx, x, W, targets, lse, { ...d, chunk, scale, accumulate: !!dx0 });
  const out = { nll: await ctx.readF32(nll), lse: await ctx.readF32(lse), dx: await ctx.readF32(dx) };
  ctx.free(nll, lse, dx);
  return out;
}

async function runUnchunked(ctx: GpuContext, x: Tensor, W: WeightMatrix, targets: Tensor, d: { T: number; C: number; V: number }, scale: number, dx0?: Float32Array): Promise<Out> {
  const nll = ctx.alloc('workspace', 'nll', [d.T]); // (T)
  const lse = ctx.alloc('workspace', 'lse', [d.T]); // (T)
  const dx = ctx.alloc('workspace', 'dx', [d.T, d.C]); // (T, C)
  if (dx0) ctx.write(dx, dx0);
  const logits = W.tiles.map((t, i) => ctx.alloc('activations', `logits.${i}`, [d.T, t.rows])); // (T, tile.rows) each
  headLogits(ctx, logits, x, W, d);
  crossEntropyForward(ctx, nll, lse, logits, targets, { T: d.T, V: d.V });
  crossEntropyBackward(ctx, logits, lse, targets, { T: d.T, V: d.V, scale });
  headBackwardInput(ctx, dx, logits, W, { ...d, accumulate: !!dx0 });
  const out = { nll: await ctx.readF32(nll), lse: await ctx.readF32(lse), dx: await ctx.readF32(dx) };
  ctx.free(nll, lse, dx, ...logits);
  return out;
}

describe('LM head + cross-entropy', () => {
  const FORMATS: WeightFormat[] = ['f32', 'int8', 'int4'];
  for (const format of FORMATS) {
    // V = 1237 (prime) in tiles of 500, 500, 237 rows: 2, 2 and 1 softmax segments of 256 columns.
    const d = { T: 23, C: format === 'f32' ? 36 : 64, V: 1237 };
    it(`${format} V${d.V} C${d.C} T${d.T} in 3 tiles: chunked == unchunked bit for bit, both ≈ float64`, async () => {
      const ctx = await gpu();
      const wv = rand(d.V * d.C, 51, 0.5);
      const W = allocWeight(ctx, 'weights', 'head', d.V, d.C, format, 500);
      expect(W.tiles.map((t) => t.rows), `format ${format}`).toEqual([500, 500, 237]);
      writeWeight(ctx, W, wv);
      const w = effectiveWeight(wv, d.V, d.C, format);
      const x = rand(d.T * d.C, 52);
      // targets in every tile, at the tile edges, the last entry, and masked (−100) rows
      const tg = Int32Array.from({ length: d.T }, (_, t) => (t * 389 + 7) % d.V);
      Object.assign(tg, { 0: 0, 1: 499, 2: 500, 3: 999, 4: 1000, 5: d.V - 1, 6: -100, 11: -100, 22: -100 });
      const count = tg.filter((t) => t >= 0).length;
      const scale = 1 / count;
      const tX = upload(ctx, 'x', [d.T, d.C], x); // (T, C)
      const tT = upload(ctx, 'targets', [d.T], tg); // (T) i32

      const ref = headLossRef(x, w, tg, d);
      const refDx = headBackwardRef(x, w, tg, d, scale);
      const un = await runUnchunked(ctx, tX, W, tT, d, scale);
      const rN = report(`${format} unchunked nll vs float64`, un.nll, ref.nll);
      const rL = report(`${format} unchunked lse vs float64`, un.lse, ref.lse);
      const rD = report(`${format} unchunked dx vs float64`, un.dx, refDx);
      expect(rN.maxAbs, `format ${format}`).toBeLessThan(1e-5);
      expect(rL.maxAbs, `format ${format}`).toBeLessThan(1e-5);
      expect(rD.maxRel, `format ${format}`).toBeLessThan(1e-5);
      for (const t of [6, 11, 22]) expect(un.nll[t], `format ${format} t ${t}`).toBe(0);
      for (const t of [6, 11, 22]) expect(Array.from(un.dx.subarray(t * d.C, (t + 1) * d.C)).every((v) => v === 0), `format ${format} t ${t}`).toBe(true);

      for (const chunk of [1, 5, 8, 23, 64]) {
        const ch = await runChunked(ctx, tX, W, tT, d, chunk, scale);
        const mism = [bitMismatches(ch.nll, un.nll), bitMismatches(ch.lse, un.lse), bitMismatches(ch.dx, un.dx)];
        console.log(`[max diff] ${format} chunk ${chunk} vs unchunked: bit mismatches nll ${mism[0]}, lse ${mism[1]}, dx ${mism[2]}`);
        expect(mism, `format ${format} chunk ${chunk}`).toEqual([0, 0, 0]);
      }

      // accumulate: dx += ... in both paths, still identical, and = dx0 + reference
      const dx0 = rand(d.T * d.C, 53);
      const unA = await runUnchunked(ctx, tX, W, tT, d, scale, dx0);
      const chA = await runChunked(ctx, tX, W, tT, d, 5, scale, dx0);
      expect(bitMismatches(chA.dx, unA.dx), `format ${format}`).toBe(0);
      const refA = Float64Array.from(refDx, (v, i) => v + dx0[i]);
      expect(report(`${format} dx accumulate vs float64`, chA.dx, refA).maxAbs, `format ${format}`).toBeLessThan(1e-6);
      ctx.free(tX, tT);
      freeWeight(ctx, W);
    });
  }

  it('the chunk is bounded by one binding of logits, with a message saying what chunk fits', async () => {
    const ctx = await gpu();
    const W = allocWeight(ctx, 'weights', 'head', 8, 64, 'int4');
    const x = ctx.alloc('workspace', 'x', [4, 64]); // (T, C)
    const tg = ctx.alloc('workspace', 'targets', [4], 'i32'); // (T)
    const nll = ctx.alloc('workspace', 'nll', [4]); // (T)
    const lse = ctx.alloc('workspace', 'lse', [4]); // (T)
    expect(() => headLossForward(ctx, nll, lse, x, W, tg, { T: 4, C: 64, V: 9, chunk: 4 })).toThrow(/V 9/);
    expect(() => headLossForward(ctx, nll, lse, x, W, tg, { T: 4, C: 64, V: 8, chunk: 0 })).toThrow(/chunk/);
    ctx.free(x, tg, nll, lse);
    freeWeight(ctx, W);
  });

  it('Kernels under phone limits: a head of 151936 × 256 in f32 (155 MB, over one 128 MiB binding) runs the tiled head kernels correctly', async () => {
    const ctx = await gpu(); // phone limits: 128 MiB per binding
    expect(ctx.limits.maxStorageBufferBindingSize).toBe(128 * 1024 * 1024);
    const d = { T: 5, C: 256, V: 151936 };
    const W = allocWeight(ctx, 'weights', 'lm_head', d.V, d.C, 'f32');
    expect(W.tiles.length).toBe(2);
    expect(W.tiles[0].rows * d.C * 4).toBeLessThanOrEqual(128 * 1024 * 1024);
    const row1 = W.tiles[1].row0;
    const wv = rand(d.V * d.C, 61, 0.25);
    writeWeight(ctx, W, wv);
    const x = rand(d.T * d.C, 62);
    const tg = Int32Array.from([17, row1 - 1, row1, d.V - 1, -100]); // both tiles, their edges, a masked row
    const tX = upload(ctx, 'x', [d.T, d.C], x); // (T, C)
    const tT = upload(ctx, 'targets', [d.T], tg); // (T) i32
    const ch = await runChunked(ctx, tX, W, tT, d, 2, 0.25);
    const un = await runUnchunked(ctx, tX, W, tT, d, 0.25);
    const ref = headLossRef(x, wv, tg, d);
    const rN = report('151936×256 f32 head nll vs float64', ch.nll, ref.nll);
    const rL = report('151936×256 f32 head lse vs float64', ch.lse, ref.lse);
    expect(rN.maxAbs).toBeLessThan(2e-5);
    expect(rL.maxAbs).toBeLessThan(2e-5);
    expect(ch.nll[4]).toBe(0);
    expect([bitMismatches(ch.nll, un.nll), bitMismatches(ch.lse, un.lse), bitMismatches(ch.dx, un.dx)]).toEqual([0, 0, 0]);
    // dx sums 131072 then 20864 vocabulary rows in one ascending f32 accumulation each: rounding grows with that.
    const refDx = headBackwardRef(x, wv, tg, d, 0.25);
    expect(report('151936×256 f32 head dx vs float64', ch.dx, refDx).maxRel).toBeLessThan(1e-4);
    ctx.free(tX, tT);
    freeWeight(ctx, W);
  });
});

// The training-step head under phone limits: with V = 151936 and T = 256 the kept (T, V) f32 logits (155 MB) are over
// one 128 MiB binding, so the autograd path stores them as row blocks; its nll and dx must be the same bits as MeSP's
// chunked path (logits (chunk, V) computed and dropped per chunk), and the loss must match a float64 check on a few rows.
import { describe, expect, it } from 'vitest';
import { allocWeight, writeWeight } from '../../core/kernels/weight';
import { headAutogradBackward, headAutogradForward, headChunkedLossAndGrad } from '../../core/train/head';
import { gpu, rand, upload } from '../helpers/gpu';

describe('training head under phone limits', () => {
  it('autograd (row blocks) and chunked give the same bits; nll matches float64', async () => {
    const ctx = await gpu();
    const V = 151936;
    const C = 64;
    const T = 256;
    const w = rand(V * C, 3, 0.5);
    const W = allocWeight(ctx, 'weights', 'head', V, C, 'f32');
    writeWeight(ctx, W, w);
    const x = rand(T * C, 4);
    const tg = Int32Array.from({ length: T }, (_, t) => (t % 17 === 5 ? -100 : (t * 7919) % V));
    const tx = upload(ctx, 'x', [T, C], x);
    const tt = upload(ctx, 'targets', [T], tg);
    const count = tg.filter((t) => t !== -100).length;
    const d = { T, C, V, scale: 1 / count };

    const nllA = ctx.alloc('workspace', 'nllA', [T]);
    const dxA = ctx.alloc('workspace', 'dxA', [T, C]);
    const saved = headAutogradForward(ctx, nllA, tx, W, tt, d);
    expect(saved.blocks.length).toBe(2);
    const kept = saved.blocks.reduce((s, b) => s + b.logits.reduce((a, l) => a + l.bytes, 0), 0);
    expect(kept).toBe(T * V * 4);
    headAutogradBackward(ctx, dxA, saved, W, tt, d);

    const nllB = ctx.alloc('workspace', 'nllB', [T]);
    const dxB = ctx.alloc('workspace', 'dxB', [T, C]);
    headChunkedLossAndGrad(ctx, nllB, dxB, tx, W, tt, { ...d, chunk: 16 });

    const [a, b, ga, gb] = [await ctx.readF32(nllA), await ctx.readF32(nllB), await ctx.readF32(dxA), await ctx.readF32(dxB)];
    expect(Buffer.from(a.buffer).equals(Buffer.from(b.buffer))).toBe(true);
    expect(Buffer.from(ga.buffer).equals(Buffer.from(gb.buffer))).toBe(true);
    let worst = 0;
    for (const t of [0, 5, 100, 255]) {
      let mx = -Infinity;
      const logits = new Float64Array(V);
      for (let v = 0; v < V; v++) {
        let s = 0;
        for (let c = 0; c < C; c++) s += x[t * C + c] * w[v * C + c];
        logits[v] = s;
        mx = Math.max(mx, s);
      }
      let z = 0;
      for (let v = 0; v < V; v++) z += Math.exp(logits[v] - mx);
      const want = tg[t] === -100 ? 0 : Math.log(z) + mx - logits[tg[t]];
      worst = Math.max(worst, Math.abs(a[t] - want));
    }
    console.log(`[max diff] head nll (rows 0, 5, 100, 255) vs float64: ${worst.toExponential(3)}; autograd = chunked bitwise`);
    expect(worst).toBeLessThan(1e-4);
    ctx.free(nllA, dxA, nllB, dxB, tx, tt);
    for (const t of W.tiles) ctx.free(t.data, t.sb);
  });
});

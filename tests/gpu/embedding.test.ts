// Embedding lookup over row-tiled frozen tables (f32, int8, int4; dequantized in the kernel) and its table gradient,
// against the CPU reference. Under phone limits: a 151936 × 256 f32 embedding (155 MB, over one
// 128 MiB binding) runs tiled (2 tiles) and correctly, ids from both tiles, at the boundary, 0 and V − 1.
import { describe, expect, it } from 'vitest';
import { dequantizeRows, quantizeRows } from '../../core/common/quant';
import { embeddingBackward, embeddingForward } from '../../core/kernels/embedding';
import { allocWeight, freeWeight, writeWeight, type WeightFormat } from '../../core/kernels/weight';
import { embeddingBackwardRef, embeddingForwardRef } from '../../core/reference/embedding';
import { gpu, rand, report, upload } from '../helpers/gpu';

function equalBits(a: Float32Array, b: Float32Array): boolean {
  const ua = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const ub = new Uint32Array(b.buffer, b.byteOffset, b.length);
  return a.length === b.length && ua.every((v, i) => v === ub[i]);
}

describe('embedding', () => {
  it('Kernels under phone limits: an embedding of 151936 × 256 in f32 (155 MB, over one 128 MiB binding) runs the tiled embedding correctly', async () => {
    const ctx = await gpu();
    const V = 151936;
    const C = 256;
    expect(ctx.limits.maxStorageBufferBindingSize).toBe(128 * 1024 * 1024);
    expect(V * C * 4).toBeGreaterThan(ctx.limits.maxStorageBufferBindingSize);
    const values = rand(V * C, 51); // (V, C)
    const table = allocWeight(ctx, 'weights', 'embed_tokens', V, C, 'f32');
    expect(table.tiles.length).toBe(2);
    const boundary = table.tiles[1].row0; // 131072
    expect(boundary).toBe(131072);
    writeWeight(ctx, table, values);

    const idList = [0, V - 1, boundary - 1, boundary, boundary + 1, 5, 140000, boundary - 1, -1, V, 77777, 0, 2147483647, -2147483648];
    const N = idList.length;
    const ids = upload(ctx, 'ids', [N], Int32Array.from(idList));
    const out = ctx.alloc('activations', 'embed.out', [N, C]);
    ctx.write(out, new Float32Array(N * C).fill(7)); // stale values must be overwritten, zeros included
    embeddingForward(ctx, out, ids, table, { N, C, V });
    const got = await ctx.readF32(out);
    const want = new Float32Array(N * C);
    embeddingForwardRef(want, idList, values, { N, C, V });
    const r = report(`embedding f32 ${V}×${C} in ${table.tiles.length} tiles, ids [${idList.join(', ')}]`, got, want);
    expect(r.maxAbs).toBe(0);
    expect(equalBits(got, want)).toBe(true);
    expect(got.subarray(8 * C, 10 * C).every((v) => v === 0)).toBe(true); // ids −1 and V

    // the table gradient, also over one binding: dtable (V, C) is bound in two row ranges
    const dout = rand(N * C, 52); // (N, C)
    const tDout = upload(ctx, 'dout', [N, C], dout);
    const dtable = ctx.alloc('grads', 'embed.dtable', [V, C]);
    embeddingBackward(ctx, dtable, tDout, ids, { N, C, V });
    const want32 = new Float32Array(V * C);
    embeddingBackwardRef(want32, dout, idList, { N, C, V });
    const want64 = new Float64Array(V * C);
    embeddingBackwardRef(want64, dout, idList, { N, C, V });
    const rows = [...new Set([...idList.filter((v) => v >= 0 && v < V), 1, boundary - 2, boundary + 2, V - 2])];
    const gotRows = new Float32Array(rows.length * C);
    const want32Rows = new Float32Array(rows.length * C);
    const want64Rows = new Float64Array(rows.length * C);
    for (const [k, v] of rows.entries()) {
      gotRows.set(new Float32Array(await ctx.read(dtable, v * C * 4, C * 4)), k * C);
      want32Rows.set(want32.subarray(v * C, (v + 1) * C), k * C);
      want64Rows.set(want64.subarray(v * C, (v + 1) * C), k * C);
    }
    report(`embedding backward ${V}×${C} rows [${rows.join(', ')}] vs float64`, gotRows, want64Rows);
    const rb = report(`embedding backward ${V}×${C} vs f32 token-order sums`, gotRows, want32Rows);
    expect(rb.maxAbs).toBe(0);
    expect(gotRows.subarray(0, C).some((v) => v !== 0)).toBe(true); // row 0 got two tokens
    ctx.free(ids, out, tDout, dtable);
    freeWeight(ctx, table);
  });

  for (const format of ['int8', 'int4', 'f32'] as WeightFormat[]) {
    it(`${format} table 1000 × 128 in 4 tiles of ≤ 300 rows, with out-of-range ids`, async () => {
      const ctx = await gpu();
      const V = 1000;
      const C = 128;
      const values = rand(V * C, 53, 0.5); // (V, C)
      const table = allocWeight(ctx, 'weights', `embed.${format}`, V, C, format, 300);
      expect(table.tiles.length, `format ${format}`).toBe(4);
      writeWeight(ctx, table, values);
      // what the kernel must read: the dequantized packed values (quantization is per row, so tiles change nothing)
      const exact = format === 'f32' ? values : dequantizeRows(quantizeRows(values, V, C, format === 'int8' ? 8 : 4));
      const idList = [0, 299, 300, 301, 599, 600, 899, 900, 999, 1000, -5, 42, 42, 999, 2147483647];
      const N = idList.length;
      const ids = upload(ctx, 'ids', [N], Int32Array.from(idList));
      const out = upload(ctx, 'out', [N, C], new Float32Array(N * C).fill(-3));
      embeddingForward(ctx, out, ids, table, { N, C, V });
      const got = await ctx.readF32(out);
      const want = new Float32Array(N * C);
      embeddingForwardRef(want, idList, exact, { N, C, V });
      const r = report(`embedding ${format} ${V}×${C} (4 tiles) vs the exact dequantized values`, got, want);
      const f64 = new Float64Array(N * C);
      embeddingForwardRef(f64, idList, values, { N, C, V });
      report(`embedding ${format} ${V}×${C} vs the unquantized table (quantization error)`, got, f64);
      // scale·q + bias in f32: at most one rounding apart from the reference's (an FMA would round once)
      expect(r.maxAbs, `format ${format}`).toBeLessThanOrEqual(format === 'f32' ? 0 : 6e-8);
      expect(got.subarray(9 * C, 11 * C).every((v) => v === 0), `format ${format}`).toBe(true);
      expect(got.subarray(14 * C, 15 * C).every((v) => v === 0), `format ${format}`).toBe(true);
      ctx.free(ids, out);
      freeWeight(ctx, table);
    });
  }

  it('backward: repeated and out-of-range ids, = and +=, in token order', async () => {
    const ctx = await gpu();
    const V = 50;
    const C = 7;
    const N = 40;
    const idList = Array.from({ length: N }, (_, n) => (n % 9 === 8 ? [-1, 50, 1000][n % 3] : (n * 7) % 13));
    const dout = rand(N * C, 54); // (N, C)
    const dt0 = rand(V * C, 55); // (V, C)
    const ids = upload(ctx, 'ids', [N], Int32Array.from(idList));
    const tDout = upload(ctx, 'dout', [N, C], dout);
    const dtable = upload(ctx, 'dtable', [V, C], dt0);
    const dacc = upload(ctx, 'dacc', [V, C], dt0);
    embeddingBackward(ctx, dtable, tDout, ids, { N, C, V });
    embeddingBackward(ctx, dacc, tDout, ids, { N, C, V, accumulate: true });
    const got = await ctx.readF32(dtable);
    const gotAcc = await ctx.readF32(dacc);
    const want = new Float32Array(V * C);
    embeddingBackwardRef(want, dout, idList, { N, C, V });
    const want64 = new Float64Array(V * C);
    embeddingBackwardRef(want64, dout, idList, { N, C, V });
    const wantAcc = Float32Array.from(dt0);
    embeddingBackwardRef(wantAcc, dout, idList, { N, C, V, accumulate: true });
    const r64 = report('embedding backward vs float64 sums', got, want64);
    expect(r64.maxAbs).toBeLessThan(1e-6);
    const r = report('embedding backward vs f32 token-order sums', got, want);
    const ra = report('embedding backward += vs f32 token-order sums', gotAcc, wantAcc);
    expect(r.maxAbs).toBe(0);
    expect(ra.maxAbs).toBe(0);
    expect(got.subarray(13 * C).every((v) => v === 0)).toBe(true); // rows no token uses
    ctx.free(ids, tDout, dtable, dacc);
  });
});

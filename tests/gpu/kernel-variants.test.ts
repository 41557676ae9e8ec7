// Every variant of the matmul-family kernels (core/kernels/variants.ts: reg, sg with each tile size, tiled) against
// the float64 CPU reference, with the largest difference printed, and against the reg kernel bit for bit (the
// autotune's invariant: a variant changes speed, never results): the frozen linear forward (qlinear) and its
// transposed product (qlinear_t) in f32, int8 and int4 with row/column tails and tile offsets (as the chunked head
// uses them), and the f32 matmul over every transpose layout with accumulate, alpha and bias.
import { afterEach, describe, expect, it } from 'vitest';
import { qlinearTile, qlinearTileT } from '../../core/kernels/linear';
import { matmul, matmulVec4Ok } from '../../core/kernels/matmul';
import { candidates } from '../../core/kernels/variants';
import { allocWeight, freeWeight, writeWeight, type WeightFormat } from '../../core/kernels/weight';
import { variantId, type KernelFamily, type VariantChoice } from '../../core/gpu/tuning';
import type { GpuContext } from '../../core/gpu/context';
import { effectiveWeight } from '../../core/reference/linear';
import { matmulRef } from '../../core/reference/matmul';
import { gpu, rand, report, upload } from '../helpers/gpu';

const FORMATS: WeightFormat[] = ['f32', 'int8', 'int4'];
let forced: { ctx: GpuContext; family: KernelFamily } | null = null;

afterEach(() => {
  if (forced) forced.ctx.forcedVariants.delete(forced.family);
  forced = null;
});

function force(ctx: GpuContext, family: KernelFamily, v: VariantChoice): void {
  ctx.forcedVariants.set(family, v);
  forced = { ctx, family };
}

/** Values that differ in their bits. */
function bitDiffs(a: Float32Array, b: Float32Array): number {
  const ua = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const ub = new Uint32Array(b.buffer, b.byteOffset, b.length);
  let n = 0;
  for (let i = 0; i < ua.length; i++) if (ua[i] !== ub[i]) n++;
  return n;
}

/** Largest |got − want| allowed for f32 sums of K products of values in (−1, 1). */
const bound = (K: number): number => 2e-7 * K + 1e-6;

interface Case {
  M: number;
  N: number;
  K: number;
}

function casesFor(format: WeightFormat): Case[] {
  return format === 'f32'
    ? [{ M: 37, N: 45, K: 96 }, { M: 9, N: 70, K: 36 }]
    : [{ M: 37, N: 45, K: 128 }, { M: 16, N: 200, K: 64 }, { M: 70, N: 130, K: 192 }];
}

describe('qlinear variants (forward against one weight tile)', () => {
  for (const format of FORMATS) {
    for (const c of casesFor(format)) {
      it(`${format} M${c.M} N${c.N} K${c.K}: every variant matches the CPU reference and reg bit for bit`, async () => {
        const ctx = await gpu();
        const wv = rand(c.N * c.K, 31);
        const W = allocWeight(ctx, 'weights', 'w', c.N, c.K, format);
        writeWeight(ctx, W, wv);
        const w = effectiveWeight(wv, c.N, c.K, format);
        // Place like the chunked head and a column slice: X rows from xrow0, Y rows from yrow0, columns from ycol.
        const at = { ldy: c.N + 5, ycol: 3, yrow0: 2, xrow0: 1 };
        const x = rand((at.xrow0 + c.M) * c.K, 32);
        const y0 = rand((at.yrow0 + c.M) * at.ldy, 33);
        const bias = rand(at.ycol + c.N, 34);
        const tX = upload(ctx, 'x', [at.xrow0 + c.M, c.K], x);
        const tY = upload(ctx, 'y', [at.yrow0 + c.M, at.ldy], y0);
        const tB = upload(ctx, 'bias', [at.ycol + c.N], bias);
        const want = Float64Array.from(y0);
        for (let m = 0; m < c.M; m++) {
          for (let n = 0; n < c.N; n++) {
            let s = 0;
            for (let k = 0; k < c.K; k++) s += x[(at.xrow0 + m) * c.K + k] * w[n * c.K + k];
            const idx = (at.yrow0 + m) * at.ldy + at.ycol + n;
            want[idx] = -0.5 * s + bias[at.ycol + n] + y0[idx];
          }
        }
        const vs = candidates(ctx, 'qlinear', format, c);
        expect(vs[0].kind).toBe('reg');
        let ref: Float32Array | null = null;
        for (const v of vs) {
          force(ctx, 'qlinear', v);
          ctx.write(tY, y0);
          qlinearTile(ctx, tY, tX, W, W.tiles[0], c.M, at, { accumulate: true, alpha: -0.5, bias: tB });
          const got = await ctx.readF32(tY);
          const r = report(`qlinear ${variantId(v)} ${format} M${c.M} N${c.N} K${c.K}`, got, want);
          expect(r.maxAbs, variantId(v)).toBeLessThan(bound(c.K));
          if (!ref) ref = got;
          else expect(bitDiffs(got, ref), `${variantId(v)}: values whose bits differ from reg`).toBe(0);
        }
        console.log(`qlinear ${format}: ${vs.length} variants checked (${vs.map(variantId).join(', ')})`);
        expect(vs.length).toBeGreaterThan(format === 'f32' && c.K % 32 !== 0 ? 0 : 1);
        ctx.free(tX, tY, tB);
        freeWeight(ctx, W);
      });

      it(`${format} transposed M${c.M} cols${c.K} rows${c.N}: every variant matches the CPU reference and reg bit for bit`, async () => {
        const ctx = await gpu();
        // DX (M, cols) = alpha·G (M, rows)·W (rows, cols): W is the tile, rows = c.N, cols = c.K.
        const rows = c.N;
        const cols = c.K;
        const wv = rand(rows * cols, 41);
        const W = allocWeight(ctx, 'weights', 'w', rows, cols, format);
        writeWeight(ctx, W, wv);
        const w = effectiveWeight(wv, rows, cols, format);
        const at = { ldg: rows + 3, gcol: 2, grow0: 1, dxrow0: 2 };
        const g = rand((at.grow0 + c.M) * at.ldg, 42);
        const dx0 = rand((at.dxrow0 + c.M) * cols, 43);
        const tG = upload(ctx, 'g', [at.grow0 + c.M, at.ldg], g);
        const tDX = upload(ctx, 'dx', [at.dxrow0 + c.M, cols], dx0);
        const want = Float64Array.from(dx0);
        for (let m = 0; m < c.M; m++) {
          for (let cc = 0; cc < cols; cc++) {
            let s = 0;
            for (let k = 0; k < rows; k++) s += g[(at.grow0 + m) * at.ldg + at.gcol + k] * w[k * cols + cc];
            const idx = (at.dxrow0 + m) * cols + cc;
            want[idx] = 0.75 * s + dx0[idx];
          }
        }
        const vs = candidates(ctx, 'qlinear_t', format, { M: c.M, N: cols, K: rows });
        let ref: Float32Array | null = null;
        for (const v of vs) {
          force(ctx, 'qlinear_t', v);
          ctx.write(tDX, dx0);
          qlinearTileT(ctx, tDX, tG, W, W.tiles[0], c.M, at, { accumulate: true, alpha: 0.75 });
          const got = await ctx.readF32(tDX);
          const r = report(`qlinear_t ${variantId(v)} ${format} M${c.M} cols${cols} rows${rows}`, got, want);
          expect(r.maxAbs, variantId(v)).toBeLessThan(bound(rows));
          if (!ref) ref = got;
          else expect(bitDiffs(got, ref), `${variantId(v)}: values whose bits differ from reg`).toBe(0);
        }
        console.log(`qlinear_t ${format}: ${vs.length} variants checked (${vs.map(variantId).join(', ')})`);
        ctx.free(tG, tDX);
        freeWeight(ctx, W);
      });
    }
  }
});

describe('matmul variants', () => {
  const cases = [{ M: 37, N: 68, K: 24 }, { M: 70, N: 132, K: 40 }, { M: 8, N: 8, K: 100 }, { M: 100, N: 8, K: 36 }];
  for (const d of cases) {
    for (const transA of [false, true]) {
      for (const transB of [false, true]) {
        const o = { transA, transB };
        const layout = `f32.${transA ? 't' : 'n'}${transB ? 't' : 'n'}${matmulVec4Ok(d, o) ? '.vec4' : ''}`;
        it(`M${d.M} N${d.N} K${d.K} ${layout}: every variant matches the CPU reference and reg bit for bit`, async () => {
          const ctx = await gpu();
          const a = rand(d.M * d.K, 51);
          const b = rand(d.K * d.N, 52);
          const c0 = rand(d.M * d.N, 53);
          const bias = rand(d.N, 54);
          const tA = upload(ctx, 'a', [d.M * d.K], a);
          const tB = upload(ctx, 'b', [d.K * d.N], b);
          const tC = upload(ctx, 'c', [d.M * d.N], c0);
          const tBias = upload(ctx, 'bias', [d.N], bias);
          const want = Float64Array.from(c0);
          matmulRef(want, a, b, d, { ...o, accumulate: true, alpha: 0.5, bias });
          const vs = candidates(ctx, 'matmul', layout, d);
          let ref: Float32Array | null = null;
          for (const v of vs) {
            force(ctx, 'matmul', v);
            ctx.write(tC, c0);
            matmul(ctx, tC, tA, tB, d, { ...o, accumulate: true, alpha: 0.5, bias: tBias });
            const got = await ctx.readF32(tC);
            const r = report(`matmul ${variantId(v)} ${layout} ${JSON.stringify(d)}`, got, want);
            expect(r.maxAbs, variantId(v)).toBeLessThan(1e-5 * d.K);
            if (!ref) ref = got;
            else expect(bitDiffs(got, ref), `${variantId(v)}: values whose bits differ from reg`).toBe(0);
          }
          console.log(`matmul ${layout}: ${vs.length} variants checked (${vs.map(variantId).join(', ')})`);
          ctx.free(tA, tB, tC, tBias);
        });
      }
    }
  }
});

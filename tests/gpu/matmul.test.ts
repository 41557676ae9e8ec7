// f32 matmul (vec4 register-blocked and scalar paths) against the CPU reference, over every transpose layout,
// accumulate and bias, and tails that are not multiples of the 32×32 tile.
import { describe, expect, it } from 'vitest';
import { matmul, matmulVec4Ok } from '../../core/kernels/matmul';
import { matmulRef } from '../../core/reference/matmul';
import { gpu, rand, report, upload } from '../helpers/gpu';

const cases = [
  { M: 37, N: 68, K: 24 },
  { M: 64, N: 64, K: 64 },
  { M: 5, N: 12, K: 9 },
  { M: 33, N: 7, K: 13 },
  { M: 8, N: 16, K: 13 },
];

describe('matmul', () => {
  for (const d of cases) {
    for (const transA of [false, true]) {
      for (const transB of [false, true]) {
        const o = { transA, transB };
        const path = matmulVec4Ok(d, o) ? 'vec4' : 'scalar';
        it(`M${d.M} N${d.N} K${d.K} transA=${transA} transB=${transB} (${path}), with accumulate and bias`, async () => {
          const ctx = await gpu();
          const a = rand(d.M * d.K, 1);
          const b = rand(d.K * d.N, 2);
          const c0 = rand(d.M * d.N, 3);
          const bias = rand(d.N, 4);
          const tA = upload(ctx, 'a', [d.M * d.K], a);
          const tB = upload(ctx, 'b', [d.K * d.N], b);
          const tC = upload(ctx, 'c', [d.M * d.N], c0);
          const tBias = upload(ctx, 'bias', [d.N], bias);
          matmul(ctx, tC, tA, tB, d, { ...o, accumulate: true, alpha: 0.5, bias: tBias });
          const got = await ctx.readF32(tC);
          const want = Float64Array.from(c0);
          matmulRef(want, a, b, d, { ...o, accumulate: true, alpha: 0.5, bias });
          const r = report(`matmul ${path} ${JSON.stringify(d)} ${JSON.stringify(o)}`, got, want);
          expect(r.maxAbs, `d ${JSON.stringify(d)} transA ${transA} transB ${transB}`).toBeLessThan(1e-5 * d.K);
          ctx.free(tA, tB, tC, tBias);
        });
      }
    }
  }
});

describe('pipeline cache', () => {
  it('is keyed on compile-time choices only: new shapes reuse the pipeline, a new transpose compiles one', async () => {
    const ctx = await gpu();
    const run = (M: number, N: number, K: number, transB: boolean): void => {
      const a = ctx.alloc('workspace', 'a', [M * K]);
      const b = ctx.alloc('workspace', 'b', [K * N]);
      const c = ctx.alloc('workspace', 'c', [M * N]);
      matmul(ctx, c, a, b, { M, N, K }, { transB });
      ctx.free(a, b, c);
    };
    run(8, 8, 8, true);
    const n0 = ctx.pipelines!.size;
    run(16, 32, 64, true);
    run(40, 12, 20, true);
    expect(ctx.pipelines!.size).toBe(n0);
    run(16, 32, 64, false);
    expect(ctx.pipelines!.size).toBe(n0 + 1);
    await ctx.finish();
  });
});

// f16 storage (core/kernels/f16.ts): toF16 stores each f32 value as a nearest f16 (checked against the CPU reference
// of core/reference/f16.ts: the GPU's half is as close to the value as the round-to-nearest-even one, and the bits
// agree where there is no tie), fromF16 reads halves back exactly, over normal, subnormal, overflowing and odd-count
// inputs; the largest difference from the f32 input is printed.
import { describe, expect, it } from 'vitest';
import { f16ToF32 } from '../../core/common/half';
import { fromF16, toF16 } from '../../core/kernels/f16';
import { roundF16Ref, toF16Ref } from '../../core/reference/f16';
import { diff, gpu, rand, upload } from '../helpers/gpu';

/** Values across f16's finite range (WGSL leaves a value beyond it indeterminate): uniform ones at several scales,
 * subnormals, the largest half, signed zeros. */
function inputs(N: number): Float32Array {
  const x = new Float32Array(N);
  const u = rand(N, 91);
  const scales = [1, 1e-3, 1e-6, 3e-8, 100, 6e4];
  for (let i = 0; i < N; i++) x[i] = u[i] * scales[i % scales.length];
  x[0] = 0;
  x[1] = -0;
  x[2] = 65504; // the largest half
  x[3] = -65504;
  x[4] = 2 ** -24; // the smallest subnormal half
  return x;
}

describe('f16 storage', () => {
  for (const N of [1, 2, 1001, 4096]) {
    it(`toF16 then fromF16 of ${N} values: nearest halves, read back exactly`, async () => {
      const ctx = await gpu();
      const x = inputs(N);
      const f = upload(ctx, 'x', [N], x); // (N) f32
      const h = ctx.alloc('workspace', 'h', [N], 'f16'); // (N) f16
      toF16(ctx, h, f, N);
      const bits = new Uint16Array(await ctx.read(h), 0, N);
      const want = toF16Ref(x);
      let differ = 0;
      let maxAbs = 0;
      let at = -1;
      let maxRel = 0; // over normal halves (|x| ≥ 2⁻¹⁴): at most half an ulp, 2⁻¹¹
      for (let i = 0; i < N; i++) {
        const got = f16ToF32(bits[i]);
        const ref = f16ToF32(want[i]);
        if (bits[i] !== want[i]) {
          differ++;
          // only a tie may round either way: both are then exactly as far from the value
          expect(Math.abs(got - x[i]), `value ${i} = ${x[i]}: GPU half ${got} is not a nearest half (reference ${ref})`).toBe(Math.abs(ref - x[i]));
        }
        const d = Math.abs(got - x[i]);
        if (d > maxAbs) [maxAbs, at] = [d, i];
        if (Math.abs(x[i]) >= 2 ** -14) maxRel = Math.max(maxRel, d / Math.abs(x[i]));
      }
      expect(maxRel).toBeLessThanOrEqual(2 ** -11);
      console.log(`[max diff] toF16 of ${N} values: abs ${maxAbs.toExponential(3)} at ${at} (value ${x[at]}), rel ${maxRel.toExponential(3)} (normal halves), ${differ} halves differ from round-to-nearest-even`);
      const back = ctx.alloc('workspace', 'back', [N]); // (N) f32
      fromF16(ctx, back, h, N);
      const got = await ctx.readF32(back);
      for (let i = 0; i < N; i++) {
        expect(Object.is(got[i], f16ToF32(bits[i])), `value ${i}: fromF16 gave ${got[i]} for half bits ${bits[i].toString(16)}`).toBe(true);
      }
      const rt = diff(got, roundF16Ref(x));
      console.log(`[max diff] fromF16(toF16(x)) against the CPU round trip (round to nearest even), ${N} values: abs ${rt.maxAbs.toExponential(3)} at ${rt.at}`);
      ctx.free(f, h, back);
    });
  }

  it('an f16 tensor of N values takes 2·N bytes rounded up to whole words, in the ledger', async () => {
    const ctx = await gpu();
    const h = ctx.alloc('activations', 'odd', [3, 5], 'f16'); // (3, 5) f16: 15 halves = 30 bytes → 32
    expect(h.bytes).toBe(32);
    expect(h.numel).toBe(15);
    ctx.free(h);
  });

  it('refuses an f32 tensor on the f16 side and a short tensor, naming them', async () => {
    const ctx = await gpu();
    const f = ctx.alloc('workspace', 'f', [8]);
    const g = ctx.alloc('workspace', 'g', [8]);
    const h = ctx.alloc('workspace', 'h', [4], 'f16');
    expect(() => toF16(ctx, g, f, 8)).toThrow(/toF16: f16 side workspace:g\[8\] f32 must be f16/);
    expect(() => toF16(ctx, h, f, 8)).toThrow(/holds 4 values, needs 8/);
    ctx.free(f, g, h);
  });
});

// SwiGLU (Qwen2 MLP activation) on the GPU against the float64 reference: forward, backward, in place = out of place
// bit for bit, the backward against finite differences, extreme gates (no NaN), and an MLP-sized N = 256·11008; and
// the f16-storage forms (`--precision f16`) against the same reference on the halves, their outputs rounded once.
import { describe, expect, it } from 'vitest';
import { f32ArrayToF16 } from '../../core/common/half';
import { swigluBackward, swigluBackwardF16, swigluBackwardInPlace, swigluForward, swigluForwardF16 } from '../../core/kernels/swiglu';
import { roundF16Ref } from '../../core/reference/f16';
import { swigluBackwardRef, swigluForwardRef } from '../../core/reference/swiglu';
import { gpu, rand, report, upload } from '../helpers/gpu';
import { fdGrad, probeIndices } from '../helpers/fd';

function equalBits(a: Float32Array, b: Float32Array): boolean {
  const ua = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const ub = new Uint32Array(b.buffer, b.byteOffset, b.length);
  return a.length === b.length && ua.every((v, i) => v === ub[i]);
}

describe('swiglu', () => {
  for (const N of [1001, 256 * 11008]) {
    it(`forward and backward N ${N}`, async () => {
      const ctx = await gpu();
      const gate = rand(N, 31, 12); // (N)
      gate.set([0, -0, 100, -100, 88.8, -88.8, 1e-30, -30]); // sigmoid saturates, exp overflows
      const up = rand(N, 32, 2); // (N)
      const dout = rand(N, 33); // (N)
      const tG = upload(ctx, 'gate', [N], gate);
      const tU = upload(ctx, 'up', [N], up);
      const tD = upload(ctx, 'dout', [N], dout);
      const tOut = ctx.alloc('workspace', 'out', [N]);
      swigluForward(ctx, tOut, tG, tU, { N });
      const out = await ctx.readF32(tOut);
      const want = new Float64Array(N);
      swigluForwardRef(want, gate, up, { N });
      const r = report(`swiglu forward N ${N}`, out, want);
      expect(out.every(Number.isFinite), `N ${N}`).toBe(true);
      expect(r.maxAbs, `N ${N}`).toBeLessThan(1e-5); // |out| ≤ 200 here, typically ≤ 24

      const tDg = ctx.alloc('workspace', 'dgate', [N]);
      const tDu = ctx.alloc('workspace', 'dup', [N]);
      swigluBackward(ctx, tDg, tDu, tD, tG, tU, { N });
      const dg = await ctx.readF32(tDg);
      const du = await ctx.readF32(tDu);
      const wantDg = new Float64Array(N);
      const wantDu = new Float64Array(N);
      swigluBackwardRef(wantDg, wantDu, dout, gate, up, { N });
      const rg = report(`swiglu backward dgate N ${N}`, dg, wantDg);
      const ru = report(`swiglu backward dup N ${N}`, du, wantDu);
      expect(dg.every(Number.isFinite), `N ${N}`).toBe(true);
      expect(rg.maxAbs, `N ${N}`).toBeLessThan(5e-6);
      expect(ru.maxAbs, `N ${N}`).toBeLessThan(5e-6);

      // in place: gate → dgate, up → dup; the same bits as out of place
      swigluBackwardInPlace(ctx, tG, tU, tD, { N });
      expect(equalBits(await ctx.readF32(tG), dg), `N ${N}`).toBe(true);
      expect(equalBits(await ctx.readF32(tU), du), `N ${N}`).toBe(true);

      if (N < 10000) {
        // finite differences of the float64 forward w.r.t. gate and up (away from the extreme gates)
        const idx = probeIndices(N - 8).map((i) => i + 8);
        const fdG = idx.map((i) => fdGrad((g) => { const y = new Float64Array(N); swigluForwardRef(y, g, up, { N }); return y; }, gate, dout, i));
        const fdU = idx.map((i) => fdGrad((u) => { const y = new Float64Array(N); swigluForwardRef(y, gate, u, { N }); return y; }, up, dout, i));
        const rfg = report(`swiglu dgate vs finite differences N ${N}`, idx.map((i) => dg[i]), fdG);
        const rfu = report(`swiglu dup vs finite differences N ${N}`, idx.map((i) => du[i]), fdU);
        expect(rfg.maxRel, `N ${N}`).toBeLessThan(1e-5);
        expect(rfu.maxRel, `N ${N}`).toBeLessThan(1e-5);
      }
      ctx.free(tG, tU, tD, tOut, tDg, tDu);
    });
  }

  it('rejects aliased outputs', async () => {
    const ctx = await gpu();
    const a = ctx.alloc('workspace', 'a', [8]);
    const b = ctx.alloc('workspace', 'b', [8]);
    const c = ctx.alloc('workspace', 'c', [8]);
    expect(() => swigluForward(ctx, a, a, b, { N: 8 })).toThrow(/must not be/);
    expect(() => swigluBackward(ctx, a, b, c, a, b, { N: 8 })).toThrow(/InPlace/);
    expect(() => swigluBackwardInPlace(ctx, a, a, c, { N: 8 })).toThrow(/distinct/);
    ctx.free(a, b, c);
  });

  for (const N of [1001, 256 * 4864]) {
    it(`f16 storage: forward (f16 in, f32 out) and backward (f16 gradients, in place = out of place) N ${N}`, async () => {
      const ctx = await gpu();
      const gate = roundF16Ref(rand(N, 41, 12)); // (N) values that are halves
      gate.set([0, -0, 11, -11, 1e-4, -30]);
      const up = roundF16Ref(rand(N, 42, 2)); // (N)
      const dout = rand(N, 43); // (N) f32
      const half = (name: string, v: Float32Array) => {
        const t = ctx.alloc('workspace', name, [N], 'f16'); // (N) f16
        ctx.write(t, f32ArrayToF16(v));
        return t;
      };
      const tG = half('gate16', gate);
      const tU = half('up16', up);
      const tD = upload(ctx, 'dout', [N], dout);
      const tM = ctx.alloc('workspace', 'm', [N]); // (N) f32
      swigluForwardF16(ctx, tM, tG, tU, { N });
      const m = await ctx.readF32(tM);
      const wantM = new Float64Array(N);
      swigluForwardRef(wantM, gate, up, { N });
      const rm = report(`swiglu f16 forward N ${N}`, m, wantM);
      expect(rm.maxAbs, `N ${N}`).toBeLessThan(1e-5);
      const tDg = ctx.alloc('workspace', 'dgate16', [N], 'f16');
      const tDu = ctx.alloc('workspace', 'dup16', [N], 'f16');
      swigluBackwardF16(ctx, tDg, tDu, tD, tG, tU, { N });
      const dg = await ctx.readF32(tDg);
      const du = await ctx.readF32(tDu);
      const wantDg = new Float64Array(N);
      const wantDu = new Float64Array(N);
      swigluBackwardRef(wantDg, wantDu, dout, gate, up, { N });
      // one rounding to f16: half an ulp, 2⁻¹¹ relative (plus f32 arithmetic and the subnormal spacing 2⁻²⁴)
      const within = (got: Float32Array, want: Float64Array, what: string): void => {
        let worst = 0;
        let at = 0;
        for (let i = 0; i < N; i++) {
          const excess = Math.abs(got[i] - want[i]) - (2 ** -11 * Math.abs(want[i]) * (1 + 1e-5) + 2 ** -24);
          if (excess > worst || i === 0) [worst, at] = [excess, i];
        }
        report(`swiglu f16 backward ${what} N ${N}`, got, want);
        expect(worst, `N ${N} ${what}: value ${at} (${got[at]} vs ${want[at]}) is more than one f16 rounding away`).toBeLessThanOrEqual(0);
      };
      within(dg, wantDg, 'dgate');
      within(du, wantDu, 'dup');
      swigluBackwardF16(ctx, tG, tU, tD, null, null, { N }); // in place: gate16 → dgate16, up16 → dup16
      expect(equalBits(await ctx.readF32(tG), dg), `N ${N}: in place dgate`).toBe(true);
      expect(equalBits(await ctx.readF32(tU), du), `N ${N}: in place dup`).toBe(true);
      ctx.free(tG, tU, tD, tM, tDg, tDu);
    });
  }
});

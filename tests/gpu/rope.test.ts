// RoPE (HF Qwen2 rotate-half) on the GPU: the cos|sin table against float64 angles, the forward and the transpose
// against the float64 reference, in place = out of place bit for bit, and the backward against finite differences.
import { describe, expect, it } from 'vitest';
import { ropeBackward, ropeForward, ropeTable, ropeTableValues, type RopeDims } from '../../core/kernels/rope';
import { ropeAnglesF64, ropeRef } from '../../core/reference/rope';
import { gpu, rand, report, upload } from '../helpers/gpu';
import { fdGrad, probeIndices } from '../helpers/fd';

function equalBits(a: Float32Array, b: Float32Array): boolean {
  const ua = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const ub = new Uint32Array(b.buffer, b.byteOffset, b.length);
  return a.length === b.length && ua.every((v, i) => v === ub[i]);
}

describe('rope', () => {
  it('table follows HF float32 angles (theta 1e6 and 1e4)', async () => {
    for (const theta of [1e6, 1e4]) {
      const T = 64;
      const HS = 64;
      const tab = ropeTableValues(T, HS, theta); // (T, HS)
      const want = new Float64Array(T * HS);
      for (let t = 0; t < T; t++) {
        for (let i = 0; i < HS / 2; i++) {
          const a = ropeAnglesF64(t, i, HS, theta);
          want[t * HS + i] = Math.cos(a);
          want[t * HS + HS / 2 + i] = Math.sin(a);
        }
      }
      // f32 angles differ from exact ones by a few ulp of t·inv_freq (≤ 63 here), i.e. ≲ 1e-5
      const r = report(`rope table vs float64 angles theta ${theta}`, tab, want);
      expect(r.maxAbs, `theta ${theta}`).toBeLessThan(2e-5);
      expect(r.maxAbs, `theta ${theta}`).toBeGreaterThan(0); // the f32 angle rounding is visible: this is not the float64 table
      // position 1, pair 0: inv_freq = 1, angle = 1
      expect(tab[HS], `theta ${theta}`).toBe(Math.fround(Math.cos(1)));
      expect(tab[HS + HS / 2], `theta ${theta}`).toBe(Math.fround(Math.sin(1)));
      // position 0: cos 1, sin 0
      expect(tab.slice(0, HS / 2).every((v) => v === 1), `theta ${theta}`).toBe(true);
      expect(tab.slice(HS / 2, HS).every((v) => v === 0), `theta ${theta}`).toBe(true);
    }
    const ctx = await gpu();
    const t = ropeTable(ctx, 10, 16, 1e6);
    expect(t.name).toBe('rope.table');
    expect(t.category).toBe('workspace');
    expect(equalBits(await ctx.readF32(t), ropeTableValues(10, 16, 1e6))).toBe(true);
    ctx.free(t);
  });

  const cases: RopeDims[] = [
    { B: 2, T: 5, H: 3, HS: 8 },
    { B: 1, T: 16, H: 2, HS: 64 },
    { B: 3, T: 7, H: 2, HS: 2 },
  ];
  for (const d of cases) {
    it(`forward and backward B${d.B} T${d.T} H${d.H} HS${d.HS}`, async () => {
      const ctx = await gpu();
      const { B, T, H, HS } = d;
      const n = B * T * H * HS;
      const tableV = ropeTableValues(T + 3, HS, 1e6); // a table longer than T is allowed (positions 0..T-1 used)
      const table = upload(ctx, 'table', [T + 3, HS], tableV);
      const x = rand(n, 21, 2); // (B*T, H*HS)
      const dout = rand(n, 22); // (B*T, H*HS)
      const tX = upload(ctx, 'x', [B * T, H * HS], x);
      const tOut = ctx.alloc('workspace', 'out', [B * T, H * HS]);
      const tIn = upload(ctx, 'xin', [B * T, H * HS], x);
      ropeForward(ctx, tOut, tX, table, d);
      ropeForward(ctx, tIn, tIn, table, d);
      const out = await ctx.readF32(tOut);
      const outIn = await ctx.readF32(tIn);
      const want = new Float64Array(n);
      ropeRef(want, x, tableV, d);
      const r = report(`rope forward ${JSON.stringify(d)}`, out, want);
      expect(r.maxAbs, `d ${JSON.stringify(d)}`).toBeLessThan(1e-6);
      expect(equalBits(out, outIn), `d ${JSON.stringify(d)}`).toBe(true);

      const tDout = upload(ctx, 'dout', [B * T, H * HS], dout);
      const tDx = ctx.alloc('workspace', 'dx', [B * T, H * HS]);
      const tDin = upload(ctx, 'dxin', [B * T, H * HS], dout);
      ropeBackward(ctx, tDx, tDout, table, d);
      ropeBackward(ctx, tDin, tDin, table, d);
      const dx = await ctx.readF32(tDx);
      const dxIn = await ctx.readF32(tDin);
      const wantDx = new Float64Array(n);
      ropeRef(wantDx, dout, tableV, d, true);
      const rb = report(`rope backward ${JSON.stringify(d)}`, dx, wantDx);
      expect(rb.maxAbs, `d ${JSON.stringify(d)}`).toBeLessThan(1e-6);
      expect(equalBits(dx, dxIn), `d ${JSON.stringify(d)}`).toBe(true);

      const fwd = (xv: Float64Array): Float64Array => {
        const y = new Float64Array(n);
        ropeRef(y, xv, tableV, d);
        return y;
      };
      const idx = probeIndices(n);
      const rf = report(`rope backward vs finite differences ${JSON.stringify(d)}`, idx.map((i) => dx[i]), idx.map((i) => fdGrad(fwd, x, dout, i)));
      expect(rf.maxAbs, `d ${JSON.stringify(d)}`).toBeLessThan(1e-6);

      // the transpose undoes the rotation: backward(forward(x)) ≈ x
      ropeBackward(ctx, tIn, tIn, table, d);
      const rt = report(`rope backward(forward(x)) vs x ${JSON.stringify(d)}`, await ctx.readF32(tIn), x);
      expect(rt.maxAbs, `d ${JSON.stringify(d)}`).toBeLessThan(2e-6);
      ctx.free(table, tX, tOut, tIn, tDout, tDx, tDin);
    });
  }

  it('rejects an odd head size and a short table', async () => {
    const ctx = await gpu();
    const t = ctx.alloc('workspace', 't', [4, 6]);
    const tab = ctx.alloc('workspace', 'tab', [3, 6]);
    expect(() => ropeForward(ctx, t, t, tab, { B: 1, T: 4, H: 2, HS: 3 })).toThrow(/even/);
    expect(() => ropeForward(ctx, t, t, tab, { B: 1, T: 4, H: 1, HS: 6 })).toThrow(/table/);
    expect(() => ropeTableValues(4, 5, 1e4)).toThrow(/even/);
    ctx.free(t, tab);
  });
});

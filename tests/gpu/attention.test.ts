// Causal GQA attention (core/kernels/attention) against the float64 CPU reference (core/reference/attention), forward
// and backward, for B ∈ {1, 2}, T ∈ {1, 5, 16, 33}, NH/NKV ∈ {4/2, 2/2, 6/1}, HS ∈ {8, 16, 64}, plus the real Qwen2.5
// head shapes; the reference backward against central finite differences of the reference forward; and the bit
// identities the training methods rely on: forward out/lse do not depend on whether P is written, and the backward
// gives the same dq, dk, dv from the forward's P as from P recomputed from lse (MeSP).
import { describe, expect, it } from 'vitest';
import { attentionBackward, attentionFlops, attentionForward, type AttentionDims } from '../../core/kernels/attention';
import { attentionBackwardRef, attentionForwardRef } from '../../core/reference/attention';
import { GpuContext } from '../../core/gpu/context';
import type { Tensor } from '../../core/gpu/tensor';
import { gpu, rand, report, upload } from '../helpers/gpu';

/** Indices where two f32 arrays differ in bits (first few), or [] if identical. */
function bitDiff(a: Float32Array, b: Float32Array): number[] {
  const ua = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const ub = new Uint32Array(b.buffer, b.byteOffset, b.length);
  const bad: number[] = [];
  if (a.length !== b.length) return [-1];
  for (let i = 0; i < ua.length && bad.length < 5; i++) if (ua[i] !== ub[i]) bad.push(i);
  return bad;
}

interface Inputs {
  q: Float32Array; // (B*T, NH*HS)
  k: Float32Array; // (B*T, NKV*HS)
  v: Float32Array; // (B*T, NKV*HS)
  dout: Float32Array; // (B*T, NH*HS)
}

function inputs(d: AttentionDims, seed: number): Inputs {
  const nq = d.B * d.T * d.NH * d.HS;
  const nkv = d.B * d.T * d.NKV * d.HS;
  // q and k of scale 1.5 give scores of a few units (peaked rows), as after RoPE in a trained model.
  return { q: rand(nq, seed, 1.5), k: rand(nkv, seed + 1, 1.5), v: rand(nkv, seed + 2), dout: rand(nq, seed + 3) };
}

interface GpuRun {
  out: Float32Array; // (B*T, NH*HS)
  lse: Float32Array; // (B*T, NH)
  probs: Float32Array | null; // (B, NH, T, T)
  dq: Float32Array; // (B*T, NH*HS)
  dk: Float32Array; // (B*T, NKV*HS)
  dv: Float32Array; // (B*T, NKV*HS)
}

/** Forward (with or without P) then backward (from that P, or recomputing it) on the GPU. */
async function runGpu(ctx: GpuContext, d: AttentionDims, x: Inputs, keepP: boolean): Promise<GpuRun> {
  const { B, T, NH, NKV, HS } = d;
  const q = upload(ctx, 'q', [B * T, NH * HS], x.q); // (B*T, NH*HS)
  const k = upload(ctx, 'k', [B * T, NKV * HS], x.k); // (B*T, NKV*HS)
  const v = upload(ctx, 'v', [B * T, NKV * HS], x.v); // (B*T, NKV*HS)
  const dout = upload(ctx, 'dout', [B * T, NH * HS], x.dout); // (B*T, NH*HS)
  const out = ctx.alloc('activations', 'out', [B * T, NH * HS]); // (B*T, NH*HS)
  const lse = ctx.alloc('activations', 'lse', [B * T, NH]); // (B*T, NH)
  const probs = keepP ? ctx.alloc('activations', 'probs', [B, NH, T, T]) : null; // (B, NH, T, T)
  // Garbage in the outputs: the kernels must overwrite, not accumulate.
  const dq = upload(ctx, 'dq', [B * T, NH * HS], rand(B * T * NH * HS, 99)); // (B*T, NH*HS)
  const dk = upload(ctx, 'dk', [B * T, NKV * HS], rand(B * T * NKV * HS, 98)); // (B*T, NKV*HS)
  const dv = upload(ctx, 'dv', [B * T, NKV * HS], rand(B * T * NKV * HS, 97)); // (B*T, NKV*HS)
  attentionForward(ctx, out, lse, probs, q, k, v, d);
  attentionBackward(ctx, dq, dk, dv, dout, q, k, v, out, lse, probs, d);
  const r: GpuRun = {
    out: await ctx.readF32(out),
    lse: await ctx.readF32(lse),
    probs: probs ? await ctx.readF32(probs) : null,
    dq: await ctx.readF32(dq),
    dk: await ctx.readF32(dk),
    dv: await ctx.readF32(dv),
  };
  const all: (Tensor | null)[] = [q, k, v, dout, out, lse, probs, dq, dk, dv];
  ctx.free(...all);
  return r;
}

function forwardRef(d: AttentionDims, x: Inputs) {
  const { B, T, NH, NKV, HS } = d;
  const out = new Float64Array(B * T * NH * HS); // (B*T, NH*HS)
  const lse = new Float64Array(B * T * NH); // (B*T, NH)
  const probs = new Float64Array(B * NH * T * T); // (B, NH, T, T)
  attentionForwardRef(out, lse, probs, x.q, x.k, x.v, d);
  const dq = new Float64Array(B * T * NH * HS); // (B*T, NH*HS)
  const dk = new Float64Array(B * T * NKV * HS); // (B*T, NKV*HS)
  const dv = new Float64Array(B * T * NKV * HS); // (B*T, NKV*HS)
  attentionBackwardRef(dq, dk, dv, x.dout, x.q, x.k, x.v, d);
  return { out, lse, probs, dq, dk, dv };
}

/** L = Σ dout ⊙ out of the float64 reference forward. */
function lossRef(d: AttentionDims, q: ArrayLike<number>, k: ArrayLike<number>, v: ArrayLike<number>, dout: ArrayLike<number>): number {
  const out = new Float64Array(d.B * d.T * d.NH * d.HS); // (B*T, NH*HS)
  attentionForwardRef(out, null, null, q, k, v, d);
  let L = 0;
  for (let i = 0; i < out.length; i++) L += out[i] * dout[i];
  return L;
}

/** ∂L/∂x[i] by central differences of the float64 reference forward. */
function finiteDiff(d: AttentionDims, x: Inputs, which: 'q' | 'k' | 'v', i: number): number {
  const eps = 1e-4;
  const plus = { q: Float64Array.from(x.q), k: Float64Array.from(x.k), v: Float64Array.from(x.v) };
  const minus = { q: Float64Array.from(x.q), k: Float64Array.from(x.k), v: Float64Array.from(x.v) };
  plus[which][i] += eps;
  minus[which][i] -= eps;
  return (lossRef(d, plus.q, plus.k, plus.v, x.dout) - lossRef(d, minus.q, minus.k, minus.v, x.dout)) / (2 * eps);
}

const cases: AttentionDims[] = [];
for (const B of [1, 2]) {
  for (const T of [1, 5, 16, 33]) {
    for (const [NH, NKV] of [[4, 2], [2, 2], [6, 1]]) {
      for (const HS of [8, 16, 64]) cases.push({ B, T, NH, NKV, HS });
    }
  }
}
// The real head shapes: Qwen2.5-0.5B (14/2 × 64) and 3B (16/2 × 128), at short T.
cases.push({ B: 1, T: 40, NH: 14, NKV: 2, HS: 64 }, { B: 1, T: 20, NH: 16, NKV: 2, HS: 128 });

describe('attention', () => {
  let seed = 10;
  for (const d of cases) {
    const s = (seed += 10);
    const label = `B${d.B} T${d.T} NH${d.NH}/NKV${d.NKV} HS${d.HS}`;
    it(label, async () => {
      const ctx = await gpu();
      const x = inputs(d, s);
      const withP = await runGpu(ctx, d, x, true);
      const noP = await runGpu(ctx, d, x, false);
      const ref = forwardRef(d, x);

      // Bit identities: out/lse do not depend on writing P; backward from kept P = backward recomputing P.
      expect(bitDiff(withP.out, noP.out), `d ${JSON.stringify(d)}`).toEqual([]);
      expect(bitDiff(withP.lse, noP.lse), `d ${JSON.stringify(d)}`).toEqual([]);
      expect(bitDiff(withP.dq, noP.dq), `d ${JSON.stringify(d)}`).toEqual([]);
      expect(bitDiff(withP.dk, noP.dk), `d ${JSON.stringify(d)}`).toEqual([]);
      expect(bitDiff(withP.dv, noP.dv), `d ${JSON.stringify(d)}`).toEqual([]);

      // The subgroup form (where the adapter has subgroups; attention_variants.ts) against the original kernels.
      ctx.forcedVariants.set('attention', { kind: 'reg', params: {} });
      try {
        const regP = await runGpu(ctx, d, x, true);
        const regNoP = await runGpu(ctx, d, x, false);
        for (const [name, a, b] of [['out', withP.out, regP.out], ['lse', withP.lse, regP.lse], ['P', withP.probs!, regP.probs!], ['dq', withP.dq, regP.dq],
          ['dk', withP.dk, regP.dk], ['dv', withP.dv, regP.dv], ['dq (P recomputed)', noP.dq, regNoP.dq], ['dk (P recomputed)', noP.dk, regNoP.dk]] as const) {
          expect(bitDiff(a, b), `${label}: ${name}, ${ctx.features.subgroupSize ? `subgroup ${ctx.features.subgroupSize}` : 'no subgroups'} vs original kernels`).toEqual([]);
        }
      } finally {
        ctx.forcedVariants.delete('attention');
      }

      // Against float64. Values are O(1); measured at most 6e-7 absolute (forward) and 6e-7 relative to the largest
      // gradient (backward), so the bounds leave about 3x.
      expect(report(`attention fwd out ${label}`, withP.out, ref.out).maxAbs, `d ${JSON.stringify(d)}`).toBeLessThan(1e-6);
      expect(report(`attention fwd lse ${label}`, withP.lse, ref.lse).maxAbs, `d ${JSON.stringify(d)}`).toBeLessThan(2e-6);
      expect(report(`attention fwd P ${label}`, withP.probs!, ref.probs).maxAbs, `d ${JSON.stringify(d)}`).toBeLessThan(1e-6);
      expect(report(`attention bwd dq ${label}`, withP.dq, ref.dq).maxRel, `d ${JSON.stringify(d)}`).toBeLessThan(2e-6);
      expect(report(`attention bwd dk ${label}`, withP.dk, ref.dk).maxRel, `d ${JSON.stringify(d)}`).toBeLessThan(2e-6);
      expect(report(`attention bwd dv ${label}`, withP.dv, ref.dv).maxRel, `d ${JSON.stringify(d)}`).toBeLessThan(2e-6);

      // The reference backward (and so the kernels) against finite differences of the reference forward.
      const n = d.B * d.T;
      const picks: ['q' | 'k' | 'v', number, number][] = [
        ['q', (n - 1) * d.NH * d.HS + (d.NH - 1) * d.HS + 1, ref.dq[(n - 1) * d.NH * d.HS + (d.NH - 1) * d.HS + 1]],
        ['k', 2 % (n * d.NKV * d.HS), ref.dk[2 % (n * d.NKV * d.HS)]],
        ['v', n * d.NKV * d.HS - 3, ref.dv[n * d.NKV * d.HS - 3]],
      ];
      const fd: number[] = [];
      const an: number[] = [];
      for (const [which, i, analytic] of picks) {
        fd.push(finiteDiff(d, x, which, i));
        an.push(analytic);
      }
      expect(report(`attention ref bwd vs finite differences ${label}`, an, fd).maxAbs, `d ${JSON.stringify(d)}`).toBeLessThan(1e-7);
    });
  }

  it('checks shapes and refuses what the kernels cannot do', async () => {
    const ctx = await gpu();
    const t = ctx.alloc('workspace', 't', [4096]);
    const u = ctx.alloc('workspace', 'u', [4096]);
    const w = ctx.alloc('workspace', 'w', [4096]);
    const d = { B: 1, T: 4, NH: 2, NKV: 2, HS: 16 };
    expect(() => attentionForward(ctx, t, null, null, t, u, w, d)).toThrow(/same tensor/);
    expect(() => attentionForward(ctx, t, null, null, u, w, w, { ...d, HS: 6 })).toThrow(/multiple of 4/);
    expect(() => attentionForward(ctx, t, null, null, u, w, w, { ...d, HS: 256 })).toThrow(/at most 128/);
    expect(() => attentionForward(ctx, t, null, null, u, w, w, { ...d, NH: 3 })).toThrow(/multiple of NKV/);
    expect(() => attentionForward(ctx, t, null, null, u, w, w, { ...d, T: 1000 })).toThrow(/holds 4096 values/);
    ctx.free(t, u, w);
    // Temporaries (lse when not asked for, the backward's stats) are freed: a dry (planning) run leaves nothing live.
    const dry = GpuContext.dry();
    const live0 = dry.ledger.liveBytes;
    const big = { B: 1, T: 512, NH: 16, NKV: 2, HS: 128 };
    const [a, b2, c] = [dry.alloc('workspace', 'a', [512, 16 * 128]), dry.alloc('workspace', 'b', [512, 256]), dry.alloc('workspace', 'c', [512, 256])];
    const [o, l] = [dry.alloc('workspace', 'o', [512, 16 * 128]), dry.alloc('workspace', 'l', [512, 16])];
    const [g1, g2, g3] = [dry.alloc('workspace', 'g1', [512, 16 * 128]), dry.alloc('workspace', 'g2', [512, 256]), dry.alloc('workspace', 'g3', [512, 256])];
    attentionForward(dry, o, null, null, a, b2, c, big);
    attentionBackward(dry, g1, g2, g3, o, a, b2, c, o, l, null, big);
    dry.free(a, b2, c, o, l, g1, g2, g3);
    expect(dry.ledger.liveBytes).toBe(live0);
    const f = attentionFlops({ B: 1, T: 2, NH: 1, NKV: 1, HS: 4 });
    expect(f).toEqual({ forward: 3 * 4 * 4, backward: 3 * 10 * 4 });
  });
});

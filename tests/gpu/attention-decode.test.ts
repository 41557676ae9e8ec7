// Decoding attention (core/kernels/attention_decode) against its float64 CPU reference (core/reference/attention_decode)
// for cache lengths 1 to 1000, NH/NKV ∈ {4/2, 6/1, 2/2, 4/4} and the real Qwen2.5 head shapes, with garbage in the cache
// rows past len and in the scratch (the kernel must read neither); and against the prefill kernel: the decode of
// position t over the cache equals row t of the causal attentionForward of the whole sequence.
import { describe, expect, it } from 'vitest';
import { attentionForward } from '../../core/kernels/attention';
import { attentionDecode, type AttentionDecodeDims } from '../../core/kernels/attention_decode';
import { attentionDecodeRef } from '../../core/reference/attention_decode';
import { gpu, rand, report, upload } from '../helpers/gpu';

const CASES: (AttentionDecodeDims & { cap: number })[] = [
  { len: 1, cap: 4, NH: 4, NKV: 2, HS: 8 },
  { len: 5, cap: 9, NH: 4, NKV: 2, HS: 16 },
  { len: 33, cap: 40, NH: 6, NKV: 1, HS: 16 },
  { len: 64, cap: 64, NH: 2, NKV: 2, HS: 64 },
  { len: 1000, cap: 1024, NH: 4, NKV: 4, HS: 8 },
  { len: 129, cap: 256, NH: 14, NKV: 2, HS: 64 }, // Qwen2.5-0.5B
  { len: 300, cap: 301, NH: 12, NKV: 2, HS: 128 }, // Qwen2.5-1.5B
  { len: 70, cap: 128, NH: 16, NKV: 2, HS: 128 }, // Qwen2.5-3B
];

describe('attentionDecode', () => {
  for (const c of CASES) {
    it(`len ${c.len} (cache ${c.cap}), NH ${c.NH}/NKV ${c.NKV}, HS ${c.HS} vs the float64 reference`, async () => {
      const ctx = await gpu();
      const { len, cap, NH, NKV, HS } = c;
      const q = rand(NH * HS, 11 + len, 1.5); // (NH*HS)
      const k = rand(cap * NKV * HS, 12 + len, 1.5); // (cap, NKV*HS): rows ≥ len are garbage the kernel must not read
      const v = rand(cap * NKV * HS, 13 + len); // (cap, NKV*HS)
      const tq = upload(ctx, 'q', [1, NH * HS], q);
      const tk = upload(ctx, 'k', [cap, NKV * HS], k, 'kvcache');
      const tv = upload(ctx, 'v', [cap, NKV * HS], v, 'kvcache');
      const scores = upload(ctx, 'scores', [NH, cap], rand(NH * cap, 99, 50)); // garbage scratch
      const out = upload(ctx, 'out', [1, NH * HS], rand(NH * HS, 98)); // garbage: overwritten, not accumulated
      attentionDecode(ctx, out, scores, tq, tk, tv, c);
      const got = await ctx.readF32(out);
      ctx.free(tq, tk, tv, scores, out);
      const want = new Float64Array(NH * HS);
      attentionDecodeRef(want, q, k, v, c);
      const r = report(`attention decode ${JSON.stringify(c)}`, got, want);
      expect(r.maxRel).toBeLessThan(2e-6);
      expect(r.maxAbs).toBeLessThan(2e-6);
    });
  }

  it('the decode of each position equals that row of the causal prefill attention', async () => {
    const ctx = await gpu();
    const d = { B: 1, T: 37, NH: 6, NKV: 2, HS: 16 };
    const qs = rand(d.T * d.NH * d.HS, 21, 1.5); // (T, NH*HS)
    const ks = rand(d.T * d.NKV * d.HS, 22, 1.5); // (T, NKV*HS)
    const vs = rand(d.T * d.NKV * d.HS, 23); // (T, NKV*HS)
    const q = upload(ctx, 'q', [d.T, d.NH * d.HS], qs);
    const k = upload(ctx, 'k', [d.T, d.NKV * d.HS], ks, 'kvcache');
    const v = upload(ctx, 'v', [d.T, d.NKV * d.HS], vs, 'kvcache');
    const full = ctx.alloc('workspace', 'full', [d.T, d.NH * d.HS]); // (T, NH*HS)
    attentionForward(ctx, full, null, null, q, k, v, d);
    const want = await ctx.readF32(full);
    const scores = ctx.alloc('workspace', 'scores', [d.NH, d.T]); // (NH, T)
    const qt = ctx.alloc('workspace', 'q_t', [1, d.NH * d.HS]); // (1, NH*HS)
    const out = ctx.alloc('workspace', 'out', [1, d.NH * d.HS]); // (1, NH*HS)
    const got = new Float32Array(d.T * d.NH * d.HS);
    for (let t = 0; t < d.T; t++) {
      ctx.copy(q, qt, d.NH * d.HS * 4, t * d.NH * d.HS * 4, 0);
      attentionDecode(ctx, out, scores, qt, k, v, { len: t + 1, NH: d.NH, NKV: d.NKV, HS: d.HS });
      got.set(await ctx.readF32(out), t * d.NH * d.HS);
    }
    ctx.free(q, k, v, full, scores, qt, out);
    const r = report('decode of every position vs the prefill attention rows', got, want);
    expect(r.maxRel).toBeLessThan(1e-6);
  });

  it('refuses a scratch shorter than len and a cache holding fewer than len rows', async () => {
    const ctx = await gpu();
    const q = ctx.alloc('workspace', 'q', [1, 32]);
    const k = ctx.alloc('kvcache', 'k', [4, 16]);
    const v = ctx.alloc('kvcache', 'v', [4, 16]);
    const out = ctx.alloc('workspace', 'out', [1, 32]);
    const short = ctx.alloc('workspace', 'scores', [4, 3]);
    const dims = { len: 4, NH: 4, NKV: 2, HS: 8 };
    expect(() => attentionDecode(ctx, out, short, q, k, v, dims)).toThrow(/scratch .* must be \(NH = 4, ld ≥ len = 4\)/);
    const scores = ctx.alloc('workspace', 'scores2', [4, 8]);
    expect(() => attentionDecode(ctx, out, scores, q, k, v, { ...dims, len: 5 })).toThrow(/k .* holds 64 values, needs 80/);
    ctx.free(q, k, v, out, short, scores);
  });
});

// Generation on the GPU (core/infer): on a tied and an untied tiny Qwen2, without and with a LoRA adapter (applied
// unmerged), (1) the KV-cache decoder's logits at every step equal a full forward over the whole sequence so far
// (core/model/logits.ts) within 1e-5 relative; (2) greedy decoding from token ids equals the independent float64
// reference's greedy continuation (tests/helpers/ref64-decode.ts, no cache) token for token; and the ledger is back at
// its baseline after every generation. Also: a prompt longer than one batched prefill (a chunk, then token by token),
// int8 and int4 weights through the same decoder, the KV cache refused before the
// prefill when it would go over the cap (no kernel runs), cleanup after an error mid-generation and after a refusal
// mid-prefill (tests/helpers/refusal.ts), and the dry-run plan equal to the measured peak.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OutOfBudgetError } from '../../core/common/errors';
import { PHONE_LIMITS, type GpuContext, type OpenOptions } from '../../core/gpu/context';
import { KvDecoder, maxPrefillTokens } from '../../core/infer/decoder';
import { qwen25Config } from '../../core/model/shapes';
import { generate, type GenerateSpec } from '../../core/infer/generate';
import { kvCacheBytes } from '../../core/infer/kvcache';
import { planGenerate } from '../../core/infer/plan';
import { argmax, GREEDY } from '../../core/infer/sampling';
import type { LoraAdapter } from '../../core/model/adapter';
import { allocWeight, freeWeight, writeWeight } from '../../core/kernels/weight';
import { forwardLogits } from '../../core/model/logits';
import { freeModelWeights, loadModelWeights, type ModelWeights, type Quant } from '../../core/model/weights';
import { openModelFolder } from '../../core/node/modelfiles';
import { uploadAdapter, type HostAdapter } from '../../core/train/lora';
import { gpu } from '../helpers/gpu';
import { expectCleanRefusal } from '../helpers/refusal';
import { randomAdapter, toRef64 } from '../helpers/lora';
import { refGreedy } from '../helpers/ref64-decode';
import { makeTinyModel, tokenRows, type TinyModel } from '../helpers/tiny';

const made: TinyModel[] = [];
afterAll(() => made.forEach((m) => m.cleanup()));

const greedy = (maxNewTokens: number): GenerateSpec => ({ sampling: GREEDY, maxNewTokens, eosIds: [], stop: [], tokenizer: null });

/** Largest |a − b| over max |b| (the relative difference every kernel test reports). */
function relDiff(a: Float32Array, b: Float32Array): number {
  let d = 0;
  let s = 0;
  for (let i = 0; i < b.length; i++) {
    d = Math.max(d, Math.abs(a[i] - b[i]));
    s = Math.max(s, Math.abs(b[i]));
  }
  return d / (s || 1);
}

/** Decode n greedy tokens with the cache, checking each step's logits against the full forward of the sequence. */
async function cacheVsFull(ctx: GpuContext, model: ModelWeights, lora: LoraAdapter | null, prompt: number[], n: number): Promise<number> {
  const V = model.cfg.vocab;
  const dec = KvDecoder.open(ctx, model, lora, prompt.length + n);
  const seq = [...prompt];
  let worst = 0;
  try {
    let logits = await dec.prefill(prompt);
    for (let i = 0; i < n; i++) {
      const full = await forwardLogits(ctx, model, lora, { B: 1, T: seq.length, inputIds: Int32Array.from(seq) }); // (T, V)
      const want = full.subarray((seq.length - 1) * V, seq.length * V);
      worst = Math.max(worst, relDiff(logits, want));
      const next = argmax(logits);
      seq.push(next);
      if (i + 1 < n) logits = await dec.step(next);
    }
  } finally {
    dec.free();
  }
  return worst;
}

/** A tiny model, its folder and its weights on a context: the file's shared one, or a fresh one for `options`. */
async function tinyOnGpu(opts: Parameters<typeof makeTinyModel>[0], options?: OpenOptions) {
  const m = makeTinyModel(opts);
  made.push(m);
  const folder = openModelFolder(m.dir);
  const ctx = await gpu(options);
  return { m, folder, ctx, model: loadModelWeights(ctx, folder.config, 'none', (n) => folder.read(n)) };
}

/** tinyOnGpu on a fresh context without a cap, with a random rank-4 adapter uploaded. */
async function withAdapter(opts: Parameters<typeof makeTinyModel>[0], adapterSeed: number) {
  const t = await tinyOnGpu(opts, { capBytes: Number.POSITIVE_INFINITY });
  const host = randomAdapter(t.m, 4, 8, adapterSeed);
  return { ...t, host, lora: uploadAdapter(t.ctx, t.folder.config, host) };
}

const MODELS = [
  { name: 'tied head, vocab 1024, GQA 4/2', opts: { seed: 31 } },
  { name: 'untied head, vocab 4096, GQA 8/2', opts: { seed: 33, tied: false, vocab: 4096, heads: 8, kvHeads: 2 } },
];

for (const variant of MODELS) describe(`generation (${variant.name})`, () => {
  let ctx: GpuContext;
  let m: TinyModel;
  let model: ModelWeights;
  let host: HostAdapter;
  let lora: LoraAdapter;
  let baseline: number;
  const prompt = tokenRows(variant.opts.vocab ?? 1024, [7], 5)[0].ids;

  beforeAll(async () => {
    ctx = await gpu();
    m = makeTinyModel(variant.opts);
    made.push(m);
    const folder = openModelFolder(m.dir);
    model = loadModelWeights(ctx, folder.config, 'none', (n) => folder.read(n));
    host = randomAdapter(m, 4, 8, 77);
    lora = uploadAdapter(ctx, folder.config, host);
    await ctx.finish();
    baseline = ctx.ledger.liveBytes;
  });
  afterAll(() => {
    ctx.free(...lora.layers.flatMap((l) => Object.values(l).flatMap((p) => [p.A, p.B])));
    freeModelWeights(ctx, model);
  });

  for (const withLora of [false, true]) {
    const label = withLora ? 'with a LoRA adapter' : 'without an adapter';
    it(`KV-cache logits equal the full forward's at every step, ${label}`, async () => {
      const worst = await cacheVsFull(ctx, model, withLora ? lora : null, prompt, 10);
      console.log(`[max diff] ${variant.name}, ${label}: KV-cache decoding vs full forward logits over 10 steps: rel ${worst.toExponential(3)}`);
      expect(worst).toBeLessThan(1e-5);
      expect(ctx.ledger.liveBytes).toBe(baseline);
    });

    it(`greedy decoding equals the float64 reference token for token, ${label}`, async () => {
      const n = 12;
      const out = await generate(ctx, model, withLora ? lora : null, prompt, greedy(n));
      expect(ctx.ledger.liveBytes).toBe(baseline);
      const ref = refGreedy(m.cfg, m.weights, prompt, n, withLora ? toRef64(host) : null);
      console.log(`${variant.name}, ${label}: engine ${out.tokens.join(',')} | float64 ${ref.tokens.join(',')}; smallest top-2 margin ${Math.min(...ref.margins).toExponential(2)}`);
      expect(out.tokens).toEqual(ref.tokens);
      expect(out.finishReason).toBe('length');
      expect(out.promptTokens).toBe(prompt.length);
      expect(out.decodeSteps).toBe(n - 1);
      expect(new Set(out.tokens).size).toBeGreaterThan(1); // a real continuation, not one token repeated
    });
  }

  it('the adapter changes the continuation (the LoRA path is live)', async () => {
    const base = await generate(ctx, model, null, prompt, greedy(12));
    const tuned = await generate(ctx, model, lora, prompt, greedy(12));
    expect(tuned.tokens).not.toEqual(base.tokens);
    expect(ctx.ledger.liveBytes).toBe(baseline);
  });
});

describe('long prompts and a tiled vocabulary', () => {
  it('a prompt over one batched prefill is prefilled in a chunk and fed token by token: the same logits and tokens', async () => {
    const { ctx, model } = await tinyOnGpu({ seed: 47 });
    const prompt = tokenRows(1024, [13], 8)[0].ids;
    const whole = KvDecoder.open(ctx, model, null, 20);
    const chunked = KvDecoder.open(ctx, model, null, 20, { prefillChunk: 4 });
    try {
      expect(chunked.prefillChunk).toBe(4);
      let a = await whole.prefill(prompt);
      let b = await chunked.prefill(prompt);
      let worst = relDiff(b, a);
      for (let i = 0; i < 5; i++) {
        const t = argmax(a);
        expect(argmax(b), `step ${i}`).toBe(t);
        a = await whole.step(t);
        b = await chunked.step(t);
        worst = Math.max(worst, relDiff(b, a));
      }
      console.log(`[max diff] prefill in one forward vs a chunk of 4 then token by token: rel ${worst.toExponential(3)}`);
      expect(worst).toBeLessThan(1e-5);
    } finally {
      whole.free();
      chunked.free();
      freeModelWeights(ctx, model);
    }
  });

  it('an LM head split into vocabulary tiles (as the 151936-row head is under phone limits) gives the same logits', async () => {
    const { m, ctx, model } = await tinyOnGpu({ seed: 49 });
    const tiled = allocWeight(ctx, 'weights', 'lm_head.tiled', m.cfg.vocab, m.cfg.hidden, 'f32', 300); // 300, 300, 300, 124 rows
    writeWeight(ctx, tiled, m.weights.get('model.embed_tokens.weight')!);
    expect(tiled.tiles.length).toBe(4);
    const prompt = tokenRows(1024, [6], 10)[0].ids;
    try {
      const one = await generate(ctx, model, null, prompt, greedy(6));
      const split = await generate(ctx, { ...model, head: tiled }, null, prompt, greedy(6));
      expect(split.tokens).toEqual(one.tokens);
      const worst = await cacheVsFull(ctx, { ...model, head: tiled }, null, prompt, 4);
      console.log(`[max diff] 4-tile LM head, KV-cache decoding vs full forward: rel ${worst.toExponential(3)}`);
      expect(worst).toBeLessThan(1e-5);
    } finally {
      freeWeight(ctx, tiled);
      freeModelWeights(ctx, model);
    }
  });

  it('the batched prefill takes as many tokens as its widest activation fits one binding (Qwen2.5 under phone limits)', () => {
    expect(maxPrefillTokens(qwen25Config('qwen2.5-0.5b'), PHONE_LIMITS)).toBe(Math.floor(2 ** 27 / (4864 * 4)));
    expect(maxPrefillTokens(qwen25Config('qwen2.5-3b'), PHONE_LIMITS)).toBe(3048);
  });
});

describe('generation memory', () => {
  it('int8 weights: the KV-cache logits equal the full forward of the same quantized model', async () => {
    const m = makeTinyModel({ seed: 41, hidden: 128, intermediate: 256 });
    made.push(m);
    const ctx = await gpu();
    const folder = openModelFolder(m.dir);
    for (const quant of ['int8', 'int4'] as Quant[]) {
      const model = loadModelWeights(ctx, folder.config, quant, (n) => folder.read(n));
      const worst = await cacheVsFull(ctx, model, null, tokenRows(1024, [6], 9)[0].ids, 6);
      freeModelWeights(ctx, model);
      console.log(`[max diff] ${quant}: KV-cache decoding vs full forward logits: rel ${worst.toExponential(3)}`);
      expect(worst, quant).toBeLessThan(1e-5);
    }
  });

  it('the KV cache is refused before the prefill when it would go over the cap; the ledger is back at its baseline', async () => {
    const m = makeTinyModel({ seed: 43 });
    made.push(m);
    const folder = openModelFolder(m.dir);
    const prompt = tokenRows(1024, [8], 2)[0].ids;
    const maxNew = 400;
    // A cap that holds the weights and all of the cache but 1 byte.
    const probe = await gpu({ capBytes: Number.POSITIVE_INFINITY });
    loadModelWeights(probe, folder.config, 'none', (n) => folder.read(n));
    const loaded = probe.ledger.liveBytes;
    probe.destroy();
    const cache = kvCacheBytes(folder.config, prompt.length + maxNew);
    const ctx = await gpu({ capBytes: loaded + cache - 1 });
    try {
      const model = loadModelWeights(ctx, folder.config, 'none', (n) => folder.read(n));
      await ctx.finish();
      const baseline = ctx.ledger.liveBytes;
      expect(baseline).toBe(loaded);
      const dispatches = ctx.dispatches;
      const err = await generate(ctx, model, null, prompt, greedy(maxNew)).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(OutOfBudgetError);
      const e = err as OutOfBudgetError;
      console.log(`refused: ${e.message}`);
      expect(e.request.category).toBe('kvcache');
      expect(e.message).toMatch(/--max-new-tokens/);
      expect(ctx.dispatches).toBe(dispatches); // no kernel ran: refused before the prefill
      expect(ctx.ledger.liveBytes).toBe(baseline);
      // A generation whose cache fits runs on the same context, and leaves the ledger where it was.
      const ok = await generate(ctx, model, null, prompt, greedy(4));
      expect(ok.tokens).toHaveLength(4);
      expect(ctx.ledger.liveBytes).toBe(baseline);
      // An error in the caller's callback mid-generation: everything is freed too.
      const boom = await generate(ctx, model, null, prompt, greedy(3), { onToken: () => { throw new Error('callback failed'); } }).catch((x: unknown) => x);
      expect(boom).toBeInstanceOf(Error);
      expect(ctx.ledger.liveBytes).toBe(baseline);
    } finally {
      ctx.destroy();
    }
  });

  it('a generation refused mid-prefill (the cache fits, the forward does not) frees everything; the same context then gives the same tokens', async () => {
    const { folder, ctx, model, host, lora } = await withAdapter({ seed: 47 }, 7);
    try {
      await ctx.finish();
      const prompt = tokenRows(1024, [24], 6)[0].ids;
      const before = await generate(ctx, model, lora, prompt, greedy(3));
      const plan = await planGenerate({ cfg: folder.config, quant: 'none', promptTokens: prompt.length, maxNewTokens: 3, lora: host });
      const err = await expectCleanRefusal(ctx, plan.peakBytes, () => generate(ctx, model, lora, prompt, greedy(3)), 'generation');
      console.log(`[refusal] the halfway cap refused ${err.request.category}:${err.request.name} after the KV cache (${plan.kvCacheBytes} B) was allocated`);
      expect(err.request.category, 'refused in the forward, not at the cache').not.toBe('kvcache');
      const after = await generate(ctx, model, lora, prompt, greedy(3));
      expect(after.tokens, 'the next generation on the same context').toEqual(before.tokens);
    } finally {
      ctx.destroy();
    }
  });

  it('the dry-run plan predicts the measured peak of a generation to the byte, by category', async () => {
    const { m, folder, ctx, model, host, lora } = await withAdapter({ seed: 45, tied: false, vocab: 2048 }, 5);
    try {
      const prompt = tokenRows(2048, [11], 4)[0].ids;
      ctx.ledger.resetPeak();
      const out = await generate(ctx, model, lora, prompt, greedy(9));
      const s = ctx.ledger.snapshot();
      const plan = await planGenerate({ cfg: folder.config, quant: 'none', promptTokens: prompt.length, maxNewTokens: 9, lora: host });
      console.log(`generation peak: measured ${s.peakTotal} B, planned ${plan.peakBytes} B; KV cache ${out.kvCacheBytes} B`);
      expect(plan.peakBytes).toBe(s.peakTotal);
      expect(plan.peakByCategory).toEqual(s.peakByCategory);
      expect(plan.atPeak).toEqual(s.atPeak);
      expect(s.peakByCategory.kvcache).toBe(out.kvCacheBytes);
      expect(plan.kvCacheBytes).toBe(out.kvCacheBytes);
      expect(out.kvCacheBytes).toBe(2 * m.cfg.layers * (prompt.length + 9) * m.cfg.kvHeads * (m.cfg.hidden / m.cfg.heads) * 4);
    } finally {
      ctx.destroy();
    }
  });
});

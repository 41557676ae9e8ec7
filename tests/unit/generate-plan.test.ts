// The generation memory plan on a dry context (core/infer/plan.ts, no GPU): the KV cache of the Qwen2.5 shapes in
// its own category at exactly 2 · layers · positions · NKV · HS · 4 bytes, each layer's K and V under the phone's
// 128 MiB binding (a cache too long for one binding is refused, naming how many positions fit), and the prompt
// checked against max_position_embeddings.
import { describe, expect, it } from 'vitest';
import { ConfigError, ShapeError } from '../../core/common/errors';
import { GpuContext, PHONE_LIMITS } from '../../core/gpu/context';
import { checkPrompt } from '../../core/infer/generate';
import { KvCache, kvCacheBytes } from '../../core/infer/kvcache';
import { planGenerate } from '../../core/infer/plan';
import { parseQwen2Config } from '../../core/model/config';
import { QWEN25_CONFIGS, qwen25Config } from '../../core/model/shapes';
import { loadModelWeights } from '../../core/model/weights';

describe('generation plan', () => {
  for (const id of ['qwen2.5-0.5b', 'qwen2.5-1.5b', 'qwen2.5-3b'] as const) {
    it(`${id}, int4, prompt 128 + 128 new tokens: the KV cache in its own category, at the exact size`, async () => {
      const cfg = qwen25Config(id);
      const plan = await planGenerate({ cfg, quant: 'int4', promptTokens: 128, maxNewTokens: 128, lora: { rank: 8, alpha: 16, targets: ['q', 'v'] } });
      const want = 2 * cfg.layers * 256 * cfg.kvHeads * cfg.headDim * 4;
      console.log(`${id}: planned generation peak ${(plan.peakBytes / 1e6).toFixed(1)} MB, KV cache ${(plan.kvCacheBytes / 1e6).toFixed(2)} MB, weights ${(plan.peakByCategory.weights / 1e6).toFixed(1)} MB, workspace ${(plan.peakByCategory.workspace / 1e6).toFixed(2)} MB`);
      expect(plan.kvCacheBytes).toBe(want);
      expect(plan.peakByCategory.kvcache).toBe(want);
      expect(plan.atPeak.kvcache).toBe(want);
      expect(plan.peakByCategory.grads + plan.peakByCategory.optimizer + plan.peakByCategory.activations).toBe(0);
      expect(plan.peakBytes).toBeGreaterThan(plan.peakByCategory.weights + want);
    });
  }

  it("one layer's cache must fit one binding: over it is refused, naming how many positions fit", () => {
    const cfg = qwen25Config('qwen2.5-3b');
    const ctx = GpuContext.dry({ limits: PHONE_LIMITS });
    const most = PHONE_LIMITS.maxStorageBufferBindingSize / (cfg.kvHeads * cfg.headDim * 4); // 131072
    const ok = KvCache.alloc(ctx, cfg, most);
    expect(ok.bytes).toBe(kvCacheBytes(cfg, most));
    expect(ok.k[0].bytes).toBe(PHONE_LIMITS.maxStorageBufferBindingSize);
    ok.free(ctx);
    expect(() => KvCache.alloc(ctx, cfg, most + 1)).toThrow(ShapeError);
    expect(() => KvCache.alloc(ctx, cfg, most + 1)).toThrow(new RegExp(`at most ${most} positions`));
    expect(ctx.ledger.liveByCategory().kvcache).toBe(0);
  });

  it('the prompt plus max_new_tokens must be within max_position_embeddings, and ids within the vocabulary', () => {
    const cfg = parseQwen2Config({ ...QWEN25_CONFIGS['qwen2.5-0.5b'], max_position_embeddings: 64, num_hidden_layers: 1 }, 'c');
    const model = loadModelWeights(GpuContext.dry(), cfg, 'none', null);
    expect(() => checkPrompt(model, [1, 2, 3], 62)).toThrow(/max_position_embeddings 64; use --max-new-tokens 61 or less/);
    expect(() => checkPrompt(model, [1, 2, 3], 61)).not.toThrow();
    expect(() => checkPrompt(model, [], 5)).toThrow(ConfigError);
    expect(() => checkPrompt(model, [1, cfg.vocab], 5)).toThrow(/prompt token 1 is 151936, not a token id of this model/);
  });
});

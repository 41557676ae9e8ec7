// The memory plan of a generation (as core/train/plan.ts for training): the decoder's own schedule run on a dry
// GpuContext (only the ledger): the weights, the adapter, the KV cache and decoding buffers for prompt +
// max_new_tokens, the prefill of the prompt and a decode step. Every decode step allocates the same bytes whatever its
// position (the attention scratch is sized for the whole cache when it is opened), so one step stands for all of them;
// the plan's peak is the measured peak of any generation that decodes at least one step.
import type { Precision } from '../api/names';
import { GpuContext, PHONE_LIMITS, type DeviceLimits } from '../gpu/context';
import type { Qwen2Config } from '../model/config';
import type { LoraAdapter } from '../model/adapter';
import { loadModelWeights, type ModelWeights, type Projection, type Quant } from '../model/weights';
import { planResult, type PlanResult } from '../train/plan';
import { uploadAdapter } from '../train/lora';
import { KvDecoder } from './decoder';
import { kvCacheBytes } from './kvcache';

export interface GeneratePlan extends PlanResult {
  kvCacheBytes: number;
}

/** Run the decoder's allocations for one generation on `ctx` (dry or not): open, prefill, one step, free. */
export async function decoderSchedule(ctx: GpuContext, model: ModelWeights, lora: LoraAdapter | null, promptTokens: number, maxNewTokens: number, precision: Precision = 'f32'): Promise<void> {
  const dec = KvDecoder.open(ctx, model, lora, promptTokens + maxNewTokens, { precision });
  try {
    await dec.prefill(new Array<number>(promptTokens).fill(0));
    if (maxNewTokens > 1) await dec.step(0);
  } finally {
    dec.free();
  }
}

/** Peak of a generation of `maxNewTokens` after a prompt of `promptTokens`, with an optional LoRA adapter. */
export async function planGenerate(p: {
  cfg: Qwen2Config; quant: Quant; limits?: DeviceLimits; promptTokens: number; maxNewTokens: number;
  lora?: { rank: number; alpha: number; targets: readonly Projection[] } | null;
  precision?: Precision;
}): Promise<GeneratePlan> {
  const ctx = GpuContext.dry({ limits: p.limits ?? PHONE_LIMITS });
  const model = loadModelWeights(ctx, p.cfg, p.quant, null);
  const lora = p.lora ? uploadAdapter(ctx, p.cfg, p.lora, p.precision) : null;
  ctx.counts.reset();
  await decoderSchedule(ctx, model, lora, p.promptTokens, p.maxNewTokens, p.precision);
  // the counts (core/gpu/profiler.ts) cover the prefill and the one decode step: promptTokens (+ 1) tokens
  return { ...planResult(ctx, p.promptTokens + (p.maxNewTokens > 1 ? 1 : 0)), kvCacheBytes: kvCacheBytes(p.cfg, p.promptTokens + p.maxNewTokens) };
}

// `mesp bench --generate`: generation speed and memory on a real Qwen2.5 shape with deterministic random weights
// (nothing to download): a random prompt prefilled into the KV cache, then greedy decoding of a fixed number of new
// tokens (no EOS), with a LoRA adapter applied unmerged as the app runs it. Reports prefill and decode tokens/s, the
// KV-cache bytes, the peak by ledger category and the dry-run plan's peak. Shaders are compiled by a short warm-up
// generation first, so the times are the steady state.
import type { GenerateBenchRequest as GenerateBenchRequestOf } from '../../api/generate';
import { Rng } from '../../common/rng';
import { GpuContext, PHONE_LIMITS, type GpuProvider } from '../../gpu/context';
import type { ByCategory } from '../../gpu/ledger';
import { generate, type GenerateSpec } from '../../infer/generate';
import { planGenerate } from '../../infer/plan';
import { GREEDY } from '../../infer/sampling';
import { randomModelWeights } from '../../model/random';
import type { Projection, Quant } from '../../model/weights';
import { initHostAdapter, uploadAdapter } from '../../train/lora';
import { dawnProvider } from '../dawn';
import { benchConfig } from './bench';

/** What the benchmark runs (core/api/generate.ts GenerateBenchRequestSchema, less the CLI's --json and --generate). */
export type GenerateBenchRequest = Omit<GenerateBenchRequestOf, 'json' | 'generate'>;

export interface GenerateBenchResult {
  shape: string;
  quant: Quant;
  promptTokens: number;
  newTokens: number;
  lora: { rank: number; targets: Projection[] } | null;
  device: string;
  prefillTokensPerSecond: number;
  decodeTokensPerSecond: number;
  prefillSeconds: number;
  decodeSeconds: number;
  kvCacheBytes: number;
  peakBytes: ByCategory & { total: number };
  predictedPeakBytes: number;
}

export type GenerateBenchProgress = { type: 'plan'; peakBytes: number; kvCacheBytes: number } | { type: 'loaded'; seconds: number } | { type: 'warm' };

export async function runBenchGenerate(
  req: GenerateBenchRequest, onProgress: (p: GenerateBenchProgress) => void = () => {}, provider: GpuProvider = dawnProvider,
): Promise<GenerateBenchResult> {
  const cfg = benchConfig(req.shape);
  const loraShape = req.rank > 0 ? { rank: req.rank, alpha: req.alpha, targets: req.targets } : null;
  const plan = await planGenerate({ cfg, quant: req.quant, promptTokens: req.promptTokens, maxNewTokens: req.newTokens, lora: loraShape });
  onProgress({ type: 'plan', peakBytes: plan.peakBytes, kvCacheBytes: plan.kvCacheBytes });
  const ctx = await GpuContext.open(provider, { limits: PHONE_LIMITS });
  try {
    const t0 = performance.now();
    const model = randomModelWeights(ctx, cfg, req.quant, req.seed);
    const lora = loraShape ? uploadAdapter(ctx, cfg, initHostAdapter(cfg, { ...loraShape, seed: req.seed })) : null;
    await ctx.finish();
    onProgress({ type: 'loaded', seconds: (performance.now() - t0) / 1000 });
    const rng = new Rng(req.seed);
    const prompt = Array.from({ length: req.promptTokens }, () => rng.int(cfg.vocab));
    const spec = (maxNewTokens: number): GenerateSpec => ({ sampling: GREEDY, maxNewTokens, eosIds: [], stop: [], tokenizer: null });
    await generate(ctx, model, lora, prompt.slice(0, Math.min(8, prompt.length)), spec(2)); // compile the pipelines
    onProgress({ type: 'warm' });
    ctx.ledger.resetPeak();
    const out = await generate(ctx, model, lora, prompt, spec(req.newTokens));
    const s = ctx.ledger.snapshot();
    return {
      shape: req.shape, quant: req.quant, promptTokens: req.promptTokens, newTokens: req.newTokens,
      lora: loraShape ? { rank: loraShape.rank, targets: loraShape.targets } : null,
      device: ctx.adapter.description || ctx.adapter.device || ctx.adapter.vendor,
      prefillTokensPerSecond: req.promptTokens / out.prefillSeconds,
      decodeTokensPerSecond: out.decodeSteps ? out.decodeSteps / out.decodeSeconds : 0,
      prefillSeconds: out.prefillSeconds, decodeSeconds: out.decodeSeconds, kvCacheBytes: out.kvCacheBytes,
      peakBytes: { ...s.peakByCategory, total: s.peakTotal }, predictedPeakBytes: plan.peakBytes,
    };
  } finally {
    ctx.destroy();
  }
}

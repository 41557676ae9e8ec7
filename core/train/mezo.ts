// MeZO (Malladi et al. 2023; DESIGN.md §5): zeroth-order SGD. Two forwards at θ ± εz with z ~ N(0, I) regenerated
// on the GPU from a per-step seed (core/kernels/mezo.wgsl) and never stored; the projected gradient
// ĝ = (L₊ − L₋)/2ε; the update θ ← θ − lr·ĝ·z. Memory: the forward's working set and nothing else.
import type { Precision } from '../api/names';
import { deriveSeed } from '../common/rng';
import type { GpuContext } from '../gpu/context';
import { mezoPerturb } from '../kernels/mezo';
import type { LoraAdapter } from '../model/adapter';
import { batchNll, forwardNll, type TokenBatch } from '../model/forward';
import type { ModelWeights } from '../model/weights';
import { countTargets, type StepLoss } from './methods';
import { adapterParams } from './optimizer';

/** The seed of step `step`'s perturbation. */
export function mezoStepSeed(seed: number, step: number): number {
  return deriveSeed(seed, 'mezo', step);
}

/** θ ← θ + c·z(stepSeed) over every adapter tensor (stream = the tensor's index in adapterParams order). */
export function perturbAdapter(ctx: GpuContext, lora: LoraAdapter, stepSeed: number, c: number): void {
  adapterParams(lora).forEach((p, stream) => mezoPerturb(ctx, p.tensor, stepSeed, stream, c));
}

/** Mean loss of a batch (sum of NLL over unmasked targets / their count) at the current adapter. */
export async function batchLoss(ctx: GpuContext, model: ModelWeights, lora: LoraAdapter | null, batch: TokenBatch, precision: Precision = 'f32'): Promise<StepLoss> {
  return batchNll(await forwardNll(ctx, model, lora, batch, precision), batch);
}

export interface MezoEstimate {
  lossPlus: number;
  lossMinus: number;
  /** ĝ = (L₊ − L₋) / 2ε: the gradient's projection on z. */
  projected: number;
}

/**
 * Estimate the projected gradient at θ along z(stepSeed); leaves θ as it was (up to f32 rounding of ±εz), also when
 * a forward fails: the perturbation is taken back before the error goes on.
 */
export async function mezoEstimate(ctx: GpuContext, model: ModelWeights, lora: LoraAdapter, batch: TokenBatch, stepSeed: number, eps: number, precision: Precision = 'f32'): Promise<MezoEstimate> {
  let at = 0; // θ is now θ₀ + at·z
  const move = (c: number): void => {
    perturbAdapter(ctx, lora, stepSeed, c);
    at += c;
  };
  let plus: StepLoss;
  let minus: StepLoss;
  try {
    move(eps);
    plus = await batchLoss(ctx, model, lora, batch, precision);
    move(-2 * eps);
    minus = await batchLoss(ctx, model, lora, batch, precision);
  } finally {
    if (at !== 0) perturbAdapter(ctx, lora, stepSeed, -at);
  }
  const lossPlus = plus.nllSum / Math.max(1, plus.tokens);
  const lossMinus = minus.nllSum / Math.max(1, minus.tokens);
  return { lossPlus, lossMinus, projected: (lossPlus - lossMinus) / (2 * eps) };
}

/** One MeZO-SGD step: estimate, then θ ← θ − lr·ĝ·z. Returns the loss (mean of L₊ and L₋) parts. */
export async function mezoStep(ctx: GpuContext, model: ModelWeights, lora: LoraAdapter, batch: TokenBatch, stepSeed: number, eps: number, lr: number, precision: Precision = 'f32'): Promise<StepLoss & MezoEstimate> {
  const e = await mezoEstimate(ctx, model, lora, batch, stepSeed, eps, precision);
  perturbAdapter(ctx, lora, stepSeed, -lr * e.projected);
  const tokens = countTargets(batch);
  return { ...e, nllSum: ((e.lossPlus + e.lossMinus) / 2) * tokens, tokens };
}

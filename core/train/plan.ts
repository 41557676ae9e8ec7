// The memory plan (DESIGN.md §3, "plan before run"): the very schedule the engine runs, executed on a dry GpuContext
// (no device, no buffers, no kernels; only the ledger). Its peak is the prediction the app's "will it fit?" panel and
// `mesp bench` show, and it cannot drift from what the real run allocates because it is the same code.
import { TRAIN_DEFAULTS, type TrainSpec } from '../api/train';
import { GpuContext, PHONE_LIMITS, type DeviceLimits } from '../gpu/context';
import type { ByCategory, TimelineEvent } from '../gpu/ledger';
import type { Qwen2Config } from '../model/config';
import { forwardNll, type TokenBatch } from '../model/forward';
import { loadModelWeights, type Quant } from '../model/weights';
import { uploadAdapter } from './lora';
import type { Method } from './methods';
import { DEFAULT_OPTIMIZER, Optimizer, type OptimizerConfig } from './optimizer';
import { trainStep, type TrainLoopSpec } from './trainer';
import type { Projection } from '../model/weights';

export interface PlanResult {
  /** Highest total live bytes. */
  peakBytes: number;
  /** Live bytes by category at that moment. */
  atPeak: ByCategory;
  /** The highest each category reached on its own. */
  peakByCategory: ByCategory;
  /** Highest working set (all but weights). */
  peakWorkingSet: number;
}

/** A training step's plan: the peak, plus the second step's ledger timeline (every allocation, free and mark). */
export interface TrainPlanResult extends PlanResult {
  /** The second step's events in allocation order (a dry run has no clock: their `seq` is the time axis). */
  timeline: TimelineEvent[];
}

export interface PlanInput {
  cfg: Qwen2Config;
  quant: Quant;
  limits?: DeviceLimits;
  /** Tokens per row and rows per batch. */
  seqLen: number;
  batch: number;
}

function dummyBatch(B: number, T: number): TokenBatch {
  const targets = new Int32Array(B * T).fill(0);
  for (let b = 0; b < B; b++) targets[b * T + T - 1] = -100;
  return { B, T, inputIds: new Int32Array(B * T), targets };
}

function result(ctx: GpuContext): PlanResult {
  const s = ctx.ledger.snapshot();
  return { peakBytes: s.peakTotal, atPeak: s.atPeak, peakByCategory: s.peakByCategory, peakWorkingSet: s.peakWorkingSet };
}

/** Peak of an inference forward (eval or deployment) of one batch, with an optional LoRA adapter. */
export async function planForward(p: PlanInput & { lora?: { rank: number; alpha: number; targets: readonly Projection[] } }): Promise<PlanResult> {
  const ctx = GpuContext.dry({ limits: p.limits ?? PHONE_LIMITS });
  const model = loadModelWeights(ctx, p.cfg, p.quant, null);
  const lora = p.lora ? uploadAdapter(ctx, p.cfg, p.lora) : null;
  await forwardNll(ctx, model, lora, dummyBatch(p.batch, p.seqLen));
  return result(ctx);
}

/**
 * Peak of training steps of a method: two steps are run (the first creates optimizer state lazily in some engines;
 * ours allocates it up front, and the second step proves the ledger is back at its baseline). The second step's
 * ledger timeline is recorded: where in the step memory rises and falls, and which allocation made the peak.
 */
export async function planTrainStep(
  p: PlanInput & { method: Method; rank: number; alpha: number; targets: readonly Projection[]; optimizer?: Partial<OptimizerConfig> } & Partial<Pick<TrainSpec, 'storeH' | 'chunkedHead' | 'headChunk'>>,
): Promise<TrainPlanResult> {
  const ctx = GpuContext.dry({ limits: p.limits ?? PHONE_LIMITS });
  const model = loadModelWeights(ctx, p.cfg, p.quant, null);
  const lora = uploadAdapter(ctx, p.cfg, { rank: p.rank, alpha: p.alpha, targets: p.targets });
  const opt = new Optimizer(ctx, lora, { ...DEFAULT_OPTIMIZER, ...p.optimizer });
  const spec: TrainLoopSpec = {
    method: p.method, steps: 2, seed: 0, storeH: p.storeH ?? TRAIN_DEFAULTS.storeH, chunkedHead: p.chunkedHead ?? TRAIN_DEFAULTS.chunkedHead,
    headChunk: p.headChunk ?? TRAIN_DEFAULTS.headChunk, mezoEps: TRAIN_DEFAULTS.mezoEps, valEvery: 0, checkpointEvery: 0, immediateUpdates: true,
  };
  const batch = dummyBatch(p.batch, p.seqLen);
  await trainStep(ctx, model, lora, opt, spec, 0, batch);
  ctx.ledger.timeline = [];
  ctx.ledger.recording = true;
  await trainStep(ctx, model, lora, opt, spec, 1, batch);
  ctx.ledger.recording = false;
  const timeline = ctx.ledger.timeline;
  ctx.ledger.timeline = [];
  return { ...result(ctx), timeline };
}



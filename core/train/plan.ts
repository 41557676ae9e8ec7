// The memory plan (DESIGN.md §3, "plan before run"): the very schedule the engine runs, executed on a dry GpuContext
// (no device, no buffers, no kernels; only the ledger). Its peak is the prediction the app's "will it fit?" panel and
// `mesp bench` show, and it cannot drift from what the real run allocates because it is the same code. The dry run
// also counts every dispatch's FLOPs and bytes moved per kernel (core/gpu/profiler.ts), which give the roofline
// projection of the step on a profile's GPU (projectPlan, core/profiles/roofline.ts).
import { TRAIN_DEFAULTS, type TrainSpec } from '../api/train';
import { GpuContext, PHONE_LIMITS, type DeviceLimits } from '../gpu/context';
import type { ByCategory, TimelineEvent } from '../gpu/ledger';
import type { KernelCount } from '../gpu/profiler';
import type { TuneRequest } from '../gpu/tuning';
import { projectStep, type StepProjection } from '../profiles/roofline';
import type { DeviceProfile, Precision } from '../profiles/schema';
import type { Qwen2Config } from '../model/config';
import { forwardNll, type TokenBatch } from '../model/forward';
import { loadModelWeights, type Quant } from '../model/weights';
import { uploadAdapter } from './lora';
import { adapterPrecision, type Method } from './methods';
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
  /** Per-kernel calls, FLOPs and bytes of one step (of the forward, for planForward), from the dry run. */
  kernels: KernelCount[];
  /** Tokens of one step (batch × sequence length). */
  tokens: number;
  /** The matmul-family shape classes the schedule runs: what the autotune measures before a run (core/node/autotune.ts). */
  tuneRequests: TuneRequest[];
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

/** The plan of what ran on the dry context `ctx`: its ledger's peaks and its kernels' counts, for `tokens` tokens. */
export function planResult(ctx: GpuContext, tokens: number): PlanResult {
  const s = ctx.ledger.snapshot();
  return { peakBytes: s.peakTotal, atPeak: s.atPeak, peakByCategory: s.peakByCategory, peakWorkingSet: s.peakWorkingSet, kernels: ctx.counts.snapshot(), tokens, tuneRequests: [...ctx.tuning.requests.values()] };
}

/** The roofline projection of a planned step on a profile's GPU (see ROOFLINE_ASSUMPTIONS in core/profiles). */
export function projectPlan(plan: Pick<PlanResult, 'kernels' | 'tokens'>, profile: Pick<DeviceProfile, 'id' | 'gpu'>, precision: Precision = 'f32'): StepProjection {
  return projectStep(profile, plan.kernels, plan.tokens, precision);
}

/** Peak of an inference forward (eval or deployment) of one batch, with an optional LoRA adapter. */
export async function planForward(p: PlanInput & { lora?: { rank: number; alpha: number; targets: readonly Projection[] } }): Promise<PlanResult> {
  const ctx = GpuContext.dry({ limits: p.limits ?? PHONE_LIMITS });
  const model = loadModelWeights(ctx, p.cfg, p.quant, null);
  const lora = p.lora ? uploadAdapter(ctx, p.cfg, p.lora) : null;
  ctx.counts.reset();
  await forwardNll(ctx, model, lora, dummyBatch(p.batch, p.seqLen));
  return planResult(ctx, p.batch * p.seqLen);
}

/**
 * Peak of training steps of a method: two steps are run (the first creates optimizer state lazily in some engines;
 * ours allocates it up front, and the second step proves the ledger is back at its baseline). The second step's
 * ledger timeline is recorded: where in the step memory rises and falls, and which allocation made the peak.
 */
export async function planTrainStep(
  p: PlanInput & { method: Method; rank: number; alpha: number; targets: readonly Projection[]; optimizer?: Partial<OptimizerConfig> } & Partial<Pick<TrainSpec, 'storeH' | 'chunkedHead' | 'headChunk' | 'precision'>>,
): Promise<TrainPlanResult> {
  const ctx = GpuContext.dry({ limits: p.limits ?? PHONE_LIMITS });
  const model = loadModelWeights(ctx, p.cfg, p.quant, null);
  const precision = p.precision ?? TRAIN_DEFAULTS.precision;
  const lora = uploadAdapter(ctx, p.cfg, { rank: p.rank, alpha: p.alpha, targets: p.targets }, adapterPrecision(p.method, precision));
  const opt = new Optimizer(ctx, lora, { ...DEFAULT_OPTIMIZER, ...p.optimizer });
  const spec: TrainLoopSpec = {
    method: p.method, steps: 2, seed: 0, storeH: p.storeH ?? TRAIN_DEFAULTS.storeH, chunkedHead: p.chunkedHead ?? TRAIN_DEFAULTS.chunkedHead,
    headChunk: p.headChunk ?? TRAIN_DEFAULTS.headChunk, precision, mezoEps: TRAIN_DEFAULTS.mezoEps, valEvery: 0, checkpointEvery: 0, immediateUpdates: true,
  };
  const batch = dummyBatch(p.batch, p.seqLen);
  await trainStep(ctx, model, lora, opt, spec, 0, batch);
  ctx.counts.reset(); // the counts of the second step
  ctx.ledger.timeline = [];
  ctx.ledger.recording = true;
  await trainStep(ctx, model, lora, opt, spec, 1, batch);
  ctx.ledger.recording = false;
  const timeline = ctx.ledger.timeline;
  ctx.ledger.timeline = [];
  return { ...planResult(ctx, p.batch * p.seqLen), timeline };
}



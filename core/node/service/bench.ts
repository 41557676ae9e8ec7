// `mesp bench`: the paper's memory table in our engine. For a real Qwen2.5 shape with deterministic random weights
// (nothing to download) it plans each method (the dry run of its schedule), then runs real steps on the adapter and
// reports peak bytes by category, the working set, step time, tokens/s, FLOPs per step (counted by the kernels) and
// the achieved FLOP/s against a matmul peak measured on the same adapter in the same run; the roofline projection of
// each method's planned step on every built-in phone profile; and with `profile`, one more step per method timed
// dispatch by dispatch (core/gpu/profiler.ts), after the measured ones, so it changes neither their times nor their
// peaks.
import { readFileSync } from 'node:fs';
import type { BenchRequest as BenchFlags } from '../../api/bench';
import { TRAIN_DEFAULTS } from '../../api/train';
import { ConfigError, FormatError } from '../../common/errors';
import { Rng } from '../../common/rng';
import { GpuContext, PHONE_LIMITS, type GpuProvider } from '../../gpu/context';
import { workingSet, type ByCategory } from '../../gpu/ledger';
import type { KernelCount, KernelProfile } from '../../gpu/profiler';
import { listBuiltinProfiles } from '../../profiles/builtin';
import { projectStep, type StepProjection } from '../../profiles/roofline';
import { PRECISIONS } from '../../api/names';
import { linearBackwardInput, linearForward } from '../../kernels/linear';
import { allocWeight, freeWeight } from '../../kernels/weight';
import { parseQwen2Config, type Qwen2Config } from '../../model/config';
import type { TokenBatch } from '../../model/forward';
import { randomModelWeights } from '../../model/random';
import { QWEN25_CONFIGS, QWEN25_IDS, type Qwen25Id } from '../../model/shapes';
import { formatOf, type Projection, type Quant } from '../../model/weights';
import { initHostAdapter, uploadAdapter } from '../../train/lora';
import { adapterPrecision, type Method } from '../../train/methods';
import { DEFAULT_OPTIMIZER, Optimizer } from '../../train/optimizer';
import { planTrainStep, type PlanResult } from '../../train/plan';
import { trainStep, type TrainLoopSpec } from '../../train/trainer';
import { dawnProvider } from '../dawn';
import { autotune, type AutotuneProgress, type AutotuneResult } from '../autotune';

/** Peak working set of the paper's Table (MB) where the paper gives it: Qwen2.5-0.5B, seq 256, rank 8. */
export const PAPER_MB: Partial<Record<string, Partial<Record<Method, number>>>> = {
  'qwen2.5-0.5b': { mebp: 361, mesp: 136 },
};

/** `mesp bench`'s request (core/api/bench.ts), without the CLI's output file. */
export type BenchRequest = Omit<BenchFlags, 'json'>;

export interface BenchMethodResult {
  peakBytes: ByCategory & { total: number };
  workingSetBytes: number;
  predictedPeakBytes: number;
  predictedWorkingSetBytes: number;
  stepSeconds: number;
  tokensPerSecond: number;
  flopsPerStep: number;
  achievedFlops: number;
  losses: number[];
  /** Per-kernel counts of the last measured step (the same as the plan's: the dry run counts them too). */
  kernels: KernelCount[];
  /** The roofline projection of the planned step on each built-in profile, f32 and f16. */
  projections: StepProjection[];
  /** The profiled step (with `profile`). */
  profile?: KernelProfile;
}

export interface BenchResult {
  shape: string;
  seqLen: number;
  rank: number;
  quant: Quant;
  batch: number;
  targets: Projection[];
  adapter: string;
  matmulPeakFlops: number;
  /** The kernel variants chosen for the shape classes the plans run (core/node/autotune.ts). */
  autotune: AutotuneResult;
  methods: Partial<Record<Method, BenchMethodResult>>;
}

export type BenchProgress =
  | { type: 'plan'; method: Method; plan: PlanResult }
  | { type: 'peak'; flops: number }
  | { type: 'autotune'; progress: AutotuneProgress }
  | { type: 'loaded'; method: Method; seconds: number }
  | { type: 'step'; method: Method; step: number; seconds: number; loss: number }
  | { type: 'profile'; method: Method; profile: KernelProfile; loss: number }
  | { type: 'method'; method: Method; result: BenchMethodResult };

export function benchConfig(shape: string): Qwen2Config {
  if ((QWEN25_IDS as readonly string[]).includes(shape)) return parseQwen2Config(QWEN25_CONFIGS[shape as Qwen25Id], shape);
  if (!shape.endsWith('.json')) throw new ConfigError(`--shape must be one of ${QWEN25_IDS.join(', ')} or a config.json path, got "${shape}"`, { field: 'shape' });
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(shape, 'utf8'));
  } catch (e) {
    throw new FormatError(shape, `cannot be read as JSON (${(e as Error).message})`);
  }
  return parseQwen2Config(json, shape);
}

function benchBatch(cfg: Qwen2Config, B: number, T: number, seed: number): TokenBatch {
  const rng = new Rng(seed);
  const inputIds = Int32Array.from({ length: B * T }, () => rng.int(cfg.vocab));
  const targets = new Int32Array(B * T);
  for (let i = 0; i < B * T; i++) targets[i] = (i + 1) % T === 0 ? -100 : inputIds[i + 1];
  return { B, T, inputIds, targets };
}

/**
 * Best FLOP/s of the projection kernels the model runs most (its biggest MLP matmul, forward y = x·Wᵀ and transposed
 * dx = g·W), in this format: the adapter's practical matmul peak for this model.
 */
async function measureMatmulPeak(provider: GpuProvider, cfg: Qwen2Config, quant: Quant, T: number): Promise<{ flops: number; adapter: string }> {
  const ctx = await GpuContext.open(provider, { limits: PHONE_LIMITS });
  try {
    const W = allocWeight(ctx, 'weights', 'peak.W', cfg.intermediate, cfg.hidden, formatOf(quant));
    const x = ctx.alloc('workspace', 'peak.x', [T, cfg.hidden]); // (T, C)
    const y = ctx.alloc('workspace', 'peak.y', [T, cfg.intermediate]); // (T, I)
    const dims = { T, in: cfg.hidden, out: cfg.intermediate };
    let best = 0;
    for (const run of [() => linearForward(ctx, y, x, W, dims), () => linearBackwardInput(ctx, x, y, W, dims)]) {
      run(); // compile
      await ctx.finish();
      for (let r = 0; r < 3; r++) {
        const t0 = performance.now();
        for (let i = 0; i < 4; i++) run();
        await ctx.finish();
        best = Math.max(best, (4 * 2 * T * cfg.hidden * cfg.intermediate) / ((performance.now() - t0) / 1000));
      }
    }
    ctx.free(x, y);
    freeWeight(ctx, W);
    return { flops: best, adapter: ctx.adapter.description };
  } finally {
    ctx.destroy();
  }
}

const benchOptimizer = (req: BenchRequest) => ({ ...DEFAULT_OPTIMIZER, kind: 'sgd' as const, lr: req.lr, totalSteps: req.steps });

/** Projected step time of a plan on every built-in profile, f32 and f16 arithmetic. */
function projectionsOf(plan: PlanResult, tokens: number): StepProjection[] {
  return listBuiltinProfiles().flatMap((p) => PRECISIONS.map((prec) => projectStep(p, plan.kernels, tokens, prec)));
}

/** One method's plan as `mesp bench --plan-only` reports it. */
export interface BenchPlan {
  plan: PlanResult;
  projections: StepProjection[];
}

/** The dry run of each method's schedule (core/train/plan.ts) at the bench's settings: no GPU. */
export async function planBench(req: BenchRequest, onProgress: (p: BenchProgress) => void = () => {}): Promise<Partial<Record<Method, BenchPlan>>> {
  const cfg = benchConfig(req.shape);
  const out: Partial<Record<Method, BenchPlan>> = {};
  for (const method of req.methods) {
    const plan = await planTrainStep({
      cfg, quant: req.quant, seqLen: req.seqLen, batch: req.batch, method, rank: req.rank, alpha: req.alpha,
      targets: req.targets, optimizer: benchOptimizer(req), storeH: req.storeH, chunkedHead: req.chunkedHead, headChunk: req.headChunk, precision: req.precision,
    });
    out[method] = { plan, projections: projectionsOf(plan, req.batch * req.seqLen) };
    onProgress({ type: 'plan', method, plan });
  }
  return out;
}

export async function runBench(req: BenchRequest, onProgress: (p: BenchProgress) => void = () => {}, provider: GpuProvider = dawnProvider): Promise<BenchResult> {
  const cfg = benchConfig(req.shape);
  const optCfg = benchOptimizer(req);
  const planned = await planBench(req, onProgress);
  const plans = new Map<Method, PlanResult>(req.methods.map((m) => [m, planned[m]!.plan]));
  // Kernel variants for every shape class the plans ran (measured once per adapter, then from the cache), before
  // the matmul peak and the steps, which then run the chosen variants.
  const tuned = await autotune(provider, [...plans.values()].flatMap((p) => p.tuneRequests), {
    limits: PHONE_LIMITS, onProgress: (progress) => onProgress({ type: 'autotune', progress }),
  });
  const peak = await measureMatmulPeak(provider, cfg, req.quant, req.seqLen);
  onProgress({ type: 'peak', flops: peak.flops });
  const result: BenchResult = {
    shape: req.shape, seqLen: req.seqLen, rank: req.rank, quant: req.quant, batch: req.batch, targets: req.targets,
    adapter: peak.adapter, matmulPeakFlops: peak.flops, autotune: tuned, methods: {},
  };
  const batch = benchBatch(cfg, req.batch, req.seqLen, req.seed);
  for (const method of req.methods) {
    const ctx = await GpuContext.open(provider, { limits: PHONE_LIMITS });
    try {
      const t0 = performance.now();
      const model = randomModelWeights(ctx, cfg, req.quant, req.seed);
      const lora = uploadAdapter(ctx, cfg, initHostAdapter(cfg, { rank: req.rank, alpha: req.alpha, targets: req.targets, seed: req.seed }), adapterPrecision(method, req.precision));
      const opt = new Optimizer(ctx, lora, optCfg);
      await ctx.finish();
      onProgress({ type: 'loaded', method, seconds: (performance.now() - t0) / 1000 });
      const spec: TrainLoopSpec = {
        method, steps: req.steps, seed: req.seed, storeH: req.storeH, chunkedHead: req.chunkedHead, headChunk: req.headChunk, precision: req.precision,
        mezoEps: TRAIN_DEFAULTS.mezoEps, valEvery: 0, checkpointEvery: 0, immediateUpdates: true,
      };
      const times: number[] = [];
      const flops: number[] = [];
      const losses: number[] = [];
      for (let step = 0; step < req.steps; step++) {
        ctx.counts.reset();
        const s0 = performance.now();
        const r = await trainStep(ctx, model, lora, opt, spec, step, batch);
        await ctx.finish();
        times.push((performance.now() - s0) / 1000);
        flops.push(ctx.flops);
        losses.push(r.loss);
        onProgress({ type: 'step', method, step: step + 1, seconds: times[times.length - 1], loss: r.loss });
      }
      const kernels = ctx.counts.snapshot();
      const snap = ctx.ledger.snapshot(); // before the profiled step: its timer buffers are not in the peaks
      let profile: KernelProfile | undefined;
      if (req.profile) {
        ctx.startProfile();
        const r = await trainStep(ctx, model, lora, opt, spec, req.steps, batch);
        profile = await ctx.stopProfile();
        onProgress({ type: 'profile', method, profile, loss: r.loss });
      }
      const plan = plans.get(method)!;
      const projections = planned[method]!.projections;
      const stepSeconds = times.reduce((a, b) => a + b, 0) / times.length;
      const flopsPerStep = flops.reduce((a, b) => a + b, 0) / flops.length;
      const res: BenchMethodResult = {
        peakBytes: { ...snap.atPeak, total: snap.peakTotal },
        workingSetBytes: workingSet(snap.atPeak),
        predictedPeakBytes: plan.peakBytes,
        predictedWorkingSetBytes: workingSet(plan.atPeak),
        stepSeconds,
        tokensPerSecond: (req.batch * req.seqLen) / stepSeconds,
        flopsPerStep,
        achievedFlops: flopsPerStep / stepSeconds,
        losses,
        kernels,
        projections,
        profile,
      };
      result.methods[method] = res;
      onProgress({ type: 'method', method, result: res });
    } finally {
      ctx.destroy();
    }
  }
  return result;
}

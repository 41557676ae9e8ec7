// The training loop shared by `mesp train`, the app and the tests: one step of the chosen method per batch, the
// optimizer, events (loss, lr, tokens/s, memory by category, elapsed, ETA), validation, checkpoints through the host's
// hook, and stop/pause. No file system here: core/node's run store writes what the hooks hand it.
import type { LoopEvent, TrainSpec } from '../api/train';
import type { GpuContext } from '../gpu/context';
import { workingSet } from '../gpu/ledger';
import type { LoraAdapter } from '../model/adapter';
import type { TokenBatch } from '../model/forward';
import type { ModelWeights } from '../model/weights';
import { downloadAdapter, type HostAdapter } from './lora';
import { exactStep, type Method } from './methods';
import { batchLoss, mezoStep, mezoStepSeed } from './mezo';
import { DeferredSink, ImmediateSink, Optimizer } from './optimizer';

/** The loop's part of the TrainSpec (core/api/train.ts), with the run's resolved total of steps. */
export interface TrainLoopSpec extends Pick<TrainSpec, 'seed' | 'storeH' | 'chunkedHead' | 'headChunk' | 'mezoEps' | 'valEvery' | 'checkpointEvery'>, Partial<Pick<TrainSpec, 'precision'>> {
  method: Method;
  /** Total optimizer steps of the run (the loop runs from `startStep` to this). */
  steps: number;
  /** MeSP may update each layer as soon as its gradients exist (SGD or AdamW without clipping). */
  immediateUpdates: boolean;
}

/** The keys of the TrainSpec the loop takes as they are. */
export const LOOP_SPEC_KEYS = ['seed', 'storeH', 'chunkedHead', 'headChunk', 'mezoEps', 'valEvery', 'checkpointEvery', 'precision'] as const;

export type { LoopEvent };

/** What a checkpoint holds: enough to continue the run exactly. */
export interface TrainState {
  /** Steps completed. */
  step: number;
  adapter: HostAdapter;
  /** AdamW moments per parameter key. */
  moments: Map<string, { m: Float32Array; v: Float32Array }>;
}

export interface TrainHooks {
  onEvent(e: LoopEvent): void;
  checkpoint?(state: TrainState): Promise<void>;
  /** Awaited between steps: resolves 'run' to go on (a paused run resolves it later), 'stop' to end cleanly. */
  control?(): Promise<'run' | 'stop'> | 'run' | 'stop';
  /** Called before each step (0-based index of the step about to run). */
  onStepStart?(step: number): void;
  /** Awaited after each step, its validation and checkpoint (steps done so far): e.g. sample replies. */
  afterStep?(step: number): Promise<void>;
}

export interface TrainData {
  /** The batch of 0-based step k: a pure function of (seed, k), so a resumed run sees the same batches. */
  batchAt(step: number): TokenBatch;
  val: TokenBatch[];
}

export interface LoopResult {
  stepsDone: number;
  reason: 'done' | 'stopped';
  lastLoss: number | null;
  lastValLoss: number | null;
}

export async function captureState(ctx: GpuContext, lora: LoraAdapter, opt: Optimizer, step: number): Promise<TrainState> {
  const moments = new Map<string, { m: Float32Array; v: Float32Array }>();
  for (const [k, mv] of opt.moments) moments.set(k, { m: await ctx.readF32(mv.m), v: await ctx.readF32(mv.v) });
  return { step, adapter: await downloadAdapter(ctx, lora), moments };
}

export function restoreMoments(ctx: GpuContext, opt: Optimizer, moments: Map<string, { m: Float32Array; v: Float32Array }>): void {
  for (const [k, mv] of opt.moments) {
    const src = moments.get(k);
    if (!src) continue;
    ctx.write(mv.m, src.m);
    ctx.write(mv.v, src.v);
  }
}

/** Validation loss: token-weighted mean NLL over the validation batches. */
export async function validationLoss(ctx: GpuContext, model: ModelWeights, lora: LoraAdapter, val: TokenBatch[]): Promise<{ loss: number; tokens: number }> {
  let s = 0;
  let n = 0;
  for (const b of val) {
    const r = await batchLoss(ctx, model, lora, b);
    s += r.nllSum;
    n += r.tokens;
  }
  return { loss: n ? s / n : NaN, tokens: n };
}

/**
 * One optimizer step of any method on one batch. Returns the loss and the number of target tokens. A step that fails
 * (the cap refuses an allocation, or anything else) frees everything it allocated (GpuContext.scoped): the ledger is
 * back at its baseline and the context can run the next step.
 */
export async function trainStep(
  ctx: GpuContext, model: ModelWeights, lora: LoraAdapter, opt: Optimizer, spec: TrainLoopSpec, step: number, batch: TokenBatch,
): Promise<{ loss: number; tokens: number }> {
  return ctx.scoped(async () => {
    opt.begin(step);
    if (spec.method === 'mezo') {
      const r = await mezoStep(ctx, model, lora, batch, mezoStepSeed(spec.seed, step), spec.mezoEps, opt.lr, spec.precision);
      return { loss: r.nllSum / Math.max(1, r.tokens), tokens: r.tokens };
    }
    const immediate = spec.method === 'mesp' && spec.immediateUpdates && opt.separable;
    const sink = immediate ? new ImmediateSink(opt) : new DeferredSink(ctx);
    const r = await exactStep({ ctx, model, lora, grads: sink }, batch, {
      method: spec.method, storeH: spec.storeH, chunkedHead: spec.chunkedHead, headChunk: spec.headChunk, precision: spec.precision,
    });
    if (sink instanceof DeferredSink) await sink.apply(opt);
    return { loss: r.nllSum / Math.max(1, r.tokens), tokens: r.tokens };
  });
}

/**
 * Train from `startStep` (steps already done) to spec.steps. An OutOfBudgetError propagates after the ledger has
 * refused the allocation; the caller's last checkpoint is untouched.
 */
export async function trainLoop(
  ctx: GpuContext, model: ModelWeights, lora: LoraAdapter, opt: Optimizer, data: TrainData, spec: TrainLoopSpec,
  startStep: number, hooks: TrainHooks,
): Promise<LoopResult> {
  const t0 = performance.now();
  let lastLoss: number | null = null;
  let lastVal: number | null = null;
  let step = startStep;
  const runVal = async (): Promise<void> => {
    if (!data.val.length) return;
    const v = await validationLoss(ctx, model, lora, data.val);
    lastVal = v.loss;
    hooks.onEvent({ type: 'val', step, valLoss: v.loss, tokens: v.tokens });
  };
  const checkpoint = async (): Promise<void> => {
    if (hooks.checkpoint) await hooks.checkpoint(await captureState(ctx, lora, opt, step));
  };
  let reason: LoopResult['reason'] = 'done';
  while (step < spec.steps) {
    if (hooks.control && (await hooks.control()) === 'stop') {
      reason = 'stopped';
      break;
    }
    hooks.onStepStart?.(step);
    const batch = data.batchAt(step);
    ctx.ledger.resetPeak();
    const ts = performance.now();
    const { loss, tokens } = await trainStep(ctx, model, lora, opt, spec, step, batch);
    await ctx.finish();
    const stepSeconds = (performance.now() - ts) / 1000;
    step++;
    lastLoss = loss;
    const snap = ctx.ledger.snapshot();
    const elapsed = (performance.now() - t0) / 1000;
    const done = step - startStep;
    hooks.onEvent({
      type: 'step', step, steps: spec.steps, loss, lr: opt.lr, tokens,
      tokensPerSecond: (batch.B * batch.T) / stepSeconds, stepSeconds,
      peakBytes: { ...snap.peakByCategory, total: snap.peakTotal }, workingSetBytes: workingSet(snap.atPeak), atPeak: { ...snap.atPeak },
      elapsedSeconds: elapsed, etaSeconds: (elapsed / done) * (spec.steps - step),
    });
    if (spec.valEvery > 0 && step % spec.valEvery === 0 && step < spec.steps) await runVal();
    if (spec.checkpointEvery > 0 && step % spec.checkpointEvery === 0 && step < spec.steps) await checkpoint();
    await hooks.afterStep?.(step);
  }
  if (reason === 'done') await runVal();
  await checkpoint();
  return { stepsDone: step, reason, lastLoss, lastValLoss: lastVal };
}

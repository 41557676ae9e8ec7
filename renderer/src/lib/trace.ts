// A run's trace: what the Train and Runs views draw, folded from the run's events (core/api/train.ts RunEvent) — live
// as they stream, or all at once from events.jsonl when a run is reopened from disk. Plain data (a store snapshot).
import { CATEGORIES, type BudgetReport, type ByCategory } from '../../../core/api/contract';
import type { MethodName, RunEvent } from '../../../core/api/train';

export interface TraceStep {
  step: number;
  loss: number;
  lr: number;
  tokensPerSecond: number;
  stepSeconds: number;
  /** Peak total bytes of this step, and its working set (all but weights) at that peak. */
  peak: number;
  workingSet: number;
  elapsed: number;
  eta: number;
}

export interface TracePoint {
  ms: number;
  name: string;
  kind: 'alloc' | 'free' | 'mark';
  live: ByCategory;
}

export interface TraceError {
  code: string;
  message: string;
  step: number;
  budget: BudgetReport | null;
  lastCheckpoint: string | null;
}

export interface RunTrace {
  runId: string;
  method: MethodName | null;
  totalSteps: number;
  startStep: number;
  adapter: string;
  capBytes: number | null;
  predictedPeak: number | null;
  steps: TraceStep[];
  val: { step: number; valLoss: number }[];
  /** One step's ledger timeline (ms since the step began). */
  timeline: TracePoint[];
  timelineStep: number | null;
  checkpoints: { step: number; path: string }[];
  done: { reason: 'done' | 'stopped'; step: number; adapterDir: string } | null;
  error: TraceError | null;
}

export function emptyTrace(runId: string, capBytes: number | null = null): RunTrace {
  return {
    runId, method: null, totalSteps: 0, startStep: 0, adapter: '', capBytes, predictedPeak: null, steps: [], val: [], timeline: [],
    timelineStep: null, checkpoints: [], done: null, error: null,
  };
}

/** Fold one event into the trace (in place; returns it). A new start (a resume) drops steps after its start step. */
export function applyEvent(t: RunTrace, e: RunEvent): RunTrace {
  switch (e.type) {
    case 'start':
      t.method = e.method;
      t.totalSteps = e.totalSteps;
      t.startStep = e.startStep;
      t.adapter = e.adapter;
      t.predictedPeak = e.predictedPeakBytes ?? t.predictedPeak;
      t.steps = t.steps.filter((s) => s.step <= e.startStep);
      t.val = t.val.filter((v) => v.step <= e.startStep);
      t.done = null;
      t.error = null;
      break;
    case 'step':
      t.totalSteps = e.steps;
      t.steps.push({
        step: e.step, loss: e.loss, lr: e.lr, tokensPerSecond: e.tokensPerSecond, stepSeconds: e.stepSeconds, peak: e.peakBytes.total,
        workingSet: e.workingSetBytes, elapsed: e.elapsedSeconds, eta: e.etaSeconds,
      });
      break;
    case 'val':
      t.val.push({ step: e.step, valLoss: e.valLoss });
      break;
    case 'checkpoint':
      t.checkpoints.push({ step: e.step, path: e.path });
      break;
    case 'timeline': {
      const t0 = e.points.length ? e.points[0].ms : 0;
      t.timeline = e.points.map((p) => ({ ms: p.ms - t0, name: p.name, kind: p.kind, live: { ...p.live } }));
      t.timelineStep = e.step;
      break;
    }
    case 'done':
      t.done = { reason: e.reason, step: e.step, adapterDir: e.adapterDir };
      break;
    case 'error':
      t.error = { code: e.code, message: e.message, step: e.step, budget: e.budget ?? null, lastCheckpoint: e.lastCheckpoint };
      break;
  }
  return t;
}

export function traceOf(runId: string, events: readonly RunEvent[], capBytes: number | null): RunTrace {
  const t = emptyTrace(runId, capBytes);
  for (const e of events) applyEvent(t, e);
  return t;
}

export const liveTotal = (l: ByCategory): number => CATEGORIES.reduce((s, c) => s + l[c], 0);

/** Steps done, as a fraction of the run (0..1). */
export function progressOf(t: RunTrace): number {
  if (!t.totalSteps) return 0;
  const last = t.steps.length ? t.steps[t.steps.length - 1].step : t.startStep;
  return Math.min(1, last / t.totalSteps);
}

/** The highest memory the trace saw: every step's peak and every timeline point. */
export function maxMemory(t: RunTrace): number {
  let m = 0;
  for (const s of t.steps) m = Math.max(m, s.peak);
  for (const p of t.timeline) m = Math.max(m, liveTotal(p.live));
  return m;
}

// Runs: the training settings the Train view edits, the Runs list (runs.list), and a trace per run followed live from
// its events or reopened from disk (runs.open). The Train view follows `activeRunId`. Events may arrive before the
// runs.start answer; they are kept under their run id either way.
import { defineStore } from 'pinia';
import { ref } from 'vue';
import type { RunStartParams, RunStatus, RunSummary, ServiceEvent } from '../../../core/api/contract';
import type { MethodName } from '../../../core/api/train';
import { getClient } from '../api';
import { applyEvent, emptyTrace, traceOf, type RunTrace } from '../lib/trace';

export const PROJECTIONS = ['q', 'k', 'v', 'o', 'gate', 'up', 'down'] as const;
export type Projection = (typeof PROJECTIONS)[number];

export interface RunSettings {
  method: MethodName;
  quant: 'none' | 'int8' | 'int4';
  rank: number;
  alpha: number;
  targets: Projection[];
  seqLen: number;
  batch: number;
  steps: number;
  lr: number;
  optimizer: 'sgd' | 'adamw';
  seed: number;
  valFraction: number;
  valEvery: number;
  checkpointEvery: number;
  /** A smaller cap than the profile's budget, in MB; null = the profile's budget. */
  capMB: number | null;
}

/** Sensible defaults: MeSP, rank 8 on q and v (PEFT's Qwen2 default), AdamW, a short run with validation and checkpoints. */
export function defaultSettings(): RunSettings {
  return {
    method: 'mesp', quant: 'none', rank: 8, alpha: 16, targets: ['q', 'v'], seqLen: 128, batch: 1, steps: 30, lr: 2e-3,
    optimizer: 'adamw', seed: 42, valFraction: 0.05, valEvery: 10, checkpointEvery: 10, capMB: null,
  };
}

const LIVE: RunStatus[] = ['queued', 'running', 'paused', 'stopping'];
export const isLive = (s: RunStatus | undefined): boolean => !!s && LIVE.includes(s);

export const useRunsStore = defineStore('runs', () => {
  const settings = ref<RunSettings>(defaultSettings());
  const list = ref<RunSummary[]>([]);
  const activeRunId = ref<string | null>(null);
  const traces = ref<Record<string, RunTrace>>({});
  const statuses = ref<Record<string, RunStatus>>({});
  const listError = ref<string | null>(null);

  function traceFor(runId: string): RunTrace {
    if (!traces.value[runId]) traces.value[runId] = emptyTrace(runId);
    return traces.value[runId];
  }

  function onEvent(e: ServiceEvent): void {
    if (e.type === 'run') {
      applyEvent(traceFor(e.runId), e.event);
    } else if (e.type === 'run.status') {
      statuses.value[e.runId] = e.status;
      if (!isLive(e.status)) void refresh();
    }
  }

  /** Start a run with the given params; it becomes the one the Train view follows. Throws the service's error. */
  async function start(params: RunStartParams, capBytes: number | null): Promise<string> {
    const { runId } = await getClient().call('runs.start', params);
    const t = traceFor(runId);
    t.capBytes = capBytes;
    t.method ??= params.method ?? 'mesp';
    if (!t.totalSteps && params.steps) t.totalSteps = params.steps;
    activeRunId.value = runId;
    if (!statuses.value[runId]) statuses.value[runId] = 'running';
    return runId;
  }

  async function pause(runId: string): Promise<void> {
    statuses.value[runId] = (await getClient().call('runs.pause', { runId })).status;
  }

  async function stop(runId: string): Promise<void> {
    statuses.value[runId] = (await getClient().call('runs.stop', { runId })).status;
  }

  /** Resume a paused run, or continue a stopped, failed or interrupted one from its last checkpoint (optionally with a new cap). */
  async function resume(runId: string, capBytes?: number): Promise<void> {
    const r = await getClient().call('runs.resume', { runId, ...(capBytes ? { capBytes } : {}) });
    statuses.value[runId] = r.status;
    activeRunId.value = runId;
    if (capBytes) traceFor(runId).capBytes = capBytes;
  }

  async function refresh(): Promise<void> {
    try {
      list.value = (await getClient().call('runs.list', {})).runs;
      for (const r of list.value) statuses.value[r.id] = r.status; // the service knows which runs are live
      listError.value = null;
    } catch (e) {
      listError.value = e instanceof Error ? e.message : String(e);
    }
  }

  /** Load a run's events from disk into its trace (the Runs view, or a window opened during a run). */
  async function open(runId: string): Promise<RunSummary> {
    const d = await getClient().call('runs.open', { runId });
    traces.value[runId] = traceOf(runId, d.events, d.config.capBytes);
    statuses.value[runId] = d.summary.status;
    return d.summary;
  }

  return { settings, list, activeRunId, traces, statuses, listError, onEvent, start, pause, stop, resume, refresh, open, traceFor };
});

// Runs: the training settings the Train view edits (every TrainSpec field, with the spec's defaults: core/api/train.ts),
// the Runs list (runs.list), and a trace per run followed live from its events or reopened from disk (runs.open). The
// Train view follows `activeRunId`. Events may arrive before the runs.start answer; they are kept under their run id
// either way.
import { defineStore } from 'pinia';
import { computed, ref } from 'vue';
import type { RunStartParams, RunStatus, RunSummary, ServiceEvent } from '../../../core/api/contract';
import { TRAIN_DEFAULTS, type TrainSpec, type TrainSpecKey } from '../../../core/api/train';
import { getClient } from '../api';
import { applyEvent, emptyTrace, traceOf, type RunTrace } from '../lib/trace';

/** The settings form: each TrainSpec field's value as typed ('' is an emptied field: the spec's default, or off). */
export type SpecForm = { [K in TrainSpecKey]: TrainSpec[K] | '' };

/** The spec's own defaults (one set, shared with `mesp train`). */
export function defaultSettings(): SpecForm {
  return structuredClone(TRAIN_DEFAULTS) as SpecForm;
}

/** The run's optional input files beside the model and dataset (`--val`, `--init-adapter`); '' when not used. */
export interface RunFiles {
  valPath: string;
  initAdapter: string;
}

const LIVE: RunStatus[] = ['queued', 'running', 'paused', 'stopping'];
export const isLive = (s: RunStatus | undefined): boolean => !!s && LIVE.includes(s);

export const useRunsStore = defineStore('runs', () => {
  const settings = ref<SpecForm>(defaultSettings());
  const files = ref<RunFiles>({ valPath: '', initAdapter: '' });
  /** The sequence length the dataset preview uses: the form's, or the spec's default while the field is not valid. */
  const seqLen = computed(() => {
    const v = settings.value.seqLen;
    return typeof v === 'number' && Number.isInteger(v) && v >= 2 ? v : TRAIN_DEFAULTS.seqLen;
  });
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
    t.method ??= params.method ?? TRAIN_DEFAULTS.method;
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

  return { settings, files, seqLen, list, activeRunId, traces, statuses, listError, onEvent, start, pause, stop, resume, refresh, open, traceFor };
});

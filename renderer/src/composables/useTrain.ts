// The Train view's logic: the settings form (every TrainSpec field, drawn from its metadata and checked by its schema),
// start / pause / stop, the followed run's trace turned into the four live charts, a progress bar with ETA, and — when
// the cap refuses an allocation — the budget report (which tensor, how far over, what was live) with the last
// checkpoint offered to resume, with the same or a larger cap.
import { computed, ref } from 'vue';
import { fieldsOf, type FieldInfo } from '../../../core/api/fields';
import { TrainSpecSchema } from '../../../core/api/train';
import { errorText } from '../api';
import { lossChart, memoryTimelineChart, stepPeakChart, throughputChart } from '../charts/options';
import { mb, seconds } from '../lib/format';
import { CATEGORIES, CATEGORY_LABEL } from '../lib/theme';
import { maxMemory, progressOf } from '../lib/trace';
import { isLive } from '../stores/runs';
import { useSelection } from './useSelection';

/** The form's groups, in order, with a title (the method has its own picker above them). */
export const FORM_GROUPS: { id: string; title: string; advanced: boolean }[] = [
  { id: 'run', title: 'Run', advanced: false },
  { id: 'lora', title: 'LoRA', advanced: false },
  { id: 'optimizer', title: 'Optimizer', advanced: false },
  { id: 'samples', title: 'Sample replies', advanced: true },
  { id: 'memory', title: 'Memory', advanced: false },
  { id: 'ablation', title: 'MeSP ablations', advanced: true },
];

/** Every TrainSpec field but the method, by form group. */
export const FORM_FIELDS: Record<string, FieldInfo[]> = Object.fromEntries(
  FORM_GROUPS.map((g) => [g.id, fieldsOf(TrainSpecSchema).filter((f) => f.key !== 'method' && (f.meta.group ?? 'run') === g.id)]),
);

/** With a starting adapter, its rank, alpha and targets are the run's: these fields are not the form's to set. */
const FROM_ADAPTER = new Set(['rank', 'alpha', 'targets']);

export function useTrain() {
  const sel = useSelection();
  const { runs, profiles } = sel;
  const actionError = ref<string | null>(null);
  const starting = ref(false);

  const runId = computed(() => runs.activeRunId);
  const trace = computed(() => (runId.value ? runs.traces[runId.value] ?? null : null));
  const status = computed(() => (runId.value ? runs.statuses[runId.value] ?? null : null));
  const live = computed(() => isLive(status.value ?? undefined));
  const canStart = computed(() => !!sel.common.value && !live.value && !starting.value);
  const blocker = computed(() => sel.missing.value ?? sel.issues.value[0]?.message ?? (live.value ? 'A run is in progress: pause or stop it first.' : null));

  const progress = computed(() => (trace.value ? progressOf(trace.value) : 0));
  const lastStep = computed(() => (trace.value?.steps.length ? trace.value.steps[trace.value.steps.length - 1] : null));
  const progressText = computed(() => {
    const t = trace.value;
    if (!t) return '';
    const done = lastStep.value?.step ?? t.startStep;
    const eta = live.value && lastStep.value ? ` · ETA ${seconds(lastStep.value.eta)}` : '';
    return `step ${done} of ${t.totalSteps || '?'}${eta}`;
  });

  const charts = computed(() => {
    const t = trace.value;
    if (!t) return null;
    return { loss: lossChart(t), memory: memoryTimelineChart(t), peaks: stepPeakChart(t), throughput: throughputChart(t) };
  });

  const headroom = computed(() => {
    const t = trace.value;
    if (!t?.capBytes) return null;
    const used = maxMemory(t);
    return used ? { used, cap: t.capBytes, text: `highest ${mb(used, 2)} of a ${mb(t.capBytes)} cap (${((100 * used) / t.capBytes).toFixed(used / t.capBytes < 0.01 ? 2 : 0)}%)` } : null;
  });

  /** The budget-exceeded report of a failed run, in words. */
  const budget = computed(() => {
    const e = trace.value?.error;
    if (!e?.budget) return null;
    const b = e.budget;
    const live = CATEGORIES.map((c) => ({ label: CATEGORY_LABEL[c], bytes: b.liveByCategory[c] ?? 0 })).filter((x) => x.bytes > 0);
    const last = trace.value!.checkpoints.length ? trace.value!.checkpoints[trace.value!.checkpoints.length - 1] : null;
    return {
      tensor: `${b.request.category}:${b.request.name}`,
      requestBytes: b.request.bytes,
      overshootBytes: b.overshootBytes,
      capBytes: b.capBytes,
      step: e.step,
      live,
      message: e.message,
      lastCheckpoint: e.lastCheckpoint,
      lastCheckpointStep: last?.step ?? null,
      /** A cap that would have taken this allocation, rounded up to a whole MB with 25 % to spare. */
      suggestedCapMB: Math.ceil(((b.capBytes + b.overshootBytes) * 1.25) / 1e6),
    };
  });
  const otherError = computed(() => (trace.value?.error && !trace.value.error.budget ? trace.value.error : null));

  async function act(f: () => Promise<unknown>): Promise<void> {
    try {
      actionError.value = null;
      await f();
    } catch (e) {
      actionError.value = errorText(e);
    }
  }

  async function start(): Promise<void> {
    const c = sel.common.value;
    if (!c) return;
    starting.value = true;
    const params = { ...c };
    if (params.initAdapter) for (const k of FROM_ADAPTER) delete (params as Record<string, unknown>)[k];
    await act(() => runs.start(params, sel.capBytes.value));
    starting.value = false;
  }

  const pause = (): Promise<void> => act(() => runs.pause(runId.value!));
  const stop = (): Promise<void> => act(() => runs.stop(runId.value!));
  const resume = (capMB?: number): Promise<void> => act(() => runs.resume(runId.value!, capMB ? Math.round(capMB * 1e6) : undefined));

  const fieldError = (f: string): string | null => sel.issues.value.find((i) => i.field === f)?.message ?? null;
  const fromAdapter = (key: string): boolean => FROM_ADAPTER.has(key) && runs.files.initAdapter.trim() !== '';

  return {
    settings: runs.settings, form: runs.settings as unknown as Record<string, unknown>, files: runs.files, profiles, sel, runId, trace, status, live, canStart, blocker, starting, progress, progressText, charts,
    headroom, budget, otherError, actionError, start, pause, stop, resume, fieldError, fromAdapter,
  };
}

// The Train view's logic: the settings form (every TrainSpec field, drawn from its metadata and checked by its schema),
// start / pause / stop, the followed run's trace turned into the four live charts, a progress bar with ETA, and — when
// the cap refuses an allocation — the budget report (which tensor, how far over, what was live) with the last
// checkpoint offered to resume, with the same or a larger cap. Before a start, the plan of the chosen method (plan.fit)
// warns when its step is already over the cap; a start clears the previous run and shows a starting state; a service
// that stops answering shows the run as disconnected, with resume offered in place once it is back.
import { computed, ref, watch } from 'vue';
import { FIT_SPEC_KEYS, type FitMethod } from '../../../core/api/contract/plan';
import { fieldsOf, type FieldInfo } from '../../../core/api/fields';
import { TrainSpecSchema, pickSpec } from '../../../core/api/train';
import { errorText, getClient } from '../api';
import { lossChart, memoryTimelineChart, stepPeakChart, throughputChart } from '../charts/options';
import { mb, seconds } from '../lib/format';
import { CATEGORIES, CATEGORY_LABEL, METHOD_LABEL } from '../lib/theme';
import { maxMemory, progressOf } from '../lib/trace';
import { useAppStore } from '../stores/app';
import { isLive } from '../stores/runs';
import { useSelection } from './useSelection';

/** The loss chart's smoothing choices (EMA weights; 0 is the raw loss). */
export const SMOOTHING = [0, 0.6, 0.9, 0.97] as const;

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
  const app = useAppStore();
  const actionError = ref<string | null>(null);
  const starting = ref(false);
  /** The settings card is open until a run starts (then the charts take the screen; it reopens on click). */
  const settingsOpen = ref(true);
  const smoothing = ref<number>(0.6);

  const runId = computed(() => runs.activeRunId);
  const trace = computed(() => (runId.value ? runs.traces[runId.value] ?? null : null));
  const status = computed(() => (runId.value ? runs.statuses[runId.value] ?? null : null));
  const live = computed(() => isLive(status.value ?? undefined));
  /** The service is not answering: a live run's state is unknown until it is back. */
  const disconnected = computed(() => app.connection === 'down');
  /** What the badge says: a live run with no service is "disconnected", not RUNNING. */
  const shownStatus = computed(() => (status.value && live.value && disconnected.value ? 'disconnected' : status.value));
  /** A run that ended without finishing, resumable from its last checkpoint here. */
  /** (A stopped run has its own "continue" below the progress bar, a refused one the budget report's resume.) */
  const resumable = computed(() => !disconnected.value && (status.value === 'interrupted' || (status.value === 'failed' && !trace.value?.error?.budget)));
  const canStart = computed(() => !!sel.common.value && !live.value && !starting.value && !disconnected.value);
  // While a run is live its charts take the screen; when it ends the settings open again for the next one.
  watch(live, (now) => (settingsOpen.value = !now));
  /** The run's cap: the followed run's own (its start event, config.json), else what a start would use. */
  const capBytes = computed(() => trace.value?.capBytes ?? sel.capBytes.value);

  /** The chosen method's plan for the current settings (plan.fit), to warn before a start that is sure to be refused. */
  const plan = ref<FitMethod | null>(null);
  const planCap = ref<number | null>(null);
  let planSeq = 0;
  let planTimer: ReturnType<typeof setTimeout> | null = null;
  watch(
    () => JSON.stringify(sel.common.value),
    () => {
      if (planTimer) clearTimeout(planTimer);
      planTimer = setTimeout(() => void checkPlan(), 300);
    },
    { immediate: true },
  );
  async function checkPlan(): Promise<void> {
    const c = sel.common.value;
    const spec = sel.spec.value;
    const mine = ++planSeq;
    if (!c || !spec) {
      plan.value = null;
      return;
    }
    try {
      const r = await getClient().call('plan.fit', { ...pickSpec(spec, FIT_SPEC_KEYS), modelDir: c.modelDir, dataPath: c.dataPath, profile: c.profile, methods: [spec.method] });
      if (mine === planSeq) {
        plan.value = r.methods[0] ?? null;
        planCap.value = r.capBytes;
      }
    } catch {
      if (mine === planSeq) plan.value = null; // the start itself reports what is wrong
    }
  }
  /** The warning a start gets when the plan already says the step does not fit. */
  const overPlan = computed(() => {
    const p = plan.value;
    if (!p || p.error || p.fits || planCap.value === null) return null;
    const where = p.peakAt ? ` (its peak at ${p.peakAt.part}, ${p.peakAt.category} ${p.peakAt.name})` : '';
    return `The plan puts one ${METHOD_LABEL[p.method]} step at ${mb(p.peakBytes, 2)}${where}, over the ${mb(planCap.value)} cap by ${mb(p.peakBytes - planCap.value, 2)}: the run will be refused at its first step. Lower the sequence length, batch or rank, choose MeSP, or raise the cap.`;
  });

  /** The key numbers of the followed run: step, loss, tokens/s, elapsed, ETA, peak. */
  const tiles = computed(() => {
    const t = trace.value;
    if (!t) return [];
    const s = lastStep.value;
    const peak = t.steps.reduce((m, x) => Math.max(m, x.peak), 0);
    return [
      { id: 'step', label: 'step', value: s ? `${s.step} / ${t.totalSteps || '?'}` : `— / ${t.totalSteps || '?'}` },
      { id: 'loss', label: 'loss', value: s ? s.loss.toFixed(4) : '—' },
      { id: 'tps', label: 'tokens/s', value: s ? s.tokensPerSecond.toFixed(0) : '—' },
      { id: 'elapsed', label: 'elapsed', value: s ? seconds(s.elapsed) : '—' },
      { id: 'eta', label: 'ETA', value: s && live.value ? seconds(s.eta) : '—' },
      { id: 'peak', label: 'peak', value: peak ? `${mb(peak, 2)} of ${mb(t.capBytes)}` : '—' },
    ];
  });
  const blocker = computed(() => sel.missing.value ?? sel.issues.value[0]?.message ?? (live.value ? 'A run is in progress: pause or stop it first.' : null));

  const progress = computed(() => (trace.value ? progressOf(trace.value) : 0));
  const lastStep = computed(() => (trace.value?.steps.length ? trace.value.steps[trace.value.steps.length - 1] : null));
  const progressText = computed(() => {
    const t = trace.value;
    if (!t) return '';
    if (live.value && !t.adapter && !t.steps.length) return 'starting: loading the model and planning its memory…';
    const done = lastStep.value?.step ?? t.startStep;
    const eta = live.value && lastStep.value ? ` · ETA ${seconds(lastStep.value.eta)}` : '';
    return `step ${done} of ${t.totalSteps || '?'}${eta}`;
  });

  // One computed a chart: a step event redraws the step charts, not the recorded step's timeline (hundreds of points
  // in seven stacked areas), which changes once a run.
  const lossC = computed(() => (trace.value ? lossChart(trace.value, smoothing.value) : null));
  const memoryC = computed(() => (trace.value ? memoryTimelineChart(trace.value) : null));
  const peaksC = computed(() => (trace.value ? stepPeakChart(trace.value) : null));
  const throughputC = computed(() => (trace.value ? throughputChart(trace.value) : null));
  const charts = computed(() => (lossC.value && memoryC.value && peaksC.value && throughputC.value ? { loss: lossC.value, memory: memoryC.value, peaks: peaksC.value, throughput: throughputC.value } : null));

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
    const liveBytes = CATEGORIES.map((c) => ({ label: CATEGORY_LABEL[c], bytes: b.liveByCategory[c] ?? 0 })).filter((x) => x.bytes > 0);
    const last = trace.value!.checkpoints.length ? trace.value!.checkpoints[trace.value!.checkpoints.length - 1] : null;
    return {
      tensor: `${b.request.category}:${b.request.name}`,
      requestBytes: b.request.bytes,
      overshootBytes: b.overshootBytes,
      capBytes: b.capBytes,
      step: e.step,
      live: liveBytes,
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
    // The previous run's trace leaves the screen: the starting state, then the new run's first events.
    runs.activeRunId = null;
    settingsOpen.value = false;
    const params = { ...c };
    if (params.initAdapter) for (const k of FROM_ADAPTER) delete (params as Record<string, unknown>)[k];
    await act(() => runs.start(params, sel.capBytes.value));
    starting.value = false;
    if (actionError.value || !live.value) settingsOpen.value = true;
  }

  const pause = (): Promise<void> => act(() => runs.pause(runId.value!));
  const stop = (): Promise<void> => act(() => runs.stop(runId.value!));
  const resume = (capMB?: number): Promise<void> => act(() => runs.resume(runId.value!, capMB ? Math.round(capMB * 1e6) : undefined));

  const fieldError = (f: string): string | null => sel.issues.value.find((i) => i.field === f)?.message ?? null;
  const fromAdapter = (key: string): boolean => FROM_ADAPTER.has(key) && runs.files.initAdapter.trim() !== '';

  return {
    settings: runs.settings, form: runs.settings as unknown as Record<string, unknown>, files: runs.files, profiles, sel, runId, trace, status, live, canStart, blocker, starting, progress, progressText, charts,
    headroom, budget, otherError, actionError, start, pause, stop, resume, fieldError, fromAdapter,
    disconnected, shownStatus, resumable, capBytes, overPlan, tiles, settingsOpen, smoothing,
  };
}

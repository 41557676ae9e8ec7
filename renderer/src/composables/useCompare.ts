// The Compare view's logic: which methods to run (default all four) and for how many steps, start and stop, and the
// shown comparison (live, or reopened from disk) turned into the side-by-side charts: peak memory by category against
// the budget, one step's memory timeline per method, loss against step and against time, step time, and MeZO's
// gradient cosine with the exact gradient.
import { computed, ref } from 'vue';
import type { MethodName } from '../../../core/api/train';
import { errorText } from '../api';
import { compareLossChart, comparePeakChart, compareTimelineChart, cosineChart, stepTimeChart } from '../charts/options';
import { liveTotal } from '../lib/trace';
import { METHODS } from '../lib/theme';
import { useCompareStore } from '../stores/compare';
import { useSelection } from './useSelection';

export function useCompare() {
  const sel = useSelection();
  const compare = useCompareStore();
  const error = ref<string | null>(null);
  /** The per-method timelines show the working set (all but the frozen weights) unless weights are asked for. */
  const timelineWeights = ref(false);

  const running = computed(() => compare.activeId !== null);
  const canStart = computed(() => !!sel.common.value && !running.value && compare.settings.methods.length > 0);
  const blocker = computed(() => sel.missing.value ?? sel.issues.value[0]?.message ?? (compare.settings.methods.length ? null : 'Choose at least one method.'));

  function toggle(m: MethodName): void {
    const ms = compare.settings.methods;
    compare.settings.methods = ms.includes(m) ? ms.filter((x) => x !== m) : METHODS.filter((x) => x === m || ms.includes(x));
  }

  async function start(): Promise<void> {
    const c = sel.common.value;
    if (!c) return;
    const { method: _method, ...settings } = c; // a comparison runs the chosen methods instead
    try {
      error.value = null;
      await compare.start({ ...settings, methods: [...compare.settings.methods], steps: compare.settings.steps, cosineSamples: compare.settings.cosineSamples });
    } catch (e) {
      error.value = errorText(e);
    }
  }

  const act = (f: () => Promise<void>) => async (): Promise<void> => {
    try {
      error.value = null;
      await f();
    } catch (e) {
      error.value = errorText(e);
    }
  };
  const pause = act(() => compare.pause());
  const resume = act(() => compare.resume());
  const stop = act(() => compare.stop());

  async function open(id: string): Promise<void> {
    try {
      error.value = null;
      await compare.open(id);
    } catch (e) {
      error.value = errorText(e);
    }
  }

  const c = computed(() => compare.current);
  const charts = computed(() => {
    const cmp = c.value;
    if (!cmp) return null;
    const w = timelineWeights.value;
    const scale = Math.max(0, ...cmp.methods.flatMap((m) => m.timeline.map((p) => liveTotal(p.live) - (w ? 0 : p.live.weights))));
    return {
      peak: comparePeakChart(cmp),
      timelines: cmp.methods.map((m) => ({ method: m.method, chart: compareTimelineChart(cmp, m.method, scale, w) })),
      lossStep: compareLossChart(cmp, 'step'),
      lossTime: compareLossChart(cmp, 'time'),
      stepTime: stepTimeChart(cmp),
      cosine: cmp.cosine && !cmp.cosine.error ? cosineChart(cmp.cosine) : null,
    };
  });

  /** Per method: status, measured peak vs the plan, and a short verdict against the budget. */
  const rows = computed(() =>
    (c.value?.methods ?? []).map((m) => ({
      method: m.method,
      status: m.status,
      peak: m.peakBytes,
      predicted: m.predictedPeakBytes,
      stepSeconds: m.stepSeconds,
      finalLoss: m.loss.length ? m.loss[m.loss.length - 1].loss : null,
      error: m.error,
      fits: m.peakBytes !== null && c.value !== null ? m.peakBytes <= c.value.capBytes : null,
    })),
  );

  return {
    sel, compare, settings: compare.settings, status: computed(() => compare.status), running, canStart, blocker, error, toggle, start, pause, resume, stop, open,
    comparison: c, charts, rows, timelineWeights,
  };
}

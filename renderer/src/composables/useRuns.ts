// The Runs view's logic: past runs and comparisons read back from disk, one run's charts from its events.jsonl, and
// for a run that did not finish (stopped, failed, or interrupted because the app or the service died) where it stopped
// and a resume from its last checkpoint, optionally with a larger cap.
import { computed, onMounted, ref } from 'vue';
import type { RunSummary } from '../../../core/api/contract';
import { errorText } from '../api';
import { lossChart, memoryTimelineChart, stepPeakChart, throughputChart } from '../charts/options';
import { overlayLossChart } from '../charts/plan';
import { METHOD_LABEL } from '../lib/theme';
import { useAppStore } from '../stores/app';
import { useCompareStore } from '../stores/compare';
import { useRunsStore } from '../stores/runs';

export function useRuns() {
  const app = useAppStore();
  const runs = useRunsStore();
  const compare = useCompareStore();
  const selectedId = ref<string | null>(null);
  const summary = ref<RunSummary | null>(null);
  const error = ref<string | null>(null);
  const resumeCapMB = ref<number | null>(null);

  async function refresh(): Promise<void> {
    await Promise.all([runs.refresh(), compare.refresh()]);
  }
  onMounted(() => void refresh().catch((e) => (error.value = errorText(e))));

  async function select(id: string): Promise<void> {
    try {
      error.value = null;
      selectedId.value = id;
      summary.value = await runs.open(id);
      resumeCapMB.value = null;
    } catch (e) {
      error.value = errorText(e);
    }
  }

  const trace = computed(() => (selectedId.value ? runs.traces[selectedId.value] ?? null : null));
  const charts = computed(() => {
    const t = trace.value;
    return t ? { loss: lossChart(t), memory: memoryTimelineChart(t), peaks: stepPeakChart(t), throughput: throughputChart(t) } : null;
  });

  /** Where the run stopped, in words. */
  const whereStopped = computed(() => {
    const s = summary.value;
    if (!s) return '';
    const ck = s.lastCheckpoint ? `last checkpoint at step ${s.lastCheckpoint.step}` : 'no checkpoint yet (a resume starts from step 0)';
    switch (s.status) {
      case 'done':
        return `Finished all ${s.totalSteps} steps.`;
      case 'stopped':
        return `Stopped after step ${s.stepsDone} of ${s.totalSteps}; ${ck}.`;
      case 'failed':
        return `Failed at step ${s.stepsDone} of ${s.totalSteps}: ${s.error?.message ?? 'unknown error'} — ${ck}.`;
      case 'interrupted':
        return `Interrupted after step ${s.stepsDone} of ${s.totalSteps} (the app or the service closed mid-run); ${ck}.`;
      default:
        return `${s.status} at step ${s.stepsDone} of ${s.totalSteps}.`;
    }
  });

  async function resume(): Promise<void> {
    const s = summary.value;
    if (!s) return;
    try {
      error.value = null;
      await runs.resume(s.id, resumeCapMB.value ? Math.round(resumeCapMB.value * 1e6) : undefined);
      app.go('train');
    } catch (e) {
      error.value = errorText(e);
    }
  }

  /** Runs whose loss curves are overlaid on one chart (their events read from disk once). */
  const overlay = ref<string[]>([]);
  async function toggleOverlay(id: string): Promise<void> {
    if (overlay.value.includes(id)) {
      overlay.value = overlay.value.filter((x) => x !== id);
      return;
    }
    try {
      error.value = null;
      if (!runs.traces[id]?.steps.length) await runs.open(id);
      overlay.value = [...overlay.value, id];
    } catch (e) {
      error.value = errorText(e);
    }
  }
  const overlayChart = computed(() => {
    if (!overlay.value.length) return null;
    return overlayLossChart(overlay.value.map((id) => {
      const s = runs.list.find((x) => x.id === id);
      return { id, label: s ? `${id} (${METHOD_LABEL[s.method]})` : id, steps: runs.traces[id]?.steps ?? [] };
    }));
  });

  async function openComparison(id: string): Promise<void> {
    try {
      await compare.open(id);
      app.go('compare');
    } catch (e) {
      error.value = errorText(e);
    }
  }

  function follow(id: string): void {
    runs.activeRunId = id;
    app.go('train');
  }

  return { runs, compare, selectedId, summary, trace, charts, whereStopped, error, resumeCapMB, refresh, select, resume, openComparison, follow, overlay, toggleOverlay, overlayChart };
}

// Comparisons: the Compare view's choices (methods, steps, MeZO directions: the compare schema's defaults), the
// comparison shown (live while it runs, or reopened from disk), its lifecycle state (running, paused, stopping) and the
// saved list. Live events update the shown comparison as each method trains.
import { defineStore } from 'pinia';
import { ref } from 'vue';
import { CompareSettingsSchema, type CompareStartParams, type CompareSummary, type Comparison, type RunStatus, type ServiceEvent } from '../../../core/api/contract';
import { defaultOf } from '../../../core/api/fields';
import type { MethodName } from '../../../core/api/train';
import { getClient } from '../api';

export interface CompareSettings {
  methods: MethodName[];
  steps: number;
  cosineSamples: number;
}

const defaults = (): CompareSettings => ({
  methods: [...(defaultOf(CompareSettingsSchema.shape.methods) as MethodName[])],
  steps: defaultOf(CompareSettingsSchema.shape.steps) as number,
  cosineSamples: defaultOf(CompareSettingsSchema.shape.cosineSamples) as number,
});

export const useCompareStore = defineStore('compare', () => {
  const settings = ref<CompareSettings>(defaults());
  const current = ref<Comparison | null>(null);
  const activeId = ref<string | null>(null);
  /** The live comparison's state in the run lifecycle. */
  const status = ref<RunStatus | null>(null);
  const list = ref<CompareSummary[]>([]);

  function onEvent(e: Extract<ServiceEvent, { type: 'compare' }>): void {
    const ev = e.event;
    if (ev.type === 'start') {
      current.value = ev.comparison;
      activeId.value = e.compareId;
      status.value = 'running';
      return;
    }
    if (ev.type === 'status') {
      if (e.compareId === activeId.value) status.value = ev.status;
      return;
    }
    const c = current.value;
    if (!c || c.id !== e.compareId) return;
    if (ev.type === 'method-start') {
      c.methods[ev.index].status = 'running';
    } else if (ev.type === 'run') {
      const m = c.methods.find((x) => x.method === ev.method);
      if (!m) return;
      const r = ev.event;
      if (r.type === 'start') m.predictedPeakBytes = r.predictedPeakBytes ?? m.predictedPeakBytes;
      else if (r.type === 'step') {
        m.loss.push({ step: r.step, loss: r.loss, seconds: r.elapsedSeconds });
        m.peakBytes = Math.max(m.peakBytes ?? 0, r.peakBytes.total);
        const { total: _t, ...byCat } = r.peakBytes;
        if (!m.timeline.length) m.atPeak = byCat;
      } else if (r.type === 'timeline' && r.points.length) {
        const t0 = r.points[0].ms;
        m.timeline = r.points.map((p) => ({ ms: p.ms - t0, live: { ...p.live } }));
      }
    } else if (ev.type === 'method-done') {
      const i = c.methods.findIndex((x) => x.method === ev.method);
      if (i >= 0) c.methods[i] = ev.result;
    } else if (ev.type === 'cosine') {
      c.cosine = ev.cosine;
    } else if (ev.type === 'done') {
      current.value = ev.comparison;
      activeId.value = null;
      status.value = null;
      void refresh();
    }
  }

  async function start(params: CompareStartParams): Promise<string> {
    const { compareId } = await getClient().call('compare.start', params);
    activeId.value = compareId;
    status.value ??= 'running';
    return compareId;
  }

  /** Pause, resume or stop the live comparison (between steps of the method that is training). */
  async function control(what: 'pause' | 'resume' | 'stop'): Promise<void> {
    if (!activeId.value) return;
    status.value = (await getClient().call(`compare.${what}`, { compareId: activeId.value })).status;
  }
  const pause = (): Promise<void> => control('pause');
  const resume = (): Promise<void> => control('resume');
  const stop = (): Promise<void> => control('stop');

  async function refresh(): Promise<void> {
    list.value = (await getClient().call('compare.list', {})).comparisons;
  }

  async function open(compareId: string): Promise<void> {
    current.value = (await getClient().call('compare.open', { compareId })).comparison;
  }

  return { settings, current, activeId, status, list, onEvent, start, pause, resume, stop, refresh, open };
});

// Comparisons: the Compare view's choices (methods, steps), the comparison shown (live while it runs, or reopened
// from disk), and the saved list. Live events update the shown comparison as each method trains.
import { defineStore } from 'pinia';
import { ref } from 'vue';
import type { CompareStartParams, CompareSummary, Comparison, ServiceEvent } from '../../../core/api/contract';
import type { MethodName } from '../../../core/api/train';
import { getClient } from '../api';
import { METHODS } from '../lib/theme';

export interface CompareSettings {
  methods: MethodName[];
  steps: number;
  cosineSamples: number;
}

export const useCompareStore = defineStore('compare', () => {
  const settings = ref<CompareSettings>({ methods: [...METHODS], steps: 8, cosineSamples: 8 });
  const current = ref<Comparison | null>(null);
  const activeId = ref<string | null>(null);
  const list = ref<CompareSummary[]>([]);

  function onEvent(e: Extract<ServiceEvent, { type: 'compare' }>): void {
    const ev = e.event;
    if (ev.type === 'start') {
      current.value = ev.comparison;
      activeId.value = e.compareId;
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
      void refresh();
    }
  }

  async function start(params: CompareStartParams): Promise<string> {
    const { compareId } = await getClient().call('compare.start', params);
    activeId.value = compareId;
    return compareId;
  }

  async function stop(): Promise<void> {
    if (activeId.value) await getClient().call('compare.stop', { compareId: activeId.value });
  }

  async function refresh(): Promise<void> {
    list.value = (await getClient().call('compare.list', {})).comparisons;
  }

  async function open(compareId: string): Promise<void> {
    current.value = (await getClient().call('compare.open', { compareId })).comparison;
  }

  return { settings, current, activeId, list, onEvent, start, stop, refresh, open };
});

// The app store: the service's app info (mode, data folder, demo paths, recent files), the connection state, the
// current view, and the one place service events arrive (they are handed to the runs and compare stores).
import { defineStore } from 'pinia';
import { ref } from 'vue';
import type { AppInfo, ServiceEvent } from '../../../core/api/contract';
import { errorText, getClient } from '../api';
import { useCompareStore } from './compare';
import { useRunsStore } from './runs';

export type ViewName = 'devices' | 'data' | 'train' | 'compare' | 'runs' | 'export';
export const VIEWS: { id: ViewName; label: string; hint: string }[] = [
  { id: 'devices', label: 'Devices', hint: 'Phone profiles and "will it fit?"' },
  { id: 'data', label: 'Model & data', hint: 'Base model and dataset' },
  { id: 'train', label: 'Train', hint: 'LoRA training, live' },
  { id: 'compare', label: 'Compare', hint: 'Methods side by side' },
  { id: 'runs', label: 'Runs', hint: 'Past runs and comparisons' },
  { id: 'export', label: 'Export', hint: 'Adapter for the phone' },
];

export const useAppStore = defineStore('app', () => {
  const info = ref<AppInfo | null>(null);
  const view = ref<ViewName>('devices');
  const connection = ref<'connecting' | 'ready' | 'down'>('connecting');
  const notice = ref<string | null>(null);
  const error = ref<string | null>(null);
  let unsubscribe: (() => void) | null = null;

  function dispatch(e: ServiceEvent): void {
    if (e.type === 'run' || e.type === 'run.status') useRunsStore().onEvent(e);
    else if (e.type === 'compare') useCompareStore().onEvent(e);
    else if (e.type === 'service') {
      connection.value = e.state === 'down' ? 'down' : 'ready';
      notice.value = e.message;
      if (e.state !== 'down') void resync();
    }
  }

  /** After the service came back (a restart loses live runs): re-read what is running and the lists. */
  async function resync(): Promise<void> {
    try {
      await refreshInfo();
      const runs = useRunsStore();
      const compare = useCompareStore();
      await Promise.all([runs.refresh(), compare.refresh()]);
      if (compare.activeId !== info.value?.activeCompareId) compare.activeId = info.value?.activeCompareId ?? null;
    } catch (e) {
      error.value = `The service came back but does not answer: ${errorText(e)}`;
    }
  }

  async function refreshInfo(): Promise<void> {
    info.value = await getClient().call('app.info', {});
  }

  async function init(): Promise<void> {
    unsubscribe?.();
    unsubscribe = getClient().on(dispatch);
    try {
      await refreshInfo();
      connection.value = 'ready';
      error.value = null;
    } catch (e) {
      connection.value = 'down';
      error.value = `Cannot reach the MeSP service: ${errorText(e)}`;
    }
  }

  function go(v: ViewName): void {
    view.value = v;
  }

  return { info, view, connection, notice, error, init, refreshInfo, go, dispatch };
});

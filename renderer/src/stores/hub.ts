// The Hugging Face Hub as the app sees it (core/api/contract/hub.ts): the catalogue of Qwen2.5 models with each
// method's fit for the chosen profile and settings (hub.catalogue, planned from each config alone), the cache's repos
// (hub.cached), and every pull followed from its service events (hub.pull: plan, progress, retry, file, done, then
// cancelled or error) into a view with bytes, rate and ETA per file and in total. Events may arrive before the
// hub.pull answer; they are kept under their pull id either way. A pull that ends refreshes the cache list and the
// catalogue (whose rows say what the cache holds of them). Pulls this window did not start (a run's pull of a hub id on
// first use, another window's Download) are followed the same way; `elsewhere` lists those the catalogue does not show.
import { defineStore } from 'pinia';
import { computed, ref } from 'vue';
import { QWEN25_CATALOGUE, type Catalogue, type HubRepoKind, type ParamsOf, type PullEvent, type ResultOf, type ServiceEvent } from '../../../core/api/contract';
import { errorText, getClient } from '../api';

export type CatalogueParams = ParamsOf<'hub.catalogue'>;
export type HubCached = ResultOf<'hub.cached'>;
export type PullParams = ParamsOf<'hub.pull'>;

/** running: bytes are moving (or about to); the other three are where a pull ends. */
export type PullStatus = 'running' | 'done' | 'cancelled' | 'failed';

export interface FileProgress {
  path: string;
  bytes: number;
  total: number;
  /** bytes/s of this file's transfer, and its ETA in seconds (null before a rate is known). */
  rate: number;
  eta: number | null;
  /** cached: already in the cache; waiting: not started; moving: in transfer; verified: its sha256 or git id checked. */
  state: 'cached' | 'waiting' | 'moving' | 'verified';
  /** The check and digest once verified; the bytes an earlier, interrupted transfer had left. */
  check: string | null;
  digest: string | null;
  resumedFrom: number;
}

export interface PullView {
  pullId: string;
  repo: string;
  kind: HubRepoKind;
  /** A dataset pull's .jsonl file. */
  file: string | null;
  status: PullStatus;
  files: FileProgress[];
  doneBytes: number;
  totalBytes: number;
  rate: number;
  eta: number | null;
  retry: Extract<PullEvent, { type: 'retry' }> | null;
  error: { code: string; message: string } | null;
  /** Bytes kept for a resume after a cancel. */
  partialBytes: number | null;
  /** The snapshot (a model's folder) and the pulled path (a dataset's file) once done. */
  snapshotDir: string | null;
  path: string | null;
}

/** The key of what a pull fetches: a model repo, or one file of a dataset repo. */
export function pullKey(kind: HubRepoKind, repo: string, file?: string | null): string {
  return `${kind}:${repo}${file ? `:${file}` : ''}`;
}

function emptyView(pullId: string, repo = '', kind: HubRepoKind = 'model', file: string | null = null): PullView {
  return {
    pullId, repo, kind, file, status: 'running', files: [], doneBytes: 0, totalBytes: 0, rate: 0, eta: null, retry: null, error: null,
    partialBytes: null, snapshotDir: null, path: null,
  };
}

/** Fold one pull event into its view. */
export function applyPullEvent(v: PullView, e: PullEvent): void {
  switch (e.type) {
    case 'plan':
      v.repo = e.repo;
      v.kind = e.kind;
      v.status = 'running';
      v.files = e.files.map((f) => ({
        path: f.path, bytes: f.haveBytes, total: f.bytes, rate: 0, eta: null, state: f.state === 'cached' ? 'cached' : 'waiting', check: null, digest: null, resumedFrom: 0,
      }));
      v.doneBytes = e.haveBytes;
      v.totalBytes = e.totalBytes;
      break;
    case 'progress': {
      let f = v.files.find((x) => x.path === e.path);
      if (!f) {
        f = { path: e.path, bytes: 0, total: e.fileTotal, rate: 0, eta: null, state: 'waiting', check: null, digest: null, resumedFrom: 0 };
        v.files.push(f);
      }
      if (f.state !== 'verified') f.state = 'moving';
      Object.assign(f, { bytes: e.fileBytes, total: e.fileTotal, rate: e.fileRate, eta: e.fileEtaSeconds });
      Object.assign(v, { doneBytes: e.doneBytes, totalBytes: e.totalBytes, rate: e.rate, eta: e.etaSeconds, retry: null });
      break;
    }
    case 'retry':
      v.retry = e;
      break;
    case 'file': {
      const f = v.files.find((x) => x.path === e.path);
      if (f) Object.assign(f, { state: 'verified', bytes: e.bytes, total: e.bytes, eta: 0, check: e.check, digest: e.digest, resumedFrom: e.resumedFrom });
      v.retry = null;
      break;
    }
    case 'done':
      Object.assign(v, { status: 'done', repo: e.repo, kind: e.kind, snapshotDir: e.snapshotDir, path: e.path, doneBytes: v.totalBytes, eta: 0, retry: null });
      break;
    case 'cancelled':
      Object.assign(v, { status: 'cancelled', repo: e.repo, partialBytes: e.partialBytes, retry: null, eta: null });
      break;
    case 'error':
      Object.assign(v, { status: 'failed', repo: e.repo, error: { code: e.code, message: e.message }, retry: null, eta: null });
      break;
  }
}

export const useHubStore = defineStore('hub', () => {
  const catalogue = ref<Catalogue | null>(null);
  /** The params the shown catalogue was planned with (its settings line). */
  const catalogueFor = ref<CatalogueParams | null>(null);
  const catalogueLoading = ref(false);
  const catalogueError = ref<string | null>(null);
  const cached = ref<HubCached | null>(null);
  const cachedError = ref<string | null>(null);
  const pulls = ref<Record<string, PullView>>({});
  /** What each model repo or dataset file was pulled by last (its view stays after it ended: done, cancelled, failed). */
  const latest = ref<Record<string, string>>({});
  /** The pulls this window started (hub.pull answers); the others came from a run or another window. */
  const mine = ref<Record<string, true>>({});
  let seq = 0;

  /** Running pulls this window did not start, except a catalogue model's (its row shows the pull). */
  const elsewhere = computed(() => Object.values(pulls.value).filter((v) => v.status === 'running' && !mine.value[v.pullId]
    && !(v.kind === 'model' && QWEN25_CATALOGUE.some((m) => m.repo === v.repo))));

  function viewFor(pullId: string): PullView {
    if (!pulls.value[pullId]) pulls.value[pullId] = emptyView(pullId);
    return pulls.value[pullId];
  }

  function track(v: PullView): void {
    if (v.repo) latest.value[pullKey(v.kind, v.repo, v.file)] = v.pullId;
  }

  async function loadCatalogue(params: CatalogueParams): Promise<void> {
    const mine = ++seq;
    catalogueLoading.value = true;
    try {
      const r = await getClient().call('hub.catalogue', params);
      if (mine !== seq) return;
      catalogue.value = r;
      catalogueFor.value = params;
      catalogueError.value = null;
    } catch (e) {
      if (mine === seq) catalogueError.value = `Could not plan the catalogue: ${errorText(e)}`;
    } finally {
      if (mine === seq) catalogueLoading.value = false;
    }
  }

  /** Re-read the cache; pulls in progress (started by another window) are followed. */
  async function refreshCached(): Promise<void> {
    try {
      const r = await getClient().call('hub.cached', {});
      cached.value = r;
      cachedError.value = null;
      for (const a of r.active) {
        const v = viewFor(a.pullId);
        Object.assign(v, { repo: a.repo, kind: a.kind, file: a.file ?? null });
        track(v);
      }
    } catch (e) {
      cachedError.value = `Could not read the Hugging Face cache: ${errorText(e)}`;
    }
  }

  /** After the service restarted: its pulls are gone; a pull not among the active ones ended with it (its bytes stay). */
  async function resync(): Promise<void> {
    await refreshCached();
    const active = new Set(cached.value?.active.map((a) => a.pullId) ?? []);
    for (const v of Object.values(pulls.value)) {
      if (v.status === 'running' && !active.has(v.pullId)) {
        Object.assign(v, { status: 'failed', error: { code: 'INTERRUPTED', message: 'The service restarted during this download; download again to resume it.' } });
      }
    }
  }

  function onEvent(e: ServiceEvent): void {
    if (e.type !== 'hub.pull') return;
    const v = viewFor(e.pullId);
    applyPullEvent(v, e.event);
    track(v);
    if (v.status !== 'running') void afterEnd();
  }

  async function afterEnd(): Promise<void> {
    await refreshCached();
    if (catalogueFor.value) await loadCatalogue(catalogueFor.value);
  }

  /** Start (or resume: the service continues from the kept bytes) a pull; throws the service's refusal. */
  async function pull(params: PullParams): Promise<string> {
    const r = await getClient().call('hub.pull', params);
    mine.value[r.pullId] = true; // shown where it was asked for (also one that was running already)
    const v = viewFor(r.pullId);
    const kind = params.kind ?? 'model';
    v.repo = r.repo;
    v.kind = kind;
    v.file = params.file ?? null;
    track(v);
    return r.pullId;
  }

  async function cancel(pullId: string): Promise<boolean> {
    return (await getClient().call('hub.cancel', { pullId })).cancelled;
  }

  /** Delete a repo from the cache; the lists are read again. Throws the service's refusal (e.g. a pull in progress). */
  async function remove(repo: string, kind: HubRepoKind): Promise<number> {
    const r = await getClient().call('hub.delete', { repo, kind });
    for (const k of Object.keys(latest.value)) if (k === pullKey(kind, repo) || k.startsWith(`${pullKey(kind, repo)}:`)) delete latest.value[k];
    await afterEnd();
    return r.bytes;
  }

  /** The newest pull of a model repo or a dataset file, if any. */
  function pullOf(kind: HubRepoKind, repo: string, file?: string | null): PullView | null {
    const id = latest.value[pullKey(kind, repo, file)];
    return id ? pulls.value[id] ?? null : null;
  }

  return {
    catalogue, catalogueFor, catalogueLoading, catalogueError, cached, cachedError, pulls, latest, elsewhere,
    loadCatalogue, refreshCached, resync, onEvent, pull, cancel, remove, pullOf,
  };
});

// The hub parts of the Model and data view (stores/hub.ts over core/api/contract/hub.ts):
// - useCatalogue: the Qwen2.5 catalogue planned for the chosen profile and the Train settings' memory-relevant fields
//   (FIT_SPEC_KEYS, as "will it fit?" plans them), re-planned when they change (debounced);
// - useHubActions: download (or resume), cancel, use a cached model for training or a cached .jsonl as the dataset,
//   delete from the cache (the view asks first; a deleted choice falls back to the demo model or dataset);
// - useHubForm: the "another model" and "dataset from the hub" fields, checked by the contract's own schema
//   (HubPullParamsSchema: the repo id, the revision, the .jsonl path), with its message per field;
// - the words a pull's progress is shown in (bytes, rate, ETA per file and in total);
// - useFocusFollow: keyboard focus that follows an action whose button is replaced by the next one's.
import { computed, onUpdated, reactive, ref, watch } from 'vue';
import { HubPullParamsSchema, type CachedRepo, type HubRepoKind } from '../../../core/api/contract';
import { FIT_SPEC_KEYS } from '../../../core/api/contract/plan';
import { pickSpec } from '../../../core/api/train';
import { errorText } from '../api';
import { bytes, mb, seconds } from '../lib/format';
import { useAppStore } from '../stores/app';
import { useHubStore, type CatalogueParams, type FileProgress, type PullView } from '../stores/hub';
import { useModelData } from './useModelData';
import { useSelection } from './useSelection';

// ---------------------------------------------------------------------------------------------------------------
// Words

const rateText = (r: number): string => (r > 0 ? `${mb(r)}/s` : '—/s');
const etaText = (s: number | null): string => (s === null ? 'ETA —' : s === 0 ? 'ETA 0 s' : `ETA ${seconds(s)}`);

/** "0.70 MB of 2.92 MB · 3.1 MB/s · ETA 0.7 s" for the whole pull. */
export function totalText(v: PullView): string {
  if (v.status === 'done') return `${bytes(v.totalBytes)} downloaded and verified`;
  if (!v.totalBytes) return 'Asking the hub for the files…';
  const base = `${mb(v.doneBytes)} of ${mb(v.totalBytes)}`;
  return v.status === 'running' ? `${base} · ${rateText(v.rate)} · ${etaText(v.eta)}` : base;
}

/** One file's line: in the cache, waiting, in transfer (bytes, rate, ETA), or verified (the check and digest). */
export function fileText(f: FileProgress): string {
  switch (f.state) {
    case 'cached':
      return `${bytes(f.total)} · already in the cache`;
    case 'waiting':
      return f.bytes ? `${mb(f.bytes)} of ${mb(f.total)} kept · waiting` : `${bytes(f.total)} · waiting`;
    case 'moving':
      return `${mb(f.bytes)} of ${mb(f.total)} · ${rateText(f.rate)} · ${etaText(f.eta)}`;
    case 'verified':
      return `${bytes(f.total)} · ${f.check} ${f.digest?.slice(0, 12) ?? ''}…${f.resumedFrom ? ` · resumed from ${mb(f.resumedFrom)}` : ''}`;
  }
}

/** Where the pull stands, in one sentence (also what a screen reader hears when it changes). */
export function statusText(v: PullView): string {
  switch (v.status) {
    case 'running':
      return v.retry ? `Retrying ${v.retry.path} (attempt ${v.retry.attempt} of ${v.retry.maxAttempts}, in ${seconds(v.retry.delaySeconds)}): ${v.retry.reason}` : `Downloading ${v.repo}${v.file ? ` · ${v.file}` : ''}`;
    case 'done':
      return `${v.repo}${v.file ? ` · ${v.file}` : ''} is in the cache.`;
    case 'cancelled':
      return `Cancelled; ${mb(v.partialBytes ?? 0)} kept. Resume continues from there.`;
    case 'failed':
      return v.error?.message ?? 'The download failed.';
  }
}

export const pullFraction = (v: PullView): number => (v.status === 'done' ? 1 : v.totalBytes ? Math.min(1, v.doneBytes / v.totalBytes) : 0);

/** A file inside a snapshot folder, with the folder's own separator (the service may run on Windows). */
export function inSnapshot(snapshotDir: string, file: string): string {
  const sep = snapshotDir.includes('\\') && !snapshotDir.includes('/') ? '\\' : '/';
  return `${snapshotDir.replace(/[\\/]+$/, '')}${sep}${file.split('/').join(sep)}`;
}

/** The repo's folder in the cache (models--O--N), from one of its snapshots (…/snapshots/COMMIT). */
function repoFolder(snapshotDir: string): string {
  return snapshotDir.replace(/[\\/]+snapshots[\\/]+[^\\/]+[\\/]*$/, '');
}

const under = (p: string | null, dir: string): boolean => !!p && (p === dir || p.startsWith(`${dir}/`) || p.startsWith(`${dir}\\`));

// ---------------------------------------------------------------------------------------------------------------
// The catalogue

export function useCatalogue(debounceMs = 250) {
  const sel = useSelection();
  const hub = useHubStore();

  /** The profile and the memory-relevant settings of the Train form; null while a setting is not valid. */
  const params = computed<CatalogueParams | null>(() => {
    const s = sel.spec.value;
    return s ? { ...pickSpec(s, FIT_SPEC_KEYS), profile: sel.profiles.selectedId } : null;
  });
  /** Why the fit tags are not shown (a setting to fix in Train), else null. */
  const blocked = computed(() => (params.value ? null : `Fix the Train settings to see what fits: ${sel.issues.value[0]?.message ?? 'a setting is not valid'}.`));

  let timer: ReturnType<typeof setTimeout> | null = null;
  watch(
    () => JSON.stringify(params.value),
    () => {
      if (timer) clearTimeout(timer);
      const p = params.value;
      if (p) timer = setTimeout(() => void hub.loadCatalogue(p), debounceMs);
    },
    { immediate: true },
  );

  /** What the shown tags were planned for, in words. */
  const plannedFor = computed(() => {
    const c = hub.catalogue;
    const p = hub.catalogueFor;
    if (!c || !p) return null;
    const name = sel.profiles.entries.find((e) => e.profile.id === c.profileId)?.profile.name ?? c.profileId;
    const targets = Array.isArray(p.targets) ? p.targets.join(', ') : '';
    return `${name} (cap ${mb(c.capBytes)}) · seq ${c.seqLen} · batch ${p.batch} · rank ${p.rank}${targets ? ` on ${targets}` : ''} · ${p.optimizer} · weights ${p.quant}`;
  });

  /** The tags are for other settings than the form's now (a re-plan is on its way). */
  const stale = computed(() => !!params.value && JSON.stringify(params.value) !== JSON.stringify(hub.catalogueFor));

  return { hub, params, blocked, plannedFor, stale };
}

// ---------------------------------------------------------------------------------------------------------------
// Actions

export function useHubActions() {
  const hub = useHubStore();
  const app = useAppStore();
  const md = useModelData();
  /** The last action's error, by what it was about (a row's pullKey-like id). */
  const errors = reactive<Record<string, string>>({});
  const notice = ref<string | null>(null);

  async function act(id: string, f: () => Promise<unknown>): Promise<boolean> {
    delete errors[id];
    try {
      await f();
      return true;
    } catch (e) {
      errors[id] = errorText(e);
      return false;
    }
  }

  const offline = computed(() => hub.cached?.offline ?? hub.catalogue?.offline ?? false);

  /** Download a model (or resume its kept bytes). */
  const download = (repo: string, revision?: string): Promise<boolean> => act(`model:${repo}`, () => hub.pull({ repo, kind: 'model', ...(revision ? { revision } : {}) }));
  const cancel = (v: PullView): Promise<boolean> => act(`${v.kind}:${v.repo}`, () => hub.cancel(v.pullId));

  const isChosenModel = (snapshotDir: string | null): boolean => !!snapshotDir && md.models.dir === snapshotDir;
  const isChosenData = (path: string): boolean => md.datasets.path === path;

  /** Make a downloaded model the training model (model.inspect of its snapshot folder). */
  async function useModel(snapshotDir: string): Promise<boolean> {
    await md.chooseModel(snapshotDir);
    return md.models.dir === snapshotDir;
  }

  /** Make a downloaded .jsonl the dataset. */
  async function useData(path: string): Promise<boolean> {
    await md.chooseDataset(path);
    return md.datasets.path === path;
  }

  const jsonlFiles = (c: CachedRepo): string[] => (c.kind === 'dataset' ? c.files.filter((f) => f.endsWith('.jsonl')) : []);

  /** Delete a repo from the cache (the view has asked); a choice that lived there falls back to the demo's. */
  async function remove(c: CachedRepo): Promise<boolean> {
    const folder = c.snapshotDir ? repoFolder(c.snapshotDir) : null;
    const hadModel = !!folder && under(md.models.dir, folder);
    const hadData = !!folder && under(md.datasets.path, folder);
    let freed = 0;
    const ok = await act(`${c.kind}:${c.repo}`, async () => {
      freed = await hub.remove(c.repo, c.kind);
    });
    if (!ok) return false;
    const demo = app.info?.demo;
    const fell: string[] = [];
    if (hadModel && demo) {
      await md.chooseModel(demo.modelDir);
      fell.push('the demo model is the training model again');
    }
    if (hadData && demo) {
      await md.chooseDataset(demo.dataPath);
      fell.push('the demo dataset is the dataset again');
    }
    notice.value = `Deleted ${c.repo} from the cache (${mb(freed)} freed)${fell.length ? `; ${fell.join(', ')}` : ''}.`;
    return true;
  }

  return { hub, errors, notice, offline, download, cancel, useModel, useData, remove, isChosenModel, isChosenData, jsonlFiles };
}

// ---------------------------------------------------------------------------------------------------------------
// The hub id fields

export type HubField = 'repo' | 'revision' | 'file';

export function useHubForm(kind: HubRepoKind) {
  const hub = useHubStore();
  const fields = reactive({ repo: '', revision: '', file: '' });
  /** Messages show for a field once it was typed in, and for all on a submit. */
  const touched = reactive({ repo: false, revision: false, file: false, submit: false });
  const submitError = ref<string | null>(null);
  const busy = ref(false);
  /** The pull this form started last (its progress shows under the form). */
  const pullId = ref<string | null>(null);

  const raw = computed(() => ({
    repo: fields.repo.trim(), kind, ...(fields.revision.trim() ? { revision: fields.revision.trim() } : {}), ...(kind === 'dataset' ? { file: fields.file.trim() } : {}),
  }));
  const parsed = computed(() => HubPullParamsSchema.safeParse(raw.value));
  const issues = computed<Partial<Record<HubField, string>>>(() => {
    const out: Partial<Record<HubField, string>> = {};
    if (parsed.value.success) return out;
    for (const i of parsed.value.error.issues) {
      const f = String(i.path[0] ?? 'repo') as HubField;
      out[f] ??= i.message;
    }
    return out;
  });
  const errorOf = (f: HubField): string | null => ((touched[f] || touched.submit) && issues.value[f]) || null;
  const valid = computed(() => parsed.value.success);

  const touch = (f: HubField): void => {
    touched[f] = true;
  };

  async function submit(): Promise<boolean> {
    touched.submit = true;
    submitError.value = null;
    if (!parsed.value.success) return false;
    busy.value = true;
    try {
      pullId.value = await hub.pull(parsed.value.data);
      return true;
    } catch (e) {
      submitError.value = errorText(e);
      return false;
    } finally {
      busy.value = false;
    }
  }

  const pull = computed<PullView | null>(() => (pullId.value ? hub.pulls[pullId.value] ?? null : null));
  return { fields, touch, errorOf, valid, submit, submitError, busy, pull };
}

// ---------------------------------------------------------------------------------------------------------------
// Focus

/**
 * An action replaces its own button (Download → Cancel → Resume → Use → the "in use" mark): when the focused button
 * goes, focus moves to the first focusable thing in the same place (`scopeOf(key)`, a selector inside `root`), so a
 * keyboard user stays where they were. Focus taken anywhere else ends that. Call in a component's setup; bind `root`
 * with ref="root" and `onFocusIn` to its focusin.
 */
export function useFocusFollow(scopeOf: (key: string) => string) {
  const root = ref<HTMLElement | null>(null);
  let acted: string | null = null;
  const act = (key: string): void => {
    acted = key;
  };
  function onFocusIn(e: FocusEvent): void {
    const scope = acted ? root.value?.querySelector(scopeOf(acted)) : null;
    if (!scope?.contains(e.target as Node)) acted = null;
  }
  onUpdated(() => {
    if (!acted || !root.value || (document.activeElement && document.activeElement !== document.body)) return;
    root.value.querySelector<HTMLElement>(`${scopeOf(acted)} :is(button:not(:disabled), [tabindex])`)?.focus();
  });
  return { root, act, onFocusIn };
}

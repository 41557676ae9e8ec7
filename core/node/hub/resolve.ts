// From a --model or --data value to a path on disk, in one place for every command and service call (resolveInputs,
// at the start of each job: eval, train, grads, the comparison's cosine, export, import-adapter): a local path that exists is used as it is; a hub model id
// (OWNER/NAME[@REV]) or dataset file (hf://datasets/OWNER/NAME[@REV]/PATH.jsonl) is taken from the HF cache when the
// revision's snapshot there is complete, and pulled on first use otherwise (pull.ts). With HF_HUB_OFFLINE=1 only the
// cache is read, and a miss says which file is missing. A pull started here reports to the listener the caller gives,
// else to the process's default one (the CLI draws its progress bar there).
import { existsSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import type { PullEvent } from '../../api/contract';
import { hubIdOfDir, missingModelFiles, readRef, repoDir, repoFolderName, snapshotPath } from './cache';
import { HubError, PullCancelled } from './http';
import { pullDatasetFile, pullModel, type PullHooks } from './pull';
import { isCommitHash, parseDataRef, parseModelRef, refText, type RepoRef } from './refs';
import { hubSettings, type HubOverrides, type HubSettings } from './settings';

let defaultListener: ((e: PullEvent) => void) | undefined;

/** Where pulls started by resolving an id report when the caller gives no listener (the CLI's progress bar). */
export function setDefaultPullListener(listener: ((e: PullEvent) => void) | undefined): void {
  defaultListener = listener;
}

export interface ResolveOptions extends Omit<PullHooks, 'onEvent'> {
  hub?: HubOverrides;
  onEvent?: (e: PullEvent) => void;
}

export interface CacheHit {
  commit: string | null;
  snapshotDir: string | null;
  /** The files a complete snapshot still lacks ([] when complete). */
  missing: string[];
}

/** What the cache holds of a model or dataset reference (no network). */
export function lookupCache(s: HubSettings, r: RepoRef): CacheHit {
  const dir = repoDir(s.cacheDir, r.kind, r.repo);
  const commit = isCommitHash(r.revision) ? r.revision : readRef(dir, r.revision);
  if (!commit) return { commit: null, snapshotDir: null, missing: [r.kind === 'model' ? 'config.json' : r.file ?? ''] };
  const snap = snapshotPath(dir, commit);
  if (!existsSync(snap)) return { commit, snapshotDir: null, missing: [r.kind === 'model' ? 'config.json' : r.file ?? ''] };
  const missing = r.kind === 'model' ? missingModelFiles(snap) : existsSync(join(snap, ...(r.file ?? '').split('/'))) ? [] : [r.file ?? ''];
  return { commit, snapshotDir: snap, missing };
}

function offlineMiss(s: HubSettings, r: RepoRef, hit: CacheHit): HubError {
  const field = r.kind === 'dataset' ? 'data' : 'model';
  const pull = `mesp pull ${refText(r)}`;
  if (!hit.commit) {
    return new HubError('offline-missing', `HF_HUB_OFFLINE=1: ${refText(r)} is not in the cache ${s.cacheDir} ` +
      `(no ${repoFolderName(r.kind, r.repo)}/refs/${r.revision}). Pull it with the network on (${pull}), or give a local ${r.kind === 'model' ? 'folder' : 'file'}.`, field);
  }
  const files = hit.missing.join(', ');
  return new HubError('offline-missing', `HF_HUB_OFFLINE=1: ${refText(r)} (commit ${hit.commit.slice(0, 7)}) is in the cache ${s.cacheDir}, but ` +
    `${files} ${hit.missing.length === 1 ? 'is' : 'are'} missing from ${hit.snapshotDir ?? `its snapshot ${hit.commit}`}. Pull it again with the network on (${pull}), or unset HF_HUB_OFFLINE.`, field);
}

/** A pull that ended because its signal was aborted is a PullCancelled, whatever the transfer threw as it stopped. */
function cancelledAs(e: unknown, r: RepoRef, o: ResolveOptions): unknown {
  return o.signal?.aborted && !(e instanceof PullCancelled) ? new PullCancelled(refText(r)) : e;
}

function noLocalPathEither(e: unknown, ref: string): unknown {
  if (e instanceof HubError && e.reason === 'repo-not-found') {
    return new HubError('repo-not-found', `${e.message} There is no local folder ${resolve(ref)} either.`, e.field);
  }
  return e;
}

/**
 * Whether a --model (kind 'model') or --data value names the hub rather than a path: it parses as an id and no local
 * path is spelled so (the service passes such values through its path policy unresolved; resolveInputs fetches them).
 */
export function isHubRef(value: string, kind: 'model' | 'dataset'): boolean {
  if (existsSync(value)) return false;
  return (kind === 'model' ? parseModelRef(value) : parseDataRef(value)) !== null;
}

/** The name a --model value shows before it is opened: OWNER/NAME for a hub id or a cache snapshot, else the folder's name. */
export function modelRefName(value: string): string {
  if (isHubRef(value, 'model')) return parseModelRef(value)!.repo;
  return hubIdOfDir(resolve(value)) ?? basename(resolve(value));
}

/** A --model value: a local folder as it is, else a hub id from the cache or pulled now. */
export async function resolveModelRef(ref: string, o: ResolveOptions = {}): Promise<string> {
  if (existsSync(ref)) return ref; // a local path always wins
  const r = parseModelRef(ref);
  if (!r) return ref; // not an id: opening it says that the folder does not exist
  const s = hubSettings(o.hub);
  const hit = lookupCache(s, r);
  if (hit.snapshotDir && !hit.missing.length) return hit.snapshotDir;
  if (s.offline) throw offlineMiss(s, r, hit);
  try {
    return (await pullModel(r.repo, r.revision, s, { ...o, onEvent: o.onEvent ?? defaultListener })).path;
  } catch (e) {
    throw noLocalPathEither(cancelledAs(e, r, o), ref);
  }
}

/** A --data value: a local file as it is, else a hub dataset's jsonl file from the cache or pulled now. */
export async function resolveDataRef(ref: string, o: ResolveOptions = {}): Promise<string> {
  if (existsSync(ref)) return ref;
  const r = parseDataRef(ref);
  if (!r) return ref;
  const s = hubSettings(o.hub);
  const hit = lookupCache(s, r);
  if (hit.snapshotDir && !hit.missing.length) return join(hit.snapshotDir, ...r.file!.split('/'));
  if (s.offline) throw offlineMiss(s, r, hit);
  try {
    return (await pullDatasetFile(r.repo, r.revision, r.file!, s, { ...o, onEvent: o.onEvent ?? defaultListener })).path;
  } catch (e) {
    throw cancelledAs(e, r, o);
  }
}

/**
 * The one place a job's references become paths: `modelDir` may be a folder or a hub id (OWNER/NAME[@REV]),
 * `dataPath` and `valPath` a file or hf://datasets/OWNER/NAME[@REV]/PATH.jsonl. A local path that exists always wins.
 */
export async function resolveInputs<T extends { modelDir?: string; dataPath?: string; valPath?: string }>(
  req: T, env: { hub?: HubOverrides; signal?: AbortSignal } = {},
): Promise<T> {
  const o: ResolveOptions = { hub: env.hub, signal: env.signal };
  const out = { ...req };
  if (req.modelDir !== undefined) out.modelDir = await resolveModelRef(req.modelDir, o);
  if (req.dataPath !== undefined) out.dataPath = await resolveDataRef(req.dataPath, o);
  if (req.valPath !== undefined) out.valPath = await resolveDataRef(req.valPath, o);
  return out;
}

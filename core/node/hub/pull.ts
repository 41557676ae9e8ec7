// `mesp pull` and the app's Download: a model (or one jsonl file of a dataset) from the hub into the standard HF
// cache (cache.ts), with the official client (@huggingface/hub) for the hub's API — modelInfo/datasetInfo for the
// commit a revision points at, listFiles/pathsInfo for the files with their sizes and sha256, fileDownloadInfo for
// where the bytes are — and transfer.ts for the bytes (resume, retries, sha256).
// Only what training needs is fetched: config.json, generation_config.json, tokenizer.json, tokenizer_config.json,
// chat_template.jinja (where a repo keeps its template there; loaders.ts reads it) and the safetensors weights
// (model.safetensors, or model.safetensors.index.json and the shards it names). Pickled *.bin weights are never
// fetched. config.json (and the index) come first: a model that is not Qwen2 is refused before any weights move.
// Then free disk space is checked, the files are transferred one at a time, and only when every file is there and
// verified are they linked into snapshots/COMMIT and refs/REVISION written: a pull that fails or is cancelled
// leaves no half snapshot, and its bytes stay in blobs/ for the next pull to resume.
import { datasetInfo, fileDownloadInfo, listFiles, modelInfo, pathsInfo, type RepoDesignation } from '@huggingface/hub';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, rmSync, statfsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { HubRepoIdSchema, HubRevisionSchema, type HubRepoKind, type PullEvent } from '../../api/contract';
import { ConfigError, MespError } from '../../common/errors';
import { parseQwen2Config } from '../../model/config';
import { blobPath, linkSnapshotFile, repoDir, snapshotPath, writeRef } from './cache';
import { explain, gatedError, hubFetch, HubError, PullCancelled, type ExplainContext, type HubFetch } from './http';
import { isCommitHash } from './refs';
import type { HubSettings } from './settings';
import { transferFile, type FileCheck } from './transfer';

/** The files of a model repo that training reads (besides the weights). */
export const MODEL_FILES = ['config.json', 'generation_config.json', 'tokenizer.json', 'tokenizer_config.json', 'chat_template.jinja'] as const;
export const WEIGHTS_FILE = 'model.safetensors';
export const WEIGHTS_INDEX = 'model.safetensors.index.json';
const PICKLED = /\.(bin|pt|pth|ckpt|pkl)$/;

export interface PullHooks {
  onEvent?: (e: PullEvent) => void;
  signal?: AbortSignal;
  /** Free bytes where the cache is (fs.statfs by default; tests stand in a full disk). */
  freeBytes?: (dir: string) => number;
}

export interface PullResult {
  kind: HubRepoKind;
  repo: string;
  revision: string;
  commit: string;
  snapshotDir: string;
  /** What to train on: the snapshot folder (a model) or the file in it (a dataset). */
  path: string;
  files: { path: string; bytes: number }[];
}

/** A file of the repo as the hub lists it. */
interface RepoFile {
  path: string;
  size: number;
  oid?: string;
  lfs?: { oid: string; size: number };
}

interface Planned {
  path: string;
  bytes: number;
  etag: string;
  check: FileCheck;
}

const ETAG = /^[0-9a-f]{40}(?:[0-9a-f]{24})?$/; // a git blob id (sha1) or a sha256: it names a file in blobs/

function plan(f: RepoFile): Planned {
  const id = f.lfs?.oid ?? f.oid ?? '';
  if (!ETAG.test(id)) throw new MespError('HUB_BAD_ANSWER', `the hub listed ${f.path} with the id ${JSON.stringify(id).slice(0, 80)}, not a sha256 or git blob id; cannot verify it.`);
  if (f.lfs) return { path: f.path, bytes: f.lfs.size, etag: id, check: { kind: 'sha256', digest: id } };
  return { path: f.path, bytes: f.size, etag: id, check: { kind: 'git-sha1', digest: id } };
}

function freeBytesAt(dir: string): number {
  let d = dir;
  while (!existsSync(d) && dirname(d) !== d) d = dirname(d);
  const st = statfsSync(d);
  return Number(st.bavail) * Number(st.bsize);
}

const mb = (n: number): string => `${(n / 1e6).toFixed(1)} MB`;

/** One pull's shared state: settings, the client's fetch, the repo folder, events. */
class Pull {
  readonly hf: HubFetch;
  readonly dir: string;
  readonly designation: RepoDesignation;
  current = '';
  commit = '';
  private readonly created: string[] = [];

  constructor(readonly s: HubSettings, readonly kind: HubRepoKind, readonly repo: string, readonly revision: string, readonly hooks: PullHooks) {
    const field = kind === 'dataset' ? 'data' : 'model';
    if (!HubRepoIdSchema.safeParse(repo).success) throw new ConfigError(`"${repo}" is not a hub id: give OWNER/NAME, e.g. Qwen/Qwen2.5-0.5B-Instruct.`, { field });
    if (!HubRevisionSchema.safeParse(revision).success) throw new ConfigError(`"${revision}" is not a revision: give a branch, tag or commit (e.g. main).`, { field: 'revision' });
    if (s.offline) {
      throw new ConfigError(`HF_HUB_OFFLINE is set: pulling ${repo} needs the network. Unset HF_HUB_OFFLINE, or use a model that is already in the cache (mesp models).`, { field });
    }
    this.hf = hubFetch(s, hooks.signal, (attempt, delayMs, reason) => this.emit({
      type: 'retry', path: this.current, attempt, maxAttempts: s.retry.attempts, delaySeconds: delayMs / 1000, reason,
    }));
    this.dir = repoDir(s.cacheDir, kind, repo);
    this.designation = { type: kind, name: repo };
  }

  emit(e: PullEvent): void {
    this.hooks.onEvent?.(e);
  }

  ctx(doing: string, file?: string): ExplainContext {
    return { kind: this.kind, repo: this.repo, revision: this.revision, file, doing };
  }

  client(): { hubUrl: string; accessToken: string | undefined; fetch: typeof fetch } {
    return { hubUrl: this.s.endpoint, accessToken: this.s.token, fetch: this.hf.fetch };
  }

  async call<T>(doing: string, f: () => Promise<T>, file?: string): Promise<T> {
    try {
      return await f();
    } catch (e) {
      if (this.hooks.signal?.aborted) throw new PullCancelled(this.repo);
      throw explain(e, this.s, this.hf.notes, this.ctx(doing, file));
    }
  }

  /** The commit the revision points at now (and whether the repo is gated). */
  async resolveCommit(): Promise<void> {
    const common = { ...this.client(), name: this.repo, revision: this.revision, additionalFields: ['sha' as const] };
    const info = await this.call('reading the repo', async () => {
      const i = this.kind === 'model' ? await modelInfo(common) : await datasetInfo(common);
      return { sha: (i as { sha?: unknown }).sha, gated: i.gated };
    });
    if (typeof info.sha !== 'string' || !isCommitHash(info.sha)) {
      throw new MespError('HUB_BAD_ANSWER', `${this.s.endpoint} did not say which commit ${this.repo}@${this.revision} is (no "sha"); is HF_ENDPOINT a hub?`);
    }
    this.commit = info.sha;
    // The hub shows a gated repo's info to anyone; its files only with a token of an account that was granted access.
    if (info.gated && !this.s.token) throw gatedError(this.s, this.kind, this.repo);
  }

  label(path: string): string {
    return `${this.repo}@${this.commit.slice(0, 7)}/${path}`;
  }

  state(p: Planned): { state: 'cached' | 'partial' | 'download'; haveBytes: number } {
    const blob = blobPath(this.dir, p.etag);
    if (existsSync(blob)) return { state: 'cached', haveBytes: p.bytes };
    const inc = `${blob}.incomplete`;
    const have = existsSync(inc) ? Math.min(statSync(inc).size, p.bytes) : 0;
    return have > 0 ? { state: 'partial', haveBytes: have } : { state: 'download', haveBytes: 0 };
  }

  /** Transfer the files whose blobs are missing, reporting progress; `quiet` for the small metadata files fetched first. */
  async fetch(files: Planned[], quiet = false): Promise<void> {
    mkdirSync(join(this.dir, 'blobs'), { recursive: true });
    const states = files.map((f) => ({ f, ...this.state(f) }));
    const totalBytes = files.reduce((s, f) => s + f.bytes, 0);
    let done = states.reduce((s, x) => s + x.haveBytes, 0);
    if (!quiet) {
      this.emit({
        type: 'plan', repo: this.repo, kind: this.kind, revision: this.revision, commit: this.commit, cacheDir: this.s.cacheDir,
        files: states.map((x) => ({ path: x.f.path, bytes: x.f.bytes, sha256: x.f.check.kind === 'sha256' ? x.f.check.digest : null, state: x.state, haveBytes: x.haveBytes })),
        totalBytes, haveBytes: done, downloadBytes: totalBytes - done,
      });
      const need = totalBytes - done;
      const free = (this.hooks.freeBytes ?? freeBytesAt)(this.dir);
      if (need > free) {
        throw new MespError('DISK_SPACE', `not enough free space for ${this.repo} in ${this.s.cacheDir}: the download needs ${mb(need)} more and ${mb(free)} are free. ` +
          'Free some space, or pull into another folder with --cache-dir DIR (or HF_HUB_CACHE).');
      }
    }
    const t0 = performance.now();
    let moved = 0;
    for (const x of states) {
      if (x.state === 'cached') continue;
      this.current = x.f.path;
      const fileT0 = performance.now();
      let fileMoved = 0;
      let fileHave = x.haveBytes;
      let last = 0;
      const report = (force: boolean): void => {
        const now = performance.now();
        if (quiet || (!force && now - last < 200)) return;
        last = now;
        const rate = moved / Math.max(1e-3, (now - t0) / 1000);
        const fileRate = fileMoved / Math.max(1e-3, (now - fileT0) / 1000);
        this.emit({
          type: 'progress', path: x.f.path, fileBytes: fileHave, fileTotal: x.f.bytes, fileRate,
          fileEtaSeconds: fileRate > 0 ? (x.f.bytes - fileHave) / fileRate : null,
          doneBytes: done, totalBytes, rate, etaSeconds: rate > 0 ? (totalBytes - done) / rate : null,
        });
      };
      const blob = blobPath(this.dir, x.f.etag);
      if (existsSync(blob)) {
        done += x.f.bytes - x.haveBytes; // the same bytes as a file fetched before (two files, one blob)
        continue;
      }
      if (!existsSync(`${blob}.incomplete`)) this.created.push(blob);
      const r = await transferFile({
        url: async () => {
          const info = await this.call('finding the download', () => fileDownloadInfo({ ...this.client(), repo: this.designation, path: x.f.path, revision: this.commit }), x.f.path);
          if (!info) throw new HubError('entry-not-found', `${this.kind} ${this.repo} has no file ${x.f.path} at commit ${this.commit}, though the hub listed it. Pull again.`);
          return info.url;
        },
        size: x.f.bytes, blob, check: x.f.check, label: this.label(x.f.path),
      }, this.s, {
        signal: this.hooks.signal,
        onBytes: (n) => {
          moved += n;
          fileMoved += n;
          fileHave += n;
          done += n;
          report(false);
        },
        onRestart: (n) => {
          fileHave -= n;
          done -= n;
        },
        onRetry: (attempt, delayMs, reason) => this.emit({
          type: 'retry', path: x.f.path, attempt, maxAttempts: this.s.retry.attempts, delaySeconds: delayMs / 1000, reason,
        }),
      });
      report(true);
      if (!quiet) this.emit({ type: 'file', path: x.f.path, bytes: x.f.bytes, check: x.f.check.kind, digest: r.digest, resumedFrom: r.resumedFrom });
    }
    this.current = '';
  }

  /** The files are all there and verified: link them into snapshots/COMMIT and point the revision at it. */
  finish(files: Planned[], path: string): PullResult {
    for (const f of files) linkSnapshotFile(this.dir, this.commit, f.path, f.etag);
    if (this.revision !== this.commit) writeRef(this.dir, this.revision, this.commit);
    const snapshotDir = snapshotPath(this.dir, this.commit);
    const full = path ? join(snapshotDir, path) : snapshotDir;
    this.emit({ type: 'done', repo: this.repo, kind: this.kind, commit: this.commit, snapshotDir, path: full });
    return { kind: this.kind, repo: this.repo, revision: this.revision, commit: this.commit, snapshotDir, path: full, files: files.map((f) => ({ path: f.path, bytes: f.bytes })) };
  }

  /** A refused repo leaves nothing behind: the blobs this pull created go, and the repo folder if it is then empty. */
  discard(): void {
    for (const b of this.created) rmSync(b, { force: true });
    for (const d of [join(this.dir, 'blobs'), this.dir]) {
      try {
        if (existsSync(d) && readdirSync(d).length === 0) rmdirSync(d);
      } catch {
        // not empty after all: keep it
      }
    }
  }

  blobText(p: Planned): string {
    return readFileSync(blobPath(this.dir, p.etag), 'utf8');
  }
}

/** Pull a Qwen2 model: the training files at `revision`, verified, linked into the cache's snapshot. */
export async function pullModel(repo: string, revision: string, s: HubSettings, hooks: PullHooks = {}): Promise<PullResult> {
  const p = new Pull(s, 'model', repo, revision, hooks);
  await p.resolveCommit();
  const listed = await p.call('listing the files', async () => {
    const out: RepoFile[] = [];
    for await (const e of listFiles({ ...p.client(), repo: p.designation, revision: p.commit })) {
      if (e.type === 'file') out.push({ path: e.path, size: e.size, oid: e.oid, lfs: e.lfs });
    }
    return out;
  });
  const byPath = new Map(listed.map((f) => [f.path, f]));
  const where = `${s.endpoint}/${repo}/tree/${revision}`;
  if (!byPath.has('config.json')) {
    throw new HubError('unsupported', `${repo} has no config.json at ${revision}: it is not a transformers model repo (see ${where}).`);
  }
  const single = byPath.get(WEIGHTS_FILE);
  const index = single ? undefined : byPath.get(WEIGHTS_INDEX);
  if (!single && !index) {
    const pickled = listed.filter((f) => PICKLED.test(f.path)).map((f) => f.path);
    throw new HubError('unsupported', pickled.length
      ? `${repo} has only pickled weights (${pickled.slice(0, 3).join(', ')}); MeSP Studio never downloads or loads them. Use a repo with safetensors weights, or convert this one with transformers' save_pretrained(safe_serialization=True).`
      : `${repo} has no ${WEIGHTS_FILE} and no ${WEIGHTS_INDEX} at ${revision} (see ${where}).`);
  }

  // config.json (and the shard index) first: refuse what is not Qwen2 before any weights are downloaded.
  const meta = [plan(byPath.get('config.json')!), ...(index ? [plan(index)] : [])];
  await p.fetch(meta, true);
  let shards: string[] = [];
  try {
    const text = p.blobText(meta[0]);
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (e) {
      throw new HubError('unsupported', `${repo}/config.json is not valid JSON (${(e as Error).message}).`);
    }
    const c = (typeof json === 'object' && json !== null ? json : {}) as { model_type?: unknown; architectures?: unknown };
    if (c.model_type !== 'qwen2') {
      const arch = Array.isArray(c.architectures) && typeof c.architectures[0] === 'string' ? ` (${c.architectures[0]})` : '';
      throw new HubError('unsupported', `${repo} is a ${JSON.stringify(c.model_type ?? 'unknown')} model${arch} by its config.json, not Qwen2: ` +
        'MeSP Studio trains Qwen2 and Qwen2.5 models only. Only config.json was read; no weights were downloaded.');
    }
    try {
      parseQwen2Config(json, `${repo}/config.json`);
    } catch (e) {
      throw new HubError('unsupported', `${e instanceof Error ? e.message : String(e)} No weights were downloaded.`);
    }
    if (index) {
      let wm: unknown;
      try {
        wm = (JSON.parse(p.blobText(meta[1])) as { weight_map?: unknown }).weight_map;
      } catch {
        wm = undefined;
      }
      if (typeof wm !== 'object' || wm === null) throw new HubError('unsupported', `${repo}/${WEIGHTS_INDEX} has no "weight_map" object.`);
      shards = [...new Set(Object.values(wm as Record<string, unknown>))].map(String).sort();
      const bad = shards.find((f) => f.includes('/') || !f.endsWith('.safetensors') || !byPath.has(f));
      if (bad !== undefined) throw new HubError('unsupported', `${repo}/${WEIGHTS_INDEX} names shard "${bad}", which is not a .safetensors file of the repo.`);
    }
  } catch (e) {
    p.discard();
    throw e;
  }

  const files = [
    ...MODEL_FILES.filter((f) => byPath.has(f)).map((f) => plan(byPath.get(f)!)),
    ...(index ? [plan(index), ...shards.map((f) => plan(byPath.get(f)!))] : [plan(single!)]),
  ];
  await p.fetch(files);
  return p.finish(files, '');
}

/** Pull one jsonl file of a dataset repo into the cache. */
export async function pullDatasetFile(repo: string, revision: string, file: string, s: HubSettings, hooks: PullHooks = {}): Promise<PullResult> {
  const p = new Pull(s, 'dataset', repo, revision, hooks);
  await p.resolveCommit();
  const infos = await p.call('reading the file list', () => pathsInfo({ ...p.client(), repo: p.designation, paths: [file], revision: p.commit }), file);
  const entry = infos.find((i) => i.path === file && i.type === 'file');
  if (!entry) {
    throw new HubError('entry-not-found', `dataset ${repo} has no file ${file} at ${revision}. See its files on ${s.endpoint}/datasets/${repo}/tree/${revision}.`, 'data');
  }
  const files = [plan({ path: entry.path, size: entry.size, oid: entry.oid, lfs: entry.lfs })];
  await p.fetch(files);
  return p.finish(files, file);
}

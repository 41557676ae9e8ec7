// The standard Hugging Face cache layout (huggingface_hub's file_download.py and the hub client's
// cache-management.ts), read and written the same way so a model pulled here is found by other HF tools and the other
// way round:
//   CACHE/models--OWNER--NAME/blobs/ETAG          the file's bytes; ETAG = sha256 for LFS files, the git blob id else
//   CACHE/models--OWNER--NAME/blobs/ETAG.incomplete   an interrupted download (resumed with an HTTP Range request)
//   CACHE/models--OWNER--NAME/snapshots/COMMIT/PATH   a relative symlink to ../../blobs/ETAG
//   CACHE/models--OWNER--NAME/refs/REVISION       the commit the branch or tag pointed at (no newline)
// Datasets are the same under datasets--OWNER--NAME. Symlinks are made beside their place and renamed over it, and a
// ref is written atomically, so a killed process leaves the old state or the new one.
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, renameSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import type { CachedRepo, HubRepoKind } from '../../api/contract';
import { writeFileAtomic } from '../atomic';

export const REPO_FOLDER = /^(models|datasets)--([^-][^/]*?)--([^/]+)$/;

export function repoFolderName(kind: HubRepoKind, repo: string): string {
  return [`${kind}s`, ...repo.split('/')].join('--');
}

export function repoDir(cacheDir: string, kind: HubRepoKind, repo: string): string {
  return join(cacheDir, repoFolderName(kind, repo));
}

export function blobPath(dir: string, etag: string): string {
  return join(dir, 'blobs', etag);
}

export function snapshotPath(dir: string, commit: string): string {
  return join(dir, 'snapshots', commit);
}

/** The commit refs/REVISION holds, or null. */
export function readRef(dir: string, revision: string): string | null {
  const f = join(dir, 'refs', ...revision.split('/'));
  if (!existsSync(f) || !statSync(f).isFile()) return null;
  const commit = readFileSync(f, 'utf8').trim();
  return /^[0-9a-f]{40}$/.test(commit) ? commit : null;
}

export function writeRef(dir: string, revision: string, commit: string): void {
  const f = join(dir, 'refs', ...revision.split('/'));
  mkdirSync(dirname(f), { recursive: true });
  writeFileAtomic(f, commit);
}

/** snapshots/COMMIT/PATH → the blob, as a relative link (the cache can be moved). */
export function linkSnapshotFile(dir: string, commit: string, relPath: string, etag: string): string {
  const link = join(snapshotPath(dir, commit), ...relPath.split('/'));
  mkdirSync(dirname(link), { recursive: true });
  const tmp = join(dirname(link), `.${basename(link)}.${process.pid}.link`);
  rmSync(tmp, { force: true });
  symlinkSync(relative(dirname(link), blobPath(dir, etag)), tmp);
  renameSync(tmp, link);
  return link;
}

/** "OWNER/NAME" when `dir` is (inside) a snapshot of a model in an HF cache, else null. */
export function hubIdOfDir(dir: string): string | null {
  const parts = dir.split(sep);
  const at = parts.lastIndexOf('snapshots');
  if (at < 1) return null;
  const m = REPO_FOLDER.exec(parts[at - 1]);
  return m && m[1] === 'models' ? `${m[2]}/${m[3]}` : null;
}

/** Files (relative, `/`-separated) under a snapshot, symlinks included. */
function walk(dir: string, prefix = ''): string[] {
  const out: string[] = [];
  for (const d of readdirSync(dir, { withFileTypes: true })) {
    if (d.name.startsWith('.')) continue;
    const rel = prefix ? `${prefix}/${d.name}` : d.name;
    if (d.isDirectory()) out.push(...walk(join(dir, d.name), rel));
    else out.push(rel);
  }
  return out.sort();
}

/** What a model snapshot lacks to be opened: config.json and the weights (model.safetensors, or the index and its shards). */
export function missingModelFiles(snapshot: string): string[] {
  const missing: string[] = [];
  const has = (f: string): boolean => existsSync(join(snapshot, f)); // follows the link: a link to a deleted blob is missing
  if (!has('config.json')) missing.push('config.json');
  if (has('model.safetensors')) return missing;
  if (!has('model.safetensors.index.json')) return [...missing, 'model.safetensors'];
  try {
    const idx = JSON.parse(readFileSync(join(snapshot, 'model.safetensors.index.json'), 'utf8')) as { weight_map?: Record<string, unknown> };
    const shards = [...new Set(Object.values(idx.weight_map ?? {}).filter((v): v is string => typeof v === 'string'))].sort();
    if (!shards.length) return [...missing, 'model.safetensors.index.json (it names no shards)'];
    return [...missing, ...shards.filter((s) => !has(s))];
  } catch {
    return [...missing, 'model.safetensors.index.json (not valid JSON)'];
  }
}

function sizeOf(p: string): number {
  try {
    return statSync(p).size;
  } catch {
    return 0;
  }
}

/** Every refs/ file: name → commit. */
function readRefs(dir: string): Map<string, string[]> {
  const byCommit = new Map<string, string[]>();
  const root = join(dir, 'refs');
  if (!existsSync(root)) return byCommit;
  for (const name of walk(root)) {
    const commit = readRef(dir, name);
    if (commit) byCommit.set(commit, [...(byCommit.get(commit) ?? []), name]);
  }
  return byCommit;
}

/** The repos in a cache folder: one entry per snapshot, or one for a repo with only an interrupted download. */
export function listCached(cacheDir: string): CachedRepo[] {
  if (!existsSync(cacheDir)) return [];
  const out: CachedRepo[] = [];
  for (const name of readdirSync(cacheDir).sort()) {
    const m = REPO_FOLDER.exec(name);
    const dir = join(cacheDir, name);
    if (!m || !statSync(dir).isDirectory()) continue;
    const kind: HubRepoKind = m[1] === 'models' ? 'model' : 'dataset';
    const repo = `${m[2]}/${m[3]}`;
    const blobs = join(dir, 'blobs');
    const partialBytes = existsSync(blobs)
      ? readdirSync(blobs).filter((b) => b.endsWith('.incomplete')).reduce((s, b) => s + sizeOf(join(blobs, b)), 0)
      : 0;
    const refs = readRefs(dir);
    const snaps = existsSync(join(dir, 'snapshots')) ? readdirSync(join(dir, 'snapshots')).filter((c) => statSync(join(dir, 'snapshots', c)).isDirectory()) : [];
    if (!snaps.length) {
      if (partialBytes > 0) {
        out.push({
          repo, kind, commit: null, refs: [], snapshotDir: null, bytes: 0, partialBytes, complete: false,
          missing: kind === 'model' ? ['config.json', 'model.safetensors'] : [], files: [], modifiedAt: statSync(dir).mtime.toISOString(),
        });
      }
      continue;
    }
    for (const commit of snaps.sort()) {
      const snap = snapshotPath(dir, commit);
      const files = walk(snap);
      const targets = new Set<string>();
      const broken: string[] = [];
      for (const f of files) {
        const p = join(snap, ...f.split('/'));
        if (!existsSync(p)) broken.push(f);
        else targets.add(lstatSync(p).isSymbolicLink() ? resolve(dirname(p), readlinkSync(p)) : p); // two snapshots may share a blob
      }
      const missing = kind === 'model' ? missingModelFiles(snap) : broken;
      out.push({
        repo, kind, commit, refs: refs.get(commit) ?? [], snapshotDir: snap,
        bytes: [...targets].reduce((s, t) => s + sizeOf(t), 0), partialBytes, complete: missing.length === 0 && files.length > 0,
        missing, files, modifiedAt: statSync(snap).mtime.toISOString(),
      });
    }
  }
  return out;
}

/** Remove a repo from the cache (all its snapshots, blobs and refs); the bytes freed. */
export function deleteCached(cacheDir: string, kind: HubRepoKind, repo: string): number {
  const dir = repoDir(cacheDir, kind, repo);
  if (!existsSync(dir)) return 0;
  const blobs = join(dir, 'blobs');
  const bytes = existsSync(blobs) ? readdirSync(blobs).reduce((s, b) => s + sizeOf(join(blobs, b)), 0) : 0;
  rmSync(dir, { recursive: true, force: true });
  return bytes;
}

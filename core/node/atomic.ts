// Atomic writing on disk, one module for every writer of the app. Two forms:
// - AtomicWriter / writeAllOrNothing: all-or-nothing writing of a set of files into a folder (the export bundle, an
//   imported adapter). Each file is first written to a hidden temporary file next to its destination (same file
//   system, so rename is atomic), synced, and hashed on the way; nothing is renamed until every file is complete.
//   Commit then moves existing files aside (only with `overwrite`), renames the temporaries into place and drops the
//   old copies; a failure at any point restores the old files and removes every temporary and every folder this
//   writer created. Existing files are never replaced without `overwrite`: the caller is told which ones are in the
//   way before anything is written.
// - writeFileAtomic / writeFolderAtomic: one file or one whole folder replaced in place (the run store's config and
//   checkpoints, comparison.json, settings.json): a sibling temporary, then rename over the target (a folder is
//   swapped in, the old one removed), so a process killed at any moment leaves the old or the new, never half.
import { createHash } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, lstatSync, mkdirSync, openSync, renameSync, rmdirSync, rmSync, statSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { ConfigError } from '../common/errors';

export interface StagedFile {
  relPath: string;
  path: string;
  bytes: number;
  sha256: string;
}

/** A producer writes a file's bytes in order through `sink` (for files too large to hold in memory at once). */
export type Producer = (sink: (chunk: Uint8Array) => void) => void;

function reason(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  if (err?.code === 'EACCES' || err?.code === 'EPERM') return 'permission denied';
  if (err?.code === 'ENOTDIR') return 'a part of the path is a file, not a folder';
  if (err?.code === 'ENOSPC') return 'the disk is full';
  if (err?.code === 'EROFS') return 'the file system is read-only';
  return err?.message ?? String(e);
}

function rand(): string {
  return `${process.pid}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}

/** Where a path would make us create folders: the missing ancestors of `dir`, outermost first. */
function missingDirs(dir: string): string[] {
  const out: string[] = [];
  let d = dir;
  while (!existsSync(d)) {
    out.unshift(d);
    const up = dirname(d);
    if (up === d) break;
    d = up;
  }
  return out;
}

export class AtomicWriter {
  readonly outDir: string;
  private readonly overwrite: boolean;
  private readonly staged: (StagedFile & { tmp: string })[] = [];
  private readonly createdDirs: string[] = [];
  private done = false;

  /** Checks that outDir can be a folder we write into; creates nothing yet. */
  constructor(outDir: string, opts: { overwrite: boolean; what?: string }) {
    this.outDir = resolve(outDir);
    this.overwrite = opts.overwrite;
    const existing = this.firstExisting(this.outDir);
    if (!statSync(existing).isDirectory()) {
      throw new ConfigError(`is a file, not a folder, so ${opts.what ?? 'the files'} cannot be written to ${this.outDir}. Choose another output folder.`, { file: existing, field: 'out' });
    }
  }

  private firstExisting(p: string): string {
    let d = p;
    while (!existsSync(d)) d = dirname(d);
    return d;
  }

  /** Relative paths among `relPaths` that already exist in outDir. */
  existing(relPaths: readonly string[]): string[] {
    return relPaths.filter((r) => existsSync(this.target(r)));
  }

  /** Refuse up front when any of these files exists and overwrite is off, or is a folder. */
  check(relPaths: readonly string[]): void {
    for (const r of relPaths) {
      const t = this.target(r);
      if (existsSync(t) && lstatSync(t).isDirectory()) {
        throw new ConfigError(`is a folder where a file must be written (a folder of that name is in the way). Remove it or choose another output folder.`, { file: t, field: 'out' });
      }
    }
    const ex = this.existing(relPaths);
    if (ex.length && !this.overwrite) {
      throw new ConfigError(
        `already holds ${ex.join(', ')}; nothing was written. Choose an empty folder, or replace them (--force in the CLI, "overwrite" in the app).`,
        { file: this.outDir, field: 'overwrite' },
      );
    }
  }

  private target(relPath: string): string {
    const t = resolve(this.outDir, relPath);
    const rel = relative(this.outDir, t);
    if (!rel || rel.startsWith('..') || rel.includes(`..${sep}`)) throw new ConfigError(`file name "${relPath}" leaves the output folder`, { field: 'out' });
    return t;
  }

  private ensureDir(dir: string): void {
    const missing = missingDirs(dir);
    for (const d of missing) {
      try {
        mkdirSync(d);
      } catch (e) {
        throw new ConfigError(`cannot create this folder: ${reason(e)}. Choose an output folder you can write to.`, { file: d, field: 'out' });
      }
      this.createdDirs.push(d);
    }
  }

  /** Write one file's bytes (or stream them) to a temporary next to its destination; hashes it. */
  stage(relPath: string, data: Uint8Array | string | Producer): StagedFile {
    if (this.done) throw new Error('AtomicWriter: already committed or aborted');
    const path = this.target(relPath);
    if (this.staged.some((s) => s.path === path)) throw new Error(`AtomicWriter: ${relPath} staged twice`);
    this.ensureDir(dirname(path));
    const tmp = join(dirname(path), `.${relPath.split('/').pop()}.mesp-tmp-${rand()}`);
    let fd: number;
    try {
      fd = openSync(tmp, 'wx');
    } catch (e) {
      throw new ConfigError(`cannot write into this folder: ${reason(e)}. Choose an output folder you can write to.`, { file: dirname(path), field: 'out' });
    }
    const hash = createHash('sha256');
    let bytes = 0;
    const entry = { relPath, path, bytes: 0, sha256: '', tmp };
    this.staged.push(entry); // so abort() removes the temporary whatever happens below
    try {
      const sink = (chunk: Uint8Array): void => {
        let off = 0;
        while (off < chunk.length) off += writeSync(fd, chunk, off, chunk.length - off);
        hash.update(chunk);
        bytes += chunk.length;
      };
      if (typeof data === 'string') sink(new TextEncoder().encode(data));
      else if (data instanceof Uint8Array) sink(data);
      else data(sink);
      fsyncSync(fd);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException)?.code;
      if (code) throw new ConfigError(`cannot write this file: ${reason(e)}. Nothing was written; free space or choose another output folder.`, { file: path, field: 'out' });
      throw e;
    } finally {
      closeSync(fd);
    }
    entry.bytes = bytes;
    entry.sha256 = hash.digest('hex');
    return { relPath, path, bytes, sha256: entry.sha256 };
  }

  /** Where a staged file's bytes are until commit (to read them back, e.g. to check them in a runtime). */
  stagedPath(relPath: string): string {
    const s = this.staged.find((x) => x.relPath === relPath);
    if (!s) throw new Error(`AtomicWriter: ${relPath} is not staged`);
    return s.tmp;
  }

  /** The files staged so far, with their sizes and hashes. */
  stagedFiles(): StagedFile[] {
    return this.staged.map(({ relPath, path, bytes, sha256 }) => ({ relPath, path, bytes, sha256 }));
  }

  /** Move every staged file into place, replacing existing ones only with overwrite; all or nothing. */
  commit(): StagedFile[] {
    if (this.done) throw new Error('AtomicWriter: already committed or aborted');
    const moved: { path: string; backup: string | null }[] = [];
    try {
      this.check(this.staged.map((s) => s.relPath));
      for (const s of this.staged) {
        let backup: string | null = null;
        if (existsSync(s.path)) {
          backup = join(dirname(s.path), `.${s.relPath.split('/').pop()}.mesp-old-${rand()}`);
          renameSync(s.path, backup);
        }
        moved.push({ path: s.path, backup });
        renameSync(s.tmp, s.path);
      }
    } catch (e) {
      for (const m of moved.reverse()) {
        try {
          if (existsSync(m.path)) unlinkSync(m.path);
          if (m.backup) renameSync(m.backup, m.path);
        } catch {
          // best effort: keep undoing the rest
        }
      }
      this.abort();
      if (e instanceof ConfigError) throw e;
      throw new ConfigError(`cannot move the new files into this folder: ${reason(e)}. Nothing was changed.`, { file: this.outDir, field: 'out' });
    }
    for (const m of moved) if (m.backup) unlinkSync(m.backup);
    this.done = true;
    return this.staged.map(({ relPath, path, bytes, sha256 }) => ({ relPath, path, bytes, sha256 }));
  }

  /** Remove every temporary and every folder this writer created. */
  abort(): void {
    if (this.done) return;
    this.done = true;
    for (const s of this.staged) {
      try {
        if (existsSync(s.tmp)) unlinkSync(s.tmp);
      } catch {
        // keep cleaning
      }
    }
    for (const d of [...this.createdDirs].reverse()) {
      try {
        rmdirSync(d);
      } catch {
        // not empty (someone else wrote there) or gone: leave it
      }
    }
  }
}

/** Stage files with `fill`, then commit; any error aborts (no partial file) and is rethrown. */
export function writeAllOrNothing<T>(outDir: string, opts: { overwrite: boolean; what?: string; expected: readonly string[] }, fill: (w: AtomicWriter) => T): { result: T; files: StagedFile[] } {
  const w = new AtomicWriter(outDir, opts);
  w.check(opts.expected);
  try {
    const result = fill(w);
    const files = w.commit();
    return { result, files };
  } catch (e) {
    w.abort();
    throw e;
  }
}

// ------------------------------------------------------------------------------------------- one file, one folder

/** Write a file atomically: a sibling temp file, then rename over the target. */
export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  const tmp = `${path}.tmp-${process.pid}-${Date.now()}`;
  writeFileSync(tmp, data);
  renameSync(tmp, path);
}

/** Replace a folder atomically: fill a sibling temp folder, then swap it in. */
export function writeFolderAtomic(dir: string, files: Record<string, string | Uint8Array>): void {
  const tmp = `${dir}.tmp-${process.pid}-${Date.now()}`;
  mkdirSync(tmp, { recursive: true });
  try {
    for (const [name, data] of Object.entries(files)) writeFileSync(join(tmp, name), data);
    const old = `${dir}.old-${process.pid}-${Date.now()}`;
    if (existsSync(dir)) renameSync(dir, old);
    renameSync(tmp, dir);
    rmSync(old, { recursive: true, force: true });
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
}

// Which files the service may touch. Browser mode serves a UI to every page that holds its launch token, so every path
// a request names must lie under one of the folders the service was started with (its roots, which always include the
// app-data folder). Real paths decide: a symbolic link inside an allowed folder that leads outside it is refused, and
// so is a link inside a chosen folder (a model folder's config.json → /etc/passwd); the refusal names the link and
// where it leads, and nothing outside is ever opened, so no outside byte reaches a message. Only regular files and
// folders are used: a FIFO, socket or device (which would block the service on open) is refused by name.
// In the desktop app, a path the user picked in a native dialog is granted by main (never by the renderer) for the
// life of the window that asked (a scope); nothing is granted across launches.
import { existsSync, lstatSync, readdirSync, realpathSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { ConfigError } from '../../common/errors';
import type { FileCheck, FileKind } from '../../api/contract';

/** The real path of `p`, or of its nearest existing ancestor joined with the rest (for paths not created yet). */
export function realish(p: string): string {
  const abs = resolve(p);
  if (existsSync(abs)) return realpathSync(abs);
  const parent = dirname(abs);
  if (parent === abs) return abs;
  return join(realish(parent), basename(abs));
}

export function isUnder(root: string, p: string): boolean {
  const rel = relative(root, p);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}

/** What lies at a real path: a regular file, a folder, nothing, or a special file (FIFO, socket, device). */
export function nodeKind(real: string): 'file' | 'dir' | 'missing' | 'special' {
  const st = lstatSync(real, { throwIfNoEntry: false });
  if (!st) return 'missing';
  if (st.isFile()) return 'file';
  if (st.isDirectory()) return 'dir';
  return 'special';
}

/** Entries of a chosen folder checked for links and special files (a model folder has about ten). */
const MAX_SCANNED_ENTRIES = 10_000;

const SPECIAL = 'is not a regular file or folder (a FIFO, socket or device), which the service does not open';

export class PathPolicy {
  private readonly roots: string[];
  /** Real paths granted by native dialogs, by scope (a window). */
  private readonly granted = new Map<string, Set<string>>();

  constructor(roots: string[]) {
    this.roots = [...new Set(roots.map((r) => realish(r)))];
  }

  get allowedRoots(): string[] {
    return [...this.roots];
  }

  /**
   * Grant a path picked in a native dialog, until revoke(scope). A granted folder also grants where its own links
   * lead (a Hugging Face cache snapshot links each file to ../../blobs): the user chose that model.
   */
  grant(p: string, scope: string): void {
    const set = this.granted.get(scope) ?? new Set<string>();
    this.granted.set(scope, set);
    const real = realish(p);
    set.add(real);
    if (nodeKind(real) !== 'dir') return;
    for (const d of readdirSync(real, { withFileTypes: true }).slice(0, MAX_SCANNED_ENTRIES)) {
      if (!d.isSymbolicLink()) continue;
      try {
        set.add(realpathSync(join(real, d.name)));
      } catch {
        // a dangling link grants nothing
      }
    }
  }

  /** Drop every grant of a scope (its window closed). */
  revoke(scope: string): void {
    this.granted.delete(scope);
  }

  private inside(real: string): boolean {
    if (this.roots.some((r) => isUnder(r, real))) return true;
    for (const set of this.granted.values()) for (const g of set) if (isUnder(g, real)) return true;
    return false;
  }

  allows(p: string): boolean {
    return this.inside(realish(p));
  }

  private outside(abs: string, real: string): string {
    const where = `the allowed folders, the ones this service may read (${this.roots.join(', ')})`;
    if (real !== abs) return `${abs} leads (through a symbolic link) to ${real}, outside ${where}. Choose a file under one of them, or copy it in.`;
    return `${abs} is outside ${where}. Choose a file under one of them, upload it, or restart the service with --root pointing at its folder.`;
  }

  /**
   * Why `abs` may not be used, or null when it may: outside the allowed folders (its real path), a special file, or a
   * folder holding a link that leads outside or a special file (`scan`: the folders whose files are read or written).
   */
  private refusal(abs: string, scan: boolean): string | null {
    const real = realish(abs);
    if (!this.inside(real)) return this.outside(abs, real);
    const kind = nodeKind(real);
    if (kind === 'special') return `${abs} ${SPECIAL}: choose a regular file.`;
    if (kind !== 'dir' || !scan) return null;
    for (const d of readdirSync(real, { withFileTypes: true }).slice(0, MAX_SCANNED_ENTRIES)) {
      const entry = join(abs, d.name);
      if (d.isSymbolicLink()) {
        let target: string;
        try {
          target = realpathSync(join(real, d.name));
        } catch {
          continue; // a dangling link: opening it fails with its own name
        }
        if (!this.inside(target)) return `${entry} is a symbolic link to ${target}, outside the allowed folders (${this.roots.join(', ')}): copy the file into ${abs} instead.`;
        if (nodeKind(target) === 'special') return `${entry} leads to ${target}, which ${SPECIAL}: remove it from ${abs}.`;
      } else if (!d.isFile() && !d.isDirectory()) {
        return `${entry} ${SPECIAL}: remove it from ${abs}, or choose another folder.`;
      }
    }
    return null;
  }

  /**
   * The absolute path, or a ConfigError that names the field, the path and the allowed folders. A folder's own entries
   * are checked too (links out, special files), unless `scan` is false (a folder that is only listed).
   */
  require(p: string, field: string, scan = true): string {
    const abs = resolve(p);
    const why = this.refusal(abs, scan);
    if (why) throw new ConfigError(why, { field });
    return abs;
  }

  /** Is `p` allowed and of the right kind (a model folder with config.json, a dataset file, a folder to export to)? */
  check(kind: FileKind, p: string): FileCheck {
    const abs = resolve(p);
    const fail = (error: string): FileCheck => ({ ok: false, path: abs, error });
    const why = this.refusal(abs, true);
    if (why) return fail(why);
    const st = nodeKind(realish(abs));
    switch (kind) {
      case 'model':
        if (st !== 'dir') return fail(`${abs} is not a folder: choose a Hugging Face model folder (config.json + model.safetensors).`);
        if (nodeKind(realish(join(abs, 'config.json'))) !== 'file') return fail(`${abs} has no config.json: choose the folder of a Qwen2/Qwen2.5 checkpoint.`);
        return { ok: true, path: abs, error: null };
      case 'dataset':
      case 'profile':
        if (st === 'missing') return fail(`${abs} does not exist.`);
        if (st !== 'file') return fail(`${abs} is a folder: choose a ${kind === 'dataset' ? '.jsonl' : '.json'} file.`);
        return { ok: true, path: abs, error: null };
      case 'exportDir':
        if (st === 'file') return fail(`${abs} is a file: choose a folder to export into.`);
        return { ok: true, path: abs, error: null };
    }
  }
}

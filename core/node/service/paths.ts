// Which files the service may touch. Browser mode serves a UI to anything that can reach its port, so every path a
// request names must lie under one of the folders the service was started with (its roots, which always include the
// app-data folder). Symlinks are resolved first, so a link cannot lead outside. In the desktop app, a path the user
// picked in a native dialog is granted by main (never by the renderer).
import { existsSync, realpathSync, statSync } from 'node:fs';
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

export class PathPolicy {
  private readonly roots: string[];
  private readonly granted = new Set<string>();

  constructor(roots: string[], granted: string[] = []) {
    this.roots = [...new Set(roots.map((r) => realish(r)))];
    for (const g of granted) this.granted.add(realish(g));
  }

  get allowedRoots(): string[] {
    return [...this.roots];
  }

  grant(p: string): void {
    this.granted.add(realish(p));
  }

  allows(p: string): boolean {
    const real = realish(p);
    return this.roots.some((r) => isUnder(r, real)) || [...this.granted].some((g) => isUnder(g, real));
  }

  /** The absolute path, or a ConfigError that names the field, the path and the allowed folders. */
  require(p: string, field: string): string {
    const abs = resolve(p);
    if (!this.allows(abs)) {
      throw new ConfigError(
        `${abs} is outside the folders this service may read (${this.roots.join(', ')}). Choose a file under one of them, ` +
          `upload it, or restart the service with --root pointing at its folder.`,
        { field },
      );
    }
    return abs;
  }

  /** Is `p` allowed and of the right kind (a model folder with config.json, a dataset file, a folder to export to)? */
  check(kind: FileKind, p: string): FileCheck {
    const abs = resolve(p);
    const fail = (error: string): FileCheck => ({ ok: false, path: abs, error });
    if (!this.allows(abs)) {
      return fail(`${abs} is outside the allowed folders (${this.roots.join(', ')}): choose a path under one of them, or upload the file.`);
    }
    const exists = existsSync(abs);
    const st = exists ? statSync(abs) : null;
    switch (kind) {
      case 'model':
        if (!st?.isDirectory()) return fail(`${abs} is not a folder: choose a Hugging Face model folder (config.json + model.safetensors).`);
        if (!existsSync(join(abs, 'config.json'))) return fail(`${abs} has no config.json: choose the folder of a Qwen2/Qwen2.5 checkpoint.`);
        return { ok: true, path: abs, error: null };
      case 'dataset':
      case 'profile':
        if (!st) return fail(`${abs} does not exist.`);
        if (!st.isFile()) return fail(`${abs} is a folder: choose a ${kind === 'dataset' ? '.jsonl' : '.json'} file.`);
        return { ok: true, path: abs, error: null };
      case 'exportDir':
        if (st && !st.isDirectory()) return fail(`${abs} is a file: choose a folder to export into.`);
        return { ok: true, path: abs, error: null };
    }
  }
}

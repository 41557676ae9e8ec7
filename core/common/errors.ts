// Typed errors of MeSP Studio. Every message says what went wrong, where (file, line, tensor) and what to do.
// Pure TS: no Node and no GPU imports (DESIGN.md §1, §9.6).

/** Base class: a `code` for programs, a message for people. */
export class MespError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.code = code;
    this.name = new.target.name;
  }
}

/** The message of anything thrown (an Error's message, else its string form). */
export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** A plain JSON object (not null, not an array). */
export function isJsonObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Bytes live per ledger category at the moment of a refusal. */
export type BytesByCategory = Record<string, number>;

/** Bytes in decimal units, as the profiles state budgets and every table shows them: MB = 10⁶ bytes, GB = 10⁹. */
export function formatBytes(n: number): string {
  const a = Math.abs(n);
  if (a >= 1e9) return `${(n / 1e9).toFixed(2)} GB`;
  if (a >= 1e6) return `${(n / 1e6).toFixed(2)} MB`;
  if (a >= 1e3) return `${(n / 1e3).toFixed(1)} kB`;
  return `${n} B`;
}

/** An allocation refused by the hard cap, before any GPU buffer was created (DESIGN.md §3). */
export class OutOfBudgetError extends MespError {
  readonly request: { name: string; category: string; bytes: number };
  readonly liveByCategory: BytesByCategory;
  readonly liveBytes: number;
  readonly capBytes: number;
  readonly overshootBytes: number;
  constructor(request: { name: string; category: string; bytes: number }, liveByCategory: BytesByCategory, capBytes: number) {
    const liveBytes = Object.values(liveByCategory).reduce((s, b) => s + b, 0);
    const overshoot = liveBytes + request.bytes - capBytes;
    const parts = Object.entries(liveByCategory)
      .filter(([, b]) => b > 0)
      .map(([c, b]) => `${c} ${formatBytes(b)}`)
      .join(', ');
    super(
      'OUT_OF_BUDGET',
      `Out of memory budget: allocating ${request.category}:${request.name} (${formatBytes(request.bytes)}) would take ` +
        `live GPU memory to ${formatBytes(liveBytes + request.bytes)}, over the cap of ${formatBytes(capBytes)} ` +
        `by ${formatBytes(overshoot)} (${overshoot} byte${overshoot === 1 ? '' : 's'}). Live now: ${parts || 'nothing'}. ` +
        (request.category === 'kvcache'
          ? `The KV cache holds the prompt plus --max-new-tokens positions: lower --max-new-tokens or shorten the prompt, or choose a device profile with a larger budget or --quant int4.`
          : `Choose a device profile with a larger budget, or lower --seq-len, --batch or --rank, or use --quant int4 or --method mesp.`),
    );
    this.request = request;
    this.liveByCategory = { ...liveByCategory };
    this.liveBytes = liveBytes;
    this.capBytes = capBytes;
    this.overshootBytes = overshoot;
  }
}

/** A malformed or unsupported file: names the file and what is wrong in it. */
export class FormatError extends MespError {
  readonly file: string;
  constructor(file: string, message: string) {
    super('BAD_FORMAT', `${file}: ${message}`);
    this.file = file;
  }
}

/** An invalid or unsupported configuration value (model config, profile, CLI flags). */
export class ConfigError extends MespError {
  readonly file: string | undefined;
  readonly field: string | undefined;
  constructor(message: string, where: { file?: string; field?: string } = {}) {
    super('BAD_CONFIG', where.file ? `${where.file}: ${message}` : message);
    this.file = where.file;
    this.field = where.field;
  }
}

/** A bad dataset row: names the file and the 1-based line. */
export class DataError extends MespError {
  readonly file: string;
  readonly line: number;
  constructor(file: string, line: number, message: string) {
    super('BAD_DATA', `${file}:${line}: ${message}`);
    this.file = file;
    this.line = line;
  }
}

/** A shape or argument mismatch between tensors, naming them. */
export class ShapeError extends MespError {
  constructor(message: string) {
    super('BAD_SHAPE', message);
  }
}

/** No usable WebGPU adapter or device. */
export class GpuUnavailableError extends MespError {
  constructor(message: string) {
    super('NO_GPU', message);
  }
}

// ------------------------------------------------------------------------------------------------- file system

/** What Node's errno codes mean to a user, and what to do: one table for every command and the service. */
const FS_CODES: Record<string, { what: string; todo: string; disk?: boolean }> = {
  ENOENT: { what: 'does not exist', todo: 'check the path (a folder on the way may be missing too)' },
  EISDIR: { what: 'is a folder where a file is needed', todo: 'give the file itself, or remove the folder in the way' },
  ENOTDIR: { what: 'has a file where a folder is needed on its way', todo: 'check the path: one of its parents is a file' },
  EACCES: { what: 'is not accessible: permission denied', todo: 'check its permissions, or choose a path you own' },
  EPERM: { what: 'is not accessible: operation not permitted', todo: 'check its permissions, or choose a path you own' },
  EROFS: { what: 'is on a read-only file system', todo: 'choose a folder on a writable disk' },
  EEXIST: { what: 'already exists', todo: 'remove it or choose another name' },
  ENAMETOOLONG: { what: 'has a name too long for the file system', todo: 'choose a shorter path' },
  ELOOP: { what: 'goes through a loop of symbolic links', todo: 'fix the links on the path' },
  ENOTEMPTY: { what: 'is a folder that is not empty', todo: 'empty it or choose another folder' },
  EXDEV: { what: 'cannot be moved across file systems', todo: 'keep the output on the same disk as its folder' },
  ENXIO: { what: 'is a special file (a FIFO or socket) with nothing behind it', todo: 'give a regular file' },
  ENOSPC: { what: 'cannot be written: the disk is full', todo: 'free space on the disk, or choose a folder on another disk', disk: true },
  EDQUOT: { what: 'cannot be written: the disk quota is exhausted', todo: 'free space, or choose a folder on another disk', disk: true },
  EFBIG: { what: 'would be larger than the file system allows', todo: 'choose a folder on another file system', disk: true },
  EIO: { what: 'could not be read or written: an input/output error of the disk', todo: 'check the disk', disk: true },
  EMFILE: { what: 'cannot be opened: too many open files', todo: 'raise the open-file limit (ulimit -n) and try again', disk: true },
  ENFILE: { what: 'cannot be opened: too many open files in the system', todo: 'close other programs and try again', disk: true },
  EBUSY: { what: 'is busy (in use by another program)', todo: 'close what uses it and try again', disk: true },
};

/** The errno code of a Node file-system error ('ENOENT', ...), or null for anything else. */
export function errnoCode(e: unknown): string | null {
  if (e instanceof MespError || typeof e !== 'object' || e === null) return null;
  const { code, syscall } = e as { code?: unknown; syscall?: unknown };
  if (typeof code !== 'string' || !/^E[A-Z0-9]+$/.test(code)) return null;
  return typeof syscall === 'string' || code in FS_CODES ? code : null;
}

/**
 * A file-system failure worded for people: the path, what failed and what to do. Bad paths (missing, a folder for a
 * file, read-only, permissions) are bad input (exit 5); a full or failing disk is an error of the machine (exit 1).
 */
export class FileSystemError extends MespError {
  readonly path: string;
  readonly errno: string;
  /** The disk itself (full, quota, I/O): not the user's input. */
  readonly disk: boolean;
  constructor(errno: string, path: string, message: string, disk: boolean) {
    super(disk ? 'DISK' : 'BAD_PATH', message);
    this.path = path;
    this.errno = errno;
    this.disk = disk;
  }
}

/**
 * Word a Node file-system error (`e.code`, e.g. ENOENT) as a FileSystemError naming `path` and what was being done
 * (`action`: "read the dataset", "write the checkpoint"); anything that is not a file-system error is returned as is.
 */
export function fileError(e: unknown, path?: string, action?: string): unknown {
  if (e instanceof MespError) return e;
  const code = errnoCode(e);
  if (!code) return e;
  const err = e as { path?: unknown; dest?: unknown; syscall?: unknown };
  const where = path ?? (typeof err.path === 'string' ? err.path : '(a path)');
  const doing = action ?? (typeof err.syscall === 'string' ? SYSCALL_ACTION[err.syscall] ?? err.syscall : 'use it');
  const known = FS_CODES[code];
  const text = known
    ? `${where}: cannot ${doing}: it ${known.what} (${code}). ${known.todo[0].toUpperCase()}${known.todo.slice(1)}.`
    : `${where}: cannot ${doing}: ${errorMessage(e)}.`;
  return new FileSystemError(code, where, text, known ? known.disk === true : true);
}

const SYSCALL_ACTION: Record<string, string> = {
  open: 'open it', read: 'read it', write: 'write it', mkdir: 'create this folder', rename: 'move it into place', scandir: 'list this folder',
  stat: 'read it', lstat: 'read it', fstat: 'read it', unlink: 'remove it', rmdir: 'remove this folder', rm: 'remove it', copyfile: 'copy it',
  fsync: 'write it', ftruncate: 'write it', utime: 'update it', access: 'use it', readlink: 'read the link', realpath: 'resolve it',
  symlink: 'create the link', link: 'create the link', chmod: 'change its permissions', close: 'write it',
};

/** Run `fn`, rewording a file-system error of it as a FileSystemError naming `path` and `action`. */
export function withFile<T>(path: string, action: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    throw fileError(e, path, action);
  }
}

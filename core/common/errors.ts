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

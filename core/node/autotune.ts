// The autotune of the matmul-family kernels (core/gpu/tuning.ts, core/kernels/variants.ts): for each shape class a
// schedule runs (the plan's dry run lists them) that this adapter has no choice for yet, it times every candidate
// variant on a problem of the class's shape (random operands; M, N capped at 256 / 2048 and K at 16384, which keeps
// a class's behaviour and the tuning short), keeps those whose output is bit-identical to the reg kernel's, picks the
// fastest, and caches the choice on disk per adapter: a second run on the same adapter measures nothing.
//
// Cache: $MESP_AUTOTUNE_CACHE (a file; "off" = neither read nor write), else $XDG_CACHE_HOME/mesp-studio/autotune.json,
// else ~/.cache/mesp-studio/autotune.json; written atomically (core/node/atomic.ts). MESP_AUTOTUNE=off skips the
// autotune (every kernel runs reg). Timing: GPU timestamps where the adapter has them, else wall time around a wait.
// The autotune runs on a context of its own, so the run's ledger never sees its buffers.
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { errorMessage } from '../common/errors';
import { Rng } from '../common/rng';
import { GpuContext, PHONE_LIMITS, type DeviceLimits, type GpuProvider } from '../gpu/context';
import type { Tensor } from '../gpu/tensor';
import { variantId, type GemmDims, type KernelFamily, type KernelTuning, type TuneRecord, type TuneRequest } from '../gpu/tuning';
import { qlinearTile, qlinearTileT } from '../kernels/linear';
import { matmul } from '../kernels/matmul';
import { REG, candidates } from '../kernels/variants';
import { allocWeight, freeWeight, writeWeight, type WeightFormat, type WeightMatrix } from '../kernels/weight';
import { writeFileAtomic } from './atomic';

export const AUTOTUNE_CACHE_VERSION = 1;

interface CacheFile {
  version: number;
  /** adapter key → class key → record */
  adapters: Record<string, Record<string, TuneRecord>>;
}

/** Where the cache lives, or null when MESP_AUTOTUNE_CACHE=off. */
export function autotuneCachePath(): string | null {
  const v = process.env.MESP_AUTOTUNE_CACHE;
  if (v === 'off') return null;
  if (v) return resolve(v);
  return join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'mesp-studio', 'autotune.json');
}

function isRecord(x: unknown): x is TuneRecord {
  const r = x as TuneRecord;
  return !!r && typeof r === 'object' && !!r.choice && typeof r.choice.kind === 'string' && typeof r.choice.params === 'object' && Array.isArray(r.measured);
}

/** The cache file's contents; a missing, unreadable or foreign file reads as empty (it is only a cache). */
function readCache(path: string): CacheFile {
  if (!existsSync(path)) return { version: AUTOTUNE_CACHE_VERSION, adapters: {} };
  try {
    const j = JSON.parse(readFileSync(path, 'utf8')) as CacheFile;
    if (j.version !== AUTOTUNE_CACHE_VERSION || typeof j.adapters !== 'object' || !j.adapters) throw new Error(`version ${String(j.version)}, expected ${AUTOTUNE_CACHE_VERSION}`);
    return j;
  } catch (e) {
    console.warn(`mesp: ignoring the autotune cache ${path} (${errorMessage(e)}); it will be rewritten`);
    return { version: AUTOTUNE_CACHE_VERSION, adapters: {} };
  }
}

/** Load the cached choices of the table's adapter into it. Returns how many were loaded. */
export function loadTuning(table: KernelTuning, path: string | null = autotuneCachePath()): number {
  if (!path) return 0;
  const entries = readCache(path).adapters[table.adapterKey] ?? {};
  let n = 0;
  for (const [key, rec] of Object.entries(entries)) {
    if (!isRecord(rec) || table.records.has(key)) continue;
    table.set(key, rec);
    n++;
  }
  return n;
}

/** Merge the table's records into the cache file (other adapters' entries are kept). */
function saveTuning(table: KernelTuning, path: string): void {
  const file = readCache(path);
  const mine = { ...(file.adapters[table.adapterKey] ?? {}) };
  for (const [key, rec] of table.records) mine[key] = rec;
  file.adapters[table.adapterKey] = mine;
  mkdirSync(dirname(path), { recursive: true }); // a fresh machine has no ~/.cache/mesp-studio yet
  writeFileAtomic(path, JSON.stringify(file, null, 1) + '\n');
}

export type AutotuneProgress =
  | { type: 'start'; adapterKey: string; todo: number; reused: number; cachePath: string | null }
  | { type: 'class'; key: string; record: TuneRecord; index: number; todo: number };

export interface AutotuneOptions {
  /** The limits of the run's device (they decide which variants fit): the profile's WebGPU limits. */
  limits?: DeviceLimits;
  /** The cache file; autotuneCachePath() by default, null for none. */
  cachePath?: string | null;
  onProgress?: (p: AutotuneProgress) => void;
}

export interface AutotuneResult {
  /** False when MESP_AUTOTUNE=off. */
  enabled: boolean;
  adapterKey: string;
  /** Classes whose choice came from the cache (or an earlier autotune in this process). */
  reused: number;
  /** Classes measured now. */
  measured: number;
  /** The record of every requested class. */
  records: [string, TuneRecord][];
}

/** Problem dims of a class: the first call's dims, capped. */
function problemDims(r: TuneRequest): GemmDims {
  return { M: Math.min(r.dims.M, 256), N: Math.min(r.dims.N, 2048), K: Math.min(r.dims.K, 16384) };
}

function fill(ctx: GpuContext, t: Tensor, rng: Rng): void {
  const v = new Float32Array(t.numel);
  for (let i = 0; i < v.length; i++) v[i] = rng.uniform(-1, 1);
  ctx.write(t, v);
}

/** The problem of a class: a call to run, its output, and what to free. */
function problem(ctx: GpuContext, family: KernelFamily, layout: string, d: GemmDims, rng: Rng): { run: () => void; out: Tensor; free: () => void } {
  const { M, N, K } = d;
  if (family === 'matmul') {
    const transA = layout.charAt(4) === 't';
    const transB = layout.charAt(5) === 't';
    const a = ctx.alloc('workspace', 'autotune.a', [M * K]); // op(A) (M, K)
    const b = ctx.alloc('workspace', 'autotune.b', [K * N]); // op(B) (K, N)
    const c = ctx.alloc('workspace', 'autotune.c', [M * N]); // (M, N)
    fill(ctx, a, rng);
    fill(ctx, b, rng);
    return { run: () => matmul(ctx, c, a, b, d, { transA, transB }), out: c, free: () => ctx.free(a, b, c) };
  }
  const format = layout as WeightFormat;
  // qlinear: W (N rows, K inputs); qlinear_t: W (K rows, N columns).
  const [rows, cols] = family === 'qlinear' ? [N, K] : [K, N];
  const W: WeightMatrix = allocWeight(ctx, 'workspace', 'autotune.w', rows, cols, format);
  const wv = new Float32Array(rows * cols);
  for (let i = 0; i < wv.length; i++) wv[i] = rng.uniform(-1, 1);
  writeWeight(ctx, W, wv);
  const x = ctx.alloc('workspace', 'autotune.x', [M, K]); // X (M, K) or G (M, K)
  const y = ctx.alloc('workspace', 'autotune.y', [M, N]); // Y (M, N) or DX (M, N)
  fill(ctx, x, rng);
  const tile = W.tiles[0];
  const run = family === 'qlinear'
    ? () => qlinearTile(ctx, y, x, W, tile, M, { ldy: N, ycol: 0, yrow0: 0, xrow0: 0 })
    : () => qlinearTileT(ctx, y, x, W, tile, M, { ldg: K, gcol: 0, grow0: 0, dxrow0: 0 });
  return { run, out: y, free: () => { ctx.free(x, y); freeWeight(ctx, W); } };
}

/** Seconds per call of `run`, `n` calls. */
async function timeCalls(ctx: GpuContext, run: () => void, n: number): Promise<number> {
  if (ctx.features.timestamps) {
    ctx.startProfile('timestamps');
    for (let i = 0; i < n; i++) run();
    const p = await ctx.stopProfile();
    return p.seconds / n;
  }
  const t0 = performance.now();
  for (let i = 0; i < n; i++) run();
  await ctx.finish();
  return (performance.now() - t0) / 1000 / n;
}

function sameBits(a: ArrayBuffer, b: ArrayBuffer): number {
  const x = new Uint32Array(a);
  const y = new Uint32Array(b);
  let n = 0;
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) n++;
  return n;
}

/** Timing rounds: every surviving candidate once per round, in turn, so a burst of load hits them alike. */
const ROUNDS = 3;

/** Measure every candidate of one class and choose. */
async function tuneClass(ctx: GpuContext, r: TuneRequest): Promise<TuneRecord> {
  const { family, layout } = r.cls;
  const d = problemDims(r);
  const cands = candidates(ctx, family, layout, d);
  const at = new Date().toISOString();
  if (cands.length === 1) return { choice: REG, measured: [{ variant: 'reg', seconds: null, exact: true, note: 'the only candidate here' }], dims: d, at };
  const pr = problem(ctx, family, layout, d, new Rng(0x7a11));
  const rows = cands.map((v) => ({ v, id: variantId(v), seconds: Number.POSITIVE_INFINITY, exact: false, note: undefined as string | undefined }));
  try {
    // Compile each candidate and check it gives reg's bits (reg is first).
    let ref: ArrayBuffer | null = null;
    for (const row of rows) {
      ctx.forcedVariants.set(family, row.v);
      try {
        pr.run();
        const out = await ctx.read(pr.out);
        if (!ref) ref = out;
        const differ = sameBits(out, ref);
        row.exact = differ === 0;
        if (!row.exact) row.note = `${differ} of ${out.byteLength / 4} values differ from reg: rejected`;
      } catch (e) {
        row.note = `failed: ${errorMessage(e)}`;
      }
    }
    // Time the exact ones, round after round; one over 3 × the best after a round is dropped.
    let live = rows.filter((x) => x.exact);
    for (let round = 0; round < ROUNDS && live.length > 0; round++) {
      for (const row of live) {
        ctx.forcedVariants.set(family, row.v);
        row.seconds = Math.min(row.seconds, await timeCalls(ctx, pr.run, 1));
      }
      const best = Math.min(...live.map((x) => x.seconds));
      live = live.filter((x) => x.seconds <= 3 * best);
    }
  } finally {
    ctx.forcedVariants.delete(family);
    pr.free();
  }
  const timed = rows.filter((x) => x.exact && Number.isFinite(x.seconds));
  const best = timed.reduce<(typeof timed)[number] | null>((b, x) => (!b || x.seconds < b.seconds ? x : b), null);
  return {
    choice: best ? best.v : REG,
    measured: rows.map((x) => ({ variant: x.id, seconds: Number.isFinite(x.seconds) ? x.seconds : null, exact: x.exact, ...(x.note ? { note: x.note } : {}) })),
    dims: d,
    at,
  };
}

/**
 * Choose a variant for every requested class this adapter has no choice for (in this process or in the cache),
 * measuring on a context of its own, and save the choices. The run's contexts on the same adapter then use them.
 */
export async function autotune(provider: GpuProvider, requests: readonly TuneRequest[], opts: AutotuneOptions = {}): Promise<AutotuneResult> {
  if (process.env.MESP_AUTOTUNE === 'off') return { enabled: false, adapterKey: '', reused: 0, measured: 0, records: [] };
  const cachePath = opts.cachePath === undefined ? autotuneCachePath() : opts.cachePath;
  const unique = new Map<string, TuneRequest>();
  for (const r of requests) if (!unique.has(r.key)) unique.set(r.key, r);
  const ctx = await GpuContext.open(provider, { limits: opts.limits ?? PHONE_LIMITS, label: 'mesp:autotune' });
  try {
    const table = ctx.tuning;
    loadTuning(table, cachePath);
    const todo = [...unique.values()].filter((r) => !table.records.has(r.key));
    opts.onProgress?.({ type: 'start', adapterKey: table.adapterKey, todo: todo.length, reused: unique.size - todo.length, cachePath });
    for (const [i, r] of todo.entries()) {
      const record = await tuneClass(ctx, r);
      table.set(r.key, record);
      opts.onProgress?.({ type: 'class', key: r.key, record, index: i + 1, todo: todo.length });
    }
    if (todo.length > 0 && cachePath) {
      try {
        saveTuning(table, cachePath);
      } catch (e) {
        // The choices still hold for this run; a cache that cannot be written only costs the next run a new measurement.
        console.warn(`mesp: the autotune's choices were not saved to ${cachePath} (${errorMessage(e)}); the next run measures them again`);
      }
    }
    return {
      enabled: true, adapterKey: table.adapterKey, reused: unique.size - todo.length, measured: todo.length,
      records: [...unique.keys()].map((k) => [k, table.records.get(k)!]),
    };
  } finally {
    ctx.destroy();
  }
}

/** GFLOP/s of a candidate on its class's tuning problem, or null when it was not timed. */
export function tuneRate(rec: TuneRecord, seconds: number | null): number | null {
  if (seconds === null || !(seconds > 0)) return null;
  return (2 * rec.dims.M * rec.dims.N * rec.dims.K) / seconds / 1e9;
}

/** One line of progress (the CLI prints these; a run prints them to stderr). */
export function autotuneProgressLine(p: AutotuneProgress): string {
  if (p.type === 'start') {
    return `autotune on ${p.adapterKey}: ${p.todo} shape class(es) to measure, ${p.reused} from the cache${p.cachePath ? ` (${p.cachePath})` : ' (no cache file)'}`;
  }
  const c = p.record.measured.find((m) => m.variant === variantId(p.record.choice));
  const r = tuneRate(p.record, c?.seconds ?? null);
  return `autotune [${p.index}/${p.todo}] ${p.key}: ${variantId(p.record.choice)}${r !== null ? ` ${r.toFixed(2)} GFLOP/s` : ''}`;
}

// Kernel variants chosen per adapter (issue: "kernels chosen per adapter"): the matmul-family kernels (f32 matmul,
// the frozen linear forward qlinear and its transposed product qlinear_t; core/kernels/variants.ts) each have several
// variants — the register-blocked one tuned for CPU adapters, a subgroup-broadcast one, a workgroup-tiled one — with
// tile sizes. Which one runs is decided per adapter and per shape class by a short measurement (core/node/autotune.ts),
// cached on disk. This file is the pure-TS part: shape classes, the table of choices an adapter's contexts share, and
// the record of every class a schedule asked for (a dry run records them too, so a plan says what to tune).
//
// The invariant the autotune enforces: a variant is chosen only if it reproduces the reference variant's output bit
// for bit on the tuning problem, so the choice changes speed, never results (full, mebp and mesp stay bit-identical
// whatever runs where).

/** The tuned families, and 'attention', whose subgroup form is chosen by the adapter's features alone. */
export type KernelFamily = 'matmul' | 'qlinear' | 'qlinear_t' | 'attention';

/** One variant: its kind and its compile-time parameters (tile sizes). `id` names it in keys and tables. */
export interface VariantChoice {
  kind: string;
  params: Record<string, number>;
}

export function variantId(v: VariantChoice): string {
  const ps = Object.keys(v.params).sort().map((k) => `${k}${v.params[k]}`);
  return ps.length ? `${v.kind}.${ps.join('.')}` : v.kind;
}

/** The dims of one call: out (M, N) from a K-long reduction. */
export interface GemmDims {
  M: number;
  N: number;
  K: number;
}

/** A shape class: the family, the operand layout ("int4", "f32.tn", ...) and each dim rounded up to a power of two. */
export interface ShapeClass {
  family: KernelFamily;
  layout: string;
  M: number;
  N: number;
  K: number;
}

/** The smallest power of two ≥ d (1 for d ≤ 1). */
export function bucket(d: number): number {
  let b = 1;
  while (b < d) b *= 2;
  return b;
}

export function shapeClass(family: KernelFamily, layout: string, d: GemmDims): ShapeClass {
  return { family, layout, M: bucket(d.M), N: bucket(d.N), K: bucket(d.K) };
}

export function classKey(c: ShapeClass): string {
  return `${c.family}.${c.layout} M${c.M} N${c.N} K${c.K}`;
}

/** A class a schedule asked for, with the dims of its first call (the tuning problem is made from them). */
export interface TuneRequest {
  key: string;
  cls: ShapeClass;
  dims: GemmDims;
}

/** What the autotune measured for one class (kept in the cache file, printed by `mesp bench`). */
export interface TuneRecord {
  choice: VariantChoice;
  /** Seconds per call of each candidate on the tuning problem; null where it was not timed (rejected or skipped). */
  measured: { variant: string; seconds: number | null; exact: boolean; note?: string }[];
  dims: GemmDims;
  /** ISO time of the measurement. */
  at: string;
}

/** The variant choices of one adapter, shared by its contexts, and the classes asked for. */
export class KernelTuning {
  readonly records = new Map<string, TuneRecord>();
  readonly requests = new Map<string, TuneRequest>();

  constructor(readonly adapterKey: string) {}

  /** The tuned variant of a class, or null (the caller runs its default); records the request. */
  choose(cls: ShapeClass, dims: GemmDims): VariantChoice | null {
    const key = classKey(cls);
    if (!this.requests.has(key)) this.requests.set(key, { key, cls, dims: { ...dims } });
    return this.records.get(key)?.choice ?? null;
  }

  set(key: string, record: TuneRecord): void {
    this.records.set(key, record);
  }

  /** The requests with no record yet. */
  untuned(): TuneRequest[] {
    return [...this.requests.values()].filter((r) => !this.records.has(r.key));
  }
}

const TABLES = new Map<string, KernelTuning>();

/** The process-wide table of an adapter (all its contexts share it). */
export function tuningFor(adapterKey: string): KernelTuning {
  let t = TABLES.get(adapterKey);
  if (!t) {
    t = new KernelTuning(adapterKey);
    TABLES.set(adapterKey, t);
  }
  return t;
}

/** Drop every adapter's table (tests: the next context starts with no choices, as a new process would). */
export function forgetTuning(): void {
  TABLES.clear();
}

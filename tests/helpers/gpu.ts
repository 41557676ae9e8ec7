// Test helpers for GPU tests: open Dawn (failing, never skipping, when there is no adapter), upload/download,
// deterministic random data, and the largest-difference report every kernel test prints.
import { dawnProvider } from '../../core/node/dawn';
import { GpuContext, type OpenOptions } from '../../core/gpu/context';
import type { Category } from '../../core/gpu/ledger';
import type { Tensor } from '../../core/gpu/tensor';

let shared: GpuContext | null = null;

/** One context per test file (Dawn device creation is slow on lavapipe). Throws if no adapter: GPU tests fail. */
export async function gpu(options: OpenOptions = {}): Promise<GpuContext> {
  if (options.capBytes !== undefined || options.limits) return GpuContext.open(dawnProvider, options);
  if (!shared) shared = await GpuContext.open(dawnProvider, options);
  return shared;
}

/** Deterministic uniform(-scale, scale) values (mulberry32). */
export function rand(n: number, seed = 1, scale = 1): Float32Array {
  let s = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    const u = ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    out[i] = (u * 2 - 1) * scale;
  }
  return out;
}

export function upload(ctx: GpuContext, name: string, shape: number[], data: Float32Array | Int32Array | Uint32Array, category: Category = 'workspace'): Tensor {
  const dtype = data instanceof Float32Array ? 'f32' : data instanceof Int32Array ? 'i32' : 'u32';
  const t = ctx.alloc(category, name, shape, dtype);
  ctx.write(t, data);
  return t;
}

export interface DiffReport {
  maxAbs: number;
  maxRel: number;
  at: number;
}

/** Largest absolute and relative (to max |ref|) difference. */
export function diff(got: ArrayLike<number>, want: ArrayLike<number>): DiffReport {
  if (got.length < want.length) throw new Error(`diff: got ${got.length} values, want ${want.length}`);
  let maxAbs = 0;
  let at = -1;
  let scale = 0;
  for (let i = 0; i < want.length; i++) scale = Math.max(scale, Math.abs(want[i]));
  for (let i = 0; i < want.length; i++) {
    const d = Math.abs(got[i] - want[i]);
    if (!(d <= maxAbs)) {
      maxAbs = d;
      at = i;
    }
  }
  return { maxAbs, maxRel: maxAbs / (scale || 1), at };
}

/** Print the largest difference (every kernel test does) and return it. */
export function report(label: string, got: ArrayLike<number>, want: ArrayLike<number>): DiffReport {
  const r = diff(got, want);
  console.log(`[max diff] ${label}: abs ${r.maxAbs.toExponential(3)}, rel ${r.maxRel.toExponential(3)}${r.at >= 0 ? ` at ${r.at}` : ''}`);
  return r;
}

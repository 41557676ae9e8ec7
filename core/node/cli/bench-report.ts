// The per-kernel profile and the roofline projection tables of `mesp bench` (core/node/service/bench.ts gathers
// them): one row per kernel with calls, device time, share of the step, FLOPs, bytes moved, achieved GFLOP/s and
// GB/s; each method's projected step time and tokens/s on every built-in phone profile (ROOFLINE_ASSUMPTIONS); and the
// kernel variants the autotune chose, with their rates.
import type { KernelProfile } from '../../gpu/profiler';
import { variantId, type TuneRecord } from '../../gpu/tuning';
import { tuneRate, type AutotuneResult } from '../autotune';
import { listBuiltinProfiles } from '../../profiles/builtin';
import { ROOFLINE_ASSUMPTIONS, type StepProjection } from '../../profiles/roofline';
import type { Precision } from '../../profiles/schema';
import type { Method } from '../../train/methods';
import { table } from './format';

/** The profile as a table, the most time first. */
export function profileTable(p: KernelProfile): string {
  const rows = p.kernels.map((k) => [
    k.kernel, k.calls, (k.seconds * 1000).toFixed(1), `${((k.seconds / (p.seconds || 1)) * 100).toFixed(1)} %`,
    (k.flops / 1e9).toFixed(3), (k.bytes / 1e6).toFixed(1),
    k.seconds > 0 ? (k.flops / k.seconds / 1e9).toFixed(2) : '—', k.seconds > 0 ? (k.bytes / k.seconds / 1e9).toFixed(2) : '—',
  ]);
  const f = p.kernels.reduce((s, k) => s + k.flops, 0);
  const b = p.kernels.reduce((s, k) => s + k.bytes, 0);
  const calls = p.kernels.reduce((s, k) => s + k.calls, 0);
  rows.push(['all', calls, (p.seconds * 1000).toFixed(1), '100.0 %', (f / 1e9).toFixed(3), (b / 1e6).toFixed(1),
    p.seconds > 0 ? (f / p.seconds / 1e9).toFixed(2) : '—', p.seconds > 0 ? (b / p.seconds / 1e9).toFixed(2) : '—']);
  return table(['kernel', 'calls', 'total ms', 'share', 'GFLOP', 'MB moved', 'GFLOP/s', 'GB/s'], rows);
}

export function profileHeader(method: Method, p: KernelProfile): string {
  const how = p.timing === 'timestamps'
    ? 'GPU timestamps'
    : 'queue completion (the adapter has no timestamp-query: the total is right, the split by kernel only coarse, since completions arrive in bursts)';
  return `${method}: per-kernel profile of one step, timed by ${how}; device time ${p.seconds.toFixed(2)} s, wall ${p.wallSeconds.toFixed(2)} s`;
}

/** Projected seconds per step (and tokens/s) per method, a column per built-in profile. */
export function projectionTable(r: { methods: Partial<Record<Method, { projections: StepProjection[] }>> }, precision: Precision): string {
  const profiles = listBuiltinProfiles();
  const rows = (Object.keys(r.methods) as Method[]).map((m) => {
    const x = r.methods[m]!;
    return [m, ...profiles.map((p) => {
      const s = x.projections.find((q: StepProjection) => q.profileId === p.id && q.precision === precision);
      return s ? `${s.seconds.toFixed(3)} s (${s.tokensPerSecond.toFixed(0)} tok/s)` : '—';
    })];
  });
  return table(['method', ...profiles.map((p) => p.id)], rows);
}

export function projectionNote(): string {
  return `Projected step time on each built-in profile (${ROOFLINE_ASSUMPTIONS})`;
}

const rate = (rec: TuneRecord, seconds: number | null): string => tuneRate(rec, seconds)?.toFixed(2) ?? '—';

/** The chosen variant of each shape class with its rate and reg's on the tuning problem. */
export function autotuneTable(a: AutotuneResult): string {
  const rows = a.records.map(([key, rec]) => {
    const chosen = variantId(rec.choice);
    const c = rec.measured.find((m) => m.variant === chosen);
    const r = rec.measured.find((m) => m.variant === 'reg');
    const speedup = c?.seconds && r?.seconds ? `${(r.seconds / c.seconds).toFixed(2)} ×` : '—';
    const others = rec.measured.filter((m) => m.variant !== chosen && m.variant !== 'reg')
      .map((m) => `${m.variant} ${m.seconds !== null ? rate(rec, m.seconds) : m.exact ? '—' : 'rejected'}`).join(', ');
    return [key, `${rec.dims.M}×${rec.dims.N}×${rec.dims.K}`, chosen, rate(rec, c?.seconds ?? null), rate(rec, r?.seconds ?? null), speedup, others || '—'];
  });
  return table(['shape class', 'tuned on M×N×K', 'chosen', 'GFLOP/s', 'reg GFLOP/s', 'speed-up', 'other candidates (GFLOP/s)'], rows);
}

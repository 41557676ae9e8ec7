// "Will it fit?" in words and in one picture, from plan.fit's answer (core/api/contract/plan.ts): the one-line verdict
// ("MeSP fits Qwen2.5-3B on this phone with 907 MB to spare; full backprop does not"), and every method's memory over
// one planned training step on one time axis with the cap line and a pin at each method's peak. The dry run has no
// clock, so the axis is the share of the step's ledger events (0 % = the step begins, 100 % = it ends): each method's
// own schedule, stretched to the same width. Pure functions of plain data, like charts/options.ts.
import type { EChartsOption } from 'echarts';
import type { FitMethod, FitResult } from '../../../core/api/contract';
import { totalOf, type MethodName } from '../../../core/api/names';
import { mb } from '../lib/format';
import { CAP_COLOR, METHOD_COLOR, METHOD_LABEL } from '../lib/theme';
import type { Chart } from './options';

/** A model's name as people write it: `qwen2.5-3b` → `Qwen2.5-3B`; a folder's name is kept. */
export function modelTitle(model: string): string {
  const m = /^qwen2\.5-(\d+(?:\.\d+)?)b$/i.exec(model);
  return m ? `Qwen2.5-${m[1]}B` : model;
}

/** How a method stands against the cap, in words: "907 MB to spare" or "967 MB over". */
export function headroomText(m: Pick<FitMethod, 'peakBytes' | 'error'>, capBytes: number): string {
  if (m.error) return 'cannot be planned';
  const d = capBytes - m.peakBytes;
  return d >= 0 ? `${mb(d, 0)} to spare` : `${mb(-d, 0)} over`;
}

/** Where a method's step peaks, in words: "layer 35 · workspace l35.dm". */
export function peakWhere(m: FitMethod): string {
  if (!m.peakAt) return '—';
  return `${m.peakAt.part} · ${m.peakAt.category} ${m.peakAt.name}`;
}

const list = (xs: string[]): string => (xs.length <= 1 ? xs.join('') : `${xs.slice(0, -1).join(', ')} and ${xs[xs.length - 1]}`);

/**
 * The plan's verdict in one line: MeSP against the cap first (the method this app is about), then the methods that
 * fit or do not fit with it — full backprop named when it is the one that does not.
 */
export function fitVerdict(fit: FitResult, where = 'this phone'): string {
  const model = modelTitle(fit.model);
  const by = new Map(fit.methods.map((m) => [m.method, m]));
  const mesp = by.get('mesp');
  const others = fit.methods.filter((m) => m.method !== 'mesp' && !m.error);
  const name = (m: FitMethod): string => (m.method === 'mesp' ? 'MeSP' : METHOD_LABEL[m.method].replace(/^Full/, 'full'));
  if (!mesp || mesp.error) {
    const fits = others.filter((m) => m.fits).map(name);
    return fits.length ? `${list(fits)} ${fits.length > 1 ? 'fit' : 'fits'} ${model} on ${where}.` : `No planned method fits ${model} on ${where}.`;
  }
  const not = others.filter((m) => !m.fits);
  const yes = others.filter((m) => m.fits);
  if (mesp.fits) {
    const tail = not.length ? `; ${list(not.map(name))} ${not.length > 1 ? 'do' : 'does'} not (${not.map((m) => headroomText(m, fit.capBytes)).join(', ')})` : '; so does every other method';
    return `MeSP fits ${model} on ${where} with ${headroomText(mesp, fit.capBytes)}${tail}.`;
  }
  const tail = yes.length ? `; ${list(yes.map(name))} ${yes.length > 1 ? 'do' : 'does'}` : '; nor does any other method';
  return `MeSP does not fit ${model} on ${where} (${headroomText(mesp, fit.capBytes)})${tail}. Try fewer tokens, a lower rank or int4 weights.`;
}

/** A planned step's point on the shared axis: % of the step's events. */
const share = (x: number, events: number): number => (events > 1 ? (100 * x) / (events - 1) : 0);

/** Every method's live total over one planned step on one axis, the cap line, and a pin at each peak. */
export function planTimelineChart(fit: FitResult): Chart {
  const rows = fit.methods.filter((m) => !m.error && m.timeline.length);
  const series = rows.map((m) => {
    const data = m.timeline.map((p) => [share(p.x, m.events), totalOf(p.live) / 1e6]);
    const top = m.timeline.reduce((best, p) => (totalOf(p.live) > totalOf(best.live) ? p : best), m.timeline[0]);
    return {
      name: METHOD_LABEL[m.method],
      type: 'line' as const,
      step: 'end' as const,
      showSymbol: false,
      lineStyle: { width: 2, color: METHOD_COLOR[m.method] },
      itemStyle: { color: METHOD_COLOR[m.method] },
      data,
      markPoint: {
        symbol: 'pin',
        symbolSize: 34,
        itemStyle: { color: METHOD_COLOR[m.method] },
        label: { formatter: 'peak', fontSize: 9, color: '#fff' },
        data: [{ name: `${METHOD_LABEL[m.method]} peak`, coord: [share(top.x, m.events), totalOf(top.live) / 1e6] }],
      },
    };
  });
  const dataMax = rows.reduce((mx, m) => Math.max(mx, m.peakBytes), 0);
  // The frozen weights are the same for every method and sit under every line: the axis starts a little below the
  // lowest point (on a round 100 MB) so the methods' differences show; the bars beside it start at 0.
  const lowMB = Math.min(...rows.flatMap((m) => m.timeline.map((p) => totalOf(p.live) / 1e6)));
  const yMin = Number.isFinite(lowMB) ? Math.max(0, Math.floor((lowMB * 0.9) / 100) * 100) : 0;
  const capMB = fit.capBytes / 1e6;
  if (series.length) {
    (series[0] as Record<string, unknown>).markLine = {
      silent: true, symbol: 'none', precision: 6,
      lineStyle: { color: CAP_COLOR, type: 'dashed', width: 2 },
      label: { formatter: `cap ${mb(fit.capBytes)}`, color: CAP_COLOR, position: 'insideEndTop', fontWeight: 600 },
      data: [{ yAxis: capMB }],
    };
  }
  const method = (i: number): FitMethod => rows[i];
  const option: EChartsOption = {
    textStyle: { fontFamily: 'Inter, system-ui, sans-serif' },
    animation: false,
    grid: { left: 64, right: 24, top: 56, bottom: 44 },
    legend: { top: 4, left: 8, itemWidth: 14, textStyle: { color: '#334155', fontSize: 11 } },
    tooltip: {
      trigger: 'axis',
      formatter: (params: unknown) => {
        const ps = params as { seriesIndex: number; value: [number, number]; color: string }[];
        if (!ps.length) return '';
        return `${ps[0].value[0].toFixed(0)} % of the step<br/>` + ps.map((p) => `<span style="color:${p.color}">●</span> ${METHOD_LABEL[method(p.seriesIndex).method]}: ${mb(p.value[1] * 1e6, 2)}`).join('<br/>');
      },
    },
    xAxis: { type: 'value', name: 'share of one training step (ledger events, %)', nameLocation: 'middle', nameGap: 26, min: 0, max: 100, axisLabel: { color: '#475569', fontSize: 11 } },
    yAxis: { type: 'value', name: yMin > 0 ? `MB (from ${yMin.toLocaleString('en-US')})` : 'MB', min: yMin, max: Math.ceil((Math.max(capMB, dataMax / 1e6) * 1.08) / 100) * 100, axisLabel: { color: '#475569', fontSize: 11, hideOverlap: true }, splitLine: { lineStyle: { color: '#eef0f5' } } },
    series,
  };
  return { option, probe: { points: series.reduce((n, s) => n + s.data.length, 0), max: dataMax, cap: fit.capBytes, series: series.map((s) => s.name) } };
}

/** Per method, the row of the peaks table: peak, share of the cap, headroom, and where in the step it happens. */
export function peakRows(fit: FitResult): { method: MethodName; peak: number; share: string; headroom: string; fits: boolean; where: string; error: string | null }[] {
  return fit.methods.map((m) => ({
    method: m.method, peak: m.peakBytes, fits: m.fits, error: m.error, where: peakWhere(m),
    share: m.error ? '—' : `${((100 * m.peakBytes) / fit.capBytes).toFixed(0)} %`, headroom: headroomText(m, fit.capBytes),
  }));
}

/** Several runs' loss curves on one chart (the Runs view's overlay): each run's loss against step, named by its id. */
export function overlayLossChart(runs: { id: string; label: string; steps: { step: number; loss: number }[] }[]): Chart {
  const palette = ['#4f46e5', '#ef4444', '#10b981', '#f97316', '#0ea5e9', '#a855f7', '#64748b', '#eab308'];
  const series = runs.map((r, i) => ({
    name: r.label, type: 'line' as const, showSymbol: r.steps.length < 30, symbolSize: 4,
    lineStyle: { width: 2, color: palette[i % palette.length] }, itemStyle: { color: palette[i % palette.length] },
    data: r.steps.map((s) => [s.step, s.loss]),
  }));
  const all = runs.flatMap((r) => r.steps.map((s) => s.loss)).filter(Number.isFinite);
  return {
    option: {
      textStyle: { fontFamily: 'Inter, system-ui, sans-serif' },
      animation: false,
      grid: { left: 64, right: 24, top: 52, bottom: 44 },
      legend: { type: 'scroll', top: 4, left: 56, right: 8, textStyle: { color: '#334155' } },
      tooltip: { trigger: 'axis', valueFormatter: (v) => (typeof v === 'number' ? v.toFixed(4) : String(v)) },
      xAxis: { type: 'value', name: 'step', nameLocation: 'middle', nameGap: 26, min: 0, minInterval: 1, axisLabel: { color: '#475569', fontSize: 11 } },
      yAxis: { type: 'value', name: 'loss', scale: true, axisLabel: { color: '#475569', fontSize: 11 }, splitLine: { lineStyle: { color: '#eef0f5' } } },
      series,
    },
    probe: { points: series.reduce((n, s) => n + s.data.length, 0), max: all.length ? Math.max(...all) : 0, cap: null, series: series.map((s) => s.name) },
  };
}

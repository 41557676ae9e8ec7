// ECharts options for every chart of the app, as pure functions of plain data (run traces, fit plans, comparisons),
// so the views stay thin and the tests can check what is drawn. Each builder also returns a probe: the number of
// points, the highest value and the cap it is drawn against (the chart component puts these on data-* attributes for
// the e2e tests). Memory is drawn in MB (1e6 bytes, as profiles state budgets). When the cap is far above the data
// (the demo model under a phone's budget), the value axis gets a break so both the data and the cap line are visible.
import type { EChartsOption } from 'echarts';
import type { CategoryName, Comparison, CosineResult, FitResult } from '../../../core/api/contract';
import type { MethodName } from '../../../core/api/train';
import { mb } from '../lib/format';
import { CAP_COLOR, CATEGORIES, CATEGORY_COLOR, CATEGORY_LABEL, METHOD_COLOR, METHOD_LABEL } from '../lib/theme';
import { liveTotal, type RunTrace } from '../lib/trace';

export interface Probe {
  /** Data points drawn (for a bar chart: bars). */
  points: number;
  /** Highest value drawn, in bytes for memory charts. */
  max: number;
  /** The cap line, in bytes (memory charts), or null. */
  cap: number | null;
  series: string[];
}

export interface Chart {
  option: EChartsOption;
  probe: Probe;
}

const MB = 1e6;
const toMB = (b: number): number => b / MB;
// The legend scrolls on one line above the plot and the grid starts below it, so a legend never covers the axis names.
const GRID = { left: 64, right: 24, top: 52, bottom: 44, containLabel: false } as const;
const AXIS_LABEL = { color: '#64748b', fontSize: 11 } as const;
const SPLIT = { lineStyle: { color: '#eef0f5' } } as const;
const TEXT = { fontFamily: 'Inter, system-ui, sans-serif' } as const;

/** A value axis (MB) showing both the data and the cap; breaks the axis when the cap is far above the data. */
export function capAxis(dataMaxBytes: number, capBytes: number | null): { max?: number; breaks?: { start: number; end: number; gap: string }[] } {
  if (capBytes === null || !(capBytes > 0)) return {};
  const d = toMB(Math.max(dataMaxBytes, 0));
  const c = toMB(capBytes);
  if (d <= 0) return { max: c * 1.08 };
  if (c <= d * 3) return { max: Math.max(c, d) * 1.08 };
  // Visual lengths follow value spans: [0, 1.25d] for the data, then a short [c − 0.2d, c + 0.2d] around the cap.
  return { max: c + d * 0.2, breaks: [{ start: d * 1.25, end: c - d * 0.2, gap: '6%' }] };
}

/** Axis labels in MB with a sensible number of digits. */
export function mbLabel(v: number): string {
  const a = Math.abs(v);
  if (a >= 1000) return `${Math.round(v).toLocaleString('en-US')}`;
  if (a >= 100) return v.toFixed(0);
  if (a >= 10) return v.toFixed(1);
  return v.toFixed(2).replace(/\.?0+$/, '') || '0';
}
const MB_AXIS_LABEL = { ...AXIS_LABEL, formatter: mbLabel, hideOverlap: true } as const;

function capLine(capBytes: number | null, label = 'cap'): object | undefined {
  if (capBytes === null) return undefined;
  return {
    silent: true,
    symbol: 'none',
    lineStyle: { color: CAP_COLOR, type: 'dashed', width: 2 },
    label: { formatter: `${label} ${mb(capBytes)}`, color: CAP_COLOR, position: 'insideEndTop', fontWeight: 600 },
    data: [{ yAxis: toMB(capBytes) }],
  };
}

const mbTooltip = (v: unknown): string => (typeof v === 'number' ? `${v.toFixed(2)} MB` : String(v));
const fixed4 = (v: unknown): string => (typeof v === 'number' ? v.toFixed(4) : String(v));
const LEGEND_TOP_RIGHT = { type: 'scroll', top: 4, left: 56, right: 8, itemWidth: 14, textStyle: { color: '#334155' } } as const;

/** A loss chart (a run's loss and validation loss, a comparison's methods): loss against the given x axis. */
function lossOption(xAxis: EChartsOption['xAxis'], series: EChartsOption['series']): EChartsOption {
  return {
    textStyle: TEXT,
    animation: false,
    grid: GRID,
    legend: LEGEND_TOP_RIGHT,
    tooltip: { trigger: 'axis', valueFormatter: fixed4 },
    xAxis,
    yAxis: { type: 'value', name: 'loss', scale: true, axisLabel: AXIS_LABEL, splitLine: SPLIT },
    series,
  };
}

/**
 * A step's memory timeline: live MB against ms since the step began, one stacked area a category. `itemColor` gives
 * each series its category's colour for the legend and tooltip markers too (the run chart; the compare small
 * multiples, without a legend, leave it out as they always have).
 */
function liveAreas(cats: readonly CategoryName[], pts: readonly { ms: number; live: Record<CategoryName, number> }[], itemColor: boolean) {
  return cats.map((c) => ({
    name: CATEGORY_LABEL[c],
    type: 'line' as const,
    stack: 'live',
    step: 'end' as const,
    symbol: 'none',
    lineStyle: { width: 0 },
    areaStyle: { color: CATEGORY_COLOR[c], opacity: 0.85 },
    ...(itemColor ? { itemStyle: { color: CATEGORY_COLOR[c] } } : {}),
    data: pts.map((p) => [p.ms, toMB(p.live[c])]),
  }));
}

// ------------------------------------------------------------------------------------------------ runs

/** The step axis spans the whole run while that keeps the points readable; a long run's axis follows the data. */
function stepAxisMax(t: RunTrace): number | undefined {
  const last = t.steps.length ? t.steps[t.steps.length - 1].step : 0;
  return t.totalSteps <= 100 || t.totalSteps <= 4 * last ? Math.max(1, t.totalSteps) : undefined;
}

/** An exponential moving average of a series (TensorBoard's smoothing): s₀ = x₀, sₖ = w·sₖ₋₁ + (1 − w)·xₖ; w = 0 is the series itself. */
export function ema(xs: readonly number[], w: number): number[] {
  const out: number[] = [];
  let s = Number.NaN;
  for (const x of xs) {
    s = Number.isFinite(s) && Number.isFinite(x) ? w * s + (1 - w) * x : x;
    out.push(s);
  }
  return out;
}

/**
 * A run's loss (raw, faint when smoothed), its EMA at `smoothing`, the validation loss, and the learning rate on a
 * second axis (its schedule: warm-up and decay).
 */
export function lossChart(t: RunTrace, smoothing = 0.6): Chart {
  const loss = t.steps.map((s) => [s.step, s.loss]);
  const smooth = ema(t.steps.map((s) => s.loss), smoothing).map((v, i) => [t.steps[i].step, v]);
  const val = t.val.map((v) => [v.step, v.valLoss]);
  const lr = t.steps.map((s) => [s.step, s.lr]);
  const all = [...t.steps.map((s) => s.loss), ...t.val.map((v) => v.valLoss)].filter(Number.isFinite);
  const option = lossOption(
    { type: 'value', name: 'step', nameLocation: 'middle', nameGap: 26, minInterval: 1, min: 0, max: stepAxisMax(t), axisLabel: AXIS_LABEL, splitLine: SPLIT },
    [
      { name: 'loss', type: 'line', data: loss, showSymbol: loss.length < 40, symbolSize: 5, lineStyle: { width: smoothing > 0 ? 1 : 2, color: '#4f46e5', opacity: smoothing > 0 ? 0.35 : 1 }, itemStyle: { color: '#4f46e5', opacity: smoothing > 0 ? 0.35 : 1 } },
      ...(smoothing > 0 ? [{ name: `loss (EMA ${smoothing})`, type: 'line' as const, data: smooth, showSymbol: false, lineStyle: { width: 2.5, color: '#4338ca' }, itemStyle: { color: '#4338ca' } }] : []),
      { name: 'validation loss', type: 'line', data: val, showSymbol: true, symbolSize: 7, lineStyle: { width: 2, type: 'dashed', color: '#f97316' }, itemStyle: { color: '#f97316' } },
      { name: 'learning rate', type: 'line', yAxisIndex: 1, data: lr, showSymbol: false, lineStyle: { width: 1.5, type: 'dotted', color: '#0d9488' }, itemStyle: { color: '#0d9488' } },
    ],
  );
  option.yAxis = [
    option.yAxis as object,
    { type: 'value', name: 'lr', min: 0, position: 'right', axisLabel: { ...AXIS_LABEL, formatter: (v: number) => v.toExponential(0) }, splitLine: { show: false } },
  ] as EChartsOption['yAxis'];
  option.grid = { ...GRID, right: 56 };
  const series = (option.series as { name: string }[]).map((x) => x.name);
  return { option, probe: { points: loss.length, max: all.length ? Math.max(...all) : 0, cap: null, series } };
}

/** Live bytes by category over one recorded step, stacked, with the cap and the plan's predicted peak. */
export function memoryTimelineChart(t: RunTrace): Chart {
  const pts = t.timeline;
  const dataMax = Math.max(pts.reduce((m, p) => Math.max(m, liveTotal(p.live)), 0), t.predictedPeak ?? 0);
  const series = liveAreas(CATEGORIES, pts, true);
  const cap = capLine(t.capBytes);
  if (cap && series.length) (series[series.length - 1] as Record<string, unknown>).markLine = {
    ...cap,
    data: [
      { yAxis: toMB(t.capBytes!), lineStyle: { color: CAP_COLOR, type: 'dashed', width: 2 }, label: { formatter: `cap ${mb(t.capBytes)}`, color: CAP_COLOR, position: 'insideEndTop', fontWeight: 600 } },
      ...(t.predictedPeak ? [{ yAxis: toMB(t.predictedPeak), lineStyle: { color: '#64748b', type: 'dotted', width: 1.5 }, label: { formatter: `planned peak ${mb(t.predictedPeak)}`, color: '#475569', position: 'insideStartTop' } }] : []),
    ],
  };
  return {
    option: {
      textStyle: TEXT,
      animation: false,
      grid: { ...GRID, top: 56 },
      legend: { type: 'scroll', top: 4, left: 8, right: 8, itemWidth: 12, itemHeight: 10, textStyle: { color: '#334155', fontSize: 11 } },
      tooltip: {
        trigger: 'axis',
        valueFormatter: mbTooltip,
        formatter: (params: unknown) => {
          const list = params as { dataIndex: number; seriesName: string; value: [number, number]; color: string }[];
          if (!list.length) return '';
          const p = pts[list[0].dataIndex];
          const rows = list.map((x) => `<span style="color:${x.color}">●</span> ${x.seriesName}: ${x.value[1].toFixed(2)} MB`).join('<br/>');
          return `<b>${p ? `${p.kind} ${p.name}` : ''}</b><br/>${p ? `${p.ms.toFixed(1)} ms · total ${mb(liveTotal(p.live), 2)}` : ''}<br/>${rows}`;
        },
      },
      xAxis: { type: 'value', name: t.timelineStep ? `ms into step ${t.timelineStep}` : 'ms', nameLocation: 'middle', nameGap: 26, axisLabel: AXIS_LABEL, splitLine: SPLIT },
      yAxis: { type: 'value', name: 'MB', min: 0, ...capAxis(dataMax, t.capBytes), axisLabel: MB_AXIS_LABEL, splitLine: SPLIT },
      series,
    },
    probe: { points: pts.length, max: pts.reduce((m, p) => Math.max(m, liveTotal(p.live)), 0), cap: t.capBytes, series: series.map((s) => s.name) },
  };
}

/** Every step's peak (total and working set) over the run's time, with the cap: memory over the whole run. */
export function stepPeakChart(t: RunTrace): Chart {
  const total = t.steps.map((s) => [s.elapsed, toMB(s.peak)]);
  const ws = t.steps.map((s) => [s.elapsed, toMB(s.workingSet)]);
  const dataMax = t.steps.reduce((m, s) => Math.max(m, s.peak), 0);
  return {
    option: {
      textStyle: TEXT,
      animation: false,
      grid: GRID,
      legend: LEGEND_TOP_RIGHT,
      tooltip: { trigger: 'axis', valueFormatter: mbTooltip },
      xAxis: { type: 'value', name: 'seconds', nameLocation: 'middle', nameGap: 26, min: 0, axisLabel: AXIS_LABEL, splitLine: SPLIT },
      yAxis: { type: 'value', name: 'MB', min: 0, ...capAxis(dataMax, t.capBytes), axisLabel: MB_AXIS_LABEL, splitLine: SPLIT },
      series: [
        { name: 'peak (total)', type: 'line', data: total, showSymbol: total.length < 40, symbolSize: 5, itemStyle: { color: '#4f46e5' }, markLine: capLine(t.capBytes) },
        { name: 'working set at peak', type: 'line', data: ws, showSymbol: ws.length < 40, symbolSize: 4, itemStyle: { color: '#14b8a6' } },
      ],
    },
    probe: { points: total.length, max: dataMax, cap: t.capBytes, series: ['peak (total)', 'working set at peak'] },
  };
}

export function throughputChart(t: RunTrace): Chart {
  const data = t.steps.map((s) => [s.step, s.tokensPerSecond]);
  return {
    option: {
      textStyle: TEXT,
      animation: false,
      grid: GRID,
      tooltip: { trigger: 'axis', valueFormatter: (v) => (typeof v === 'number' ? `${v.toFixed(0)} tok/s` : String(v)) },
      xAxis: { type: 'value', name: 'step', nameLocation: 'middle', nameGap: 26, minInterval: 1, min: 0, max: stepAxisMax(t), axisLabel: AXIS_LABEL, splitLine: SPLIT },
      yAxis: { type: 'value', name: 'tokens/s', min: 0, axisLabel: AXIS_LABEL, splitLine: SPLIT },
      series: [{ name: 'tokens/s', type: 'bar', data, barMaxWidth: 18, itemStyle: { color: '#10b981', borderRadius: [3, 3, 0, 0] } }],
    },
    probe: { points: data.length, max: data.reduce((m, d) => Math.max(m, d[1]), 0), cap: null, series: ['tokens/s'] },
  };
}

// ------------------------------------------------------------------------------------------------ fit and compare

/** Horizontal stacked bars: each method's bytes by category at its peak, against the budget line. */
/** A method the cap refused: the allocation it asked for, and how far over the cap that took it (the bar shows cap + overshoot). */
export interface Refusal {
  tensor: string;
  overshootBytes: number;
  capBytes: number;
}

function peakBars(rows: { method: MethodName; atPeak: Record<CategoryName, number> | null; note?: string; refused?: Refusal | null }[], capBytes: number | null, title: string): Chart {
  const methods = rows.map((r) => METHOD_LABEL[r.method]);
  const totals = rows.map((r) => (r.atPeak ? CATEGORIES.reduce((s, c) => s + r.atPeak![c], 0) : 0));
  const dataMax = Math.max(0, ...totals);
  const series = CATEGORIES.map((c, k) => ({
    name: CATEGORY_LABEL[c],
    type: 'bar' as const,
    stack: 'peak',
    barMaxWidth: 26,
    itemStyle: { color: CATEGORY_COLOR[c] },
    emphasis: { focus: 'series' as const },
    data: rows.map((r) => (r.atPeak ? toMB(r.atPeak[c]) : 0)),
    ...(k === CATEGORIES.length - 1
      ? {
          label: { show: true, position: 'right' as const, formatter: (p: { dataIndex: number }) => (rows[p.dataIndex].atPeak ? `${mb(totals[p.dataIndex], 2)}${rows[p.dataIndex].note ? ` · ${rows[p.dataIndex].note}` : ''}` : rows[p.dataIndex].refused ? '' : rows[p.dataIndex].note ?? ''), color: '#0f172a', fontWeight: 600 as const },
          markLine: capBytes !== null ? { silent: true, symbol: 'none', lineStyle: { color: CAP_COLOR, type: 'dashed' as const, width: 2 }, label: { formatter: `budget ${mb(capBytes)}`, color: CAP_COLOR, fontWeight: 600 as const, position: 'start' as const }, data: [{ xAxis: toMB(capBytes) }] } : undefined,
        }
      : {}),
  }));
  // A refused method is drawn as refused: a hatched-red bar to what it asked for (cap + overshoot), labelled with the tensor.
  const refusedNeed = rows.map((r) => (r.refused ? r.refused.capBytes + r.refused.overshootBytes : 0));
  const anyRefused = refusedNeed.some((x) => x > 0);
  const refusedSeries = anyRefused
    ? [{
        name: 'refused by the cap',
        type: 'bar' as const,
        stack: 'refused',
        barMaxWidth: 26,
        barGap: '-100%',
        itemStyle: { color: 'rgba(220, 38, 38, 0.18)', borderColor: CAP_COLOR, borderType: 'dashed' as const, borderWidth: 1.5 },
        data: refusedNeed.map((b) => (b > 0 ? toMB(b) : null)),
        label: {
          show: true, position: 'insideLeft' as const, color: '#991b1b', fontWeight: 600 as const,
          formatter: (p: { dataIndex: number }) => {
            const r = rows[p.dataIndex].refused;
            return r ? `refused: ${r.tensor}, ${mb(r.overshootBytes, 2)} over` : '';
          },
        },
      }]
    : [];
  const dataMaxAll = Math.max(dataMax, ...refusedNeed);
  const axis = capAxis(dataMaxAll, capBytes);
  return {
    option: {
      textStyle: TEXT,
      animation: false,
      title: title ? { text: title, left: 8, top: 0, textStyle: { fontSize: 12, color: '#475569', fontWeight: 500 } } : undefined,
      grid: { left: 110, right: 150, top: 56, bottom: 36 },
      legend: { top: title ? 22 : 4, left: 8, itemWidth: 12, itemHeight: 10, textStyle: { color: '#334155', fontSize: 11 } },
      tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' }, valueFormatter: mbTooltip },
      xAxis: { type: 'value', name: 'MB', min: 0, ...axis, axisLabel: MB_AXIS_LABEL, splitLine: SPLIT },
      yAxis: { type: 'category', data: methods, inverse: true, axisLabel: { color: '#0f172a', fontWeight: 600 } },
      series: [...series, ...refusedSeries],
    },
    probe: { points: rows.filter((r) => r.atPeak || r.refused).length, max: dataMax, cap: capBytes, series: methods },
  };
}

export function fitChart(fit: FitResult): Chart {
  return peakBars(
    fit.methods.map((m) => ({ method: m.method, atPeak: m.error ? null : m.atPeak, note: m.error ? 'cannot plan' : m.fits ? 'fits' : 'over budget' })),
    fit.capBytes,
    '',
  );
}

/** The cap's refusal of a compared method, or null. */
export function refusalOf(m: Comparison['methods'][number]): Refusal | null {
  const b = m.error?.budget;
  return b ? { tensor: `${b.request.category} ${b.request.name}`, overshootBytes: b.overshootBytes, capBytes: b.capBytes } : null;
}

export function comparePeakChart(c: Comparison): Chart {
  return peakBars(
    c.methods.map((m) => {
      const refused = refusalOf(m);
      // a refused method's bar is its refusal (not the split of a step that never completed)
      return { method: m.method, atPeak: refused ? null : m.atPeak, refused, note: m.status === 'failed' && !refused ? 'failed' : undefined };
    }),
    c.capBytes,
    '',
  );
}

/** One method's one-step timeline (stacked by category) on a shared scale, for side-by-side small multiples. */
export function compareTimelineChart(c: Comparison, method: MethodName, scaleMaxBytes: number, withWeights = true): Chart {
  const m = c.methods.find((x) => x.method === method);
  const pts = m?.timeline ?? [];
  const series = liveAreas(CATEGORIES.filter((cat) => withWeights || cat !== 'weights'), pts, false);
  const max = pts.reduce((mx, p) => Math.max(mx, liveTotal(p.live) - (withWeights ? 0 : p.live.weights)), 0);
  return {
    option: {
      textStyle: TEXT,
      animation: false,
      title: { text: METHOD_LABEL[method], left: 6, top: 0, textStyle: { fontSize: 12, color: METHOD_COLOR[method], fontWeight: 700 } },
      grid: { left: 52, right: 12, top: 28, bottom: 30 },
      tooltip: { trigger: 'axis', valueFormatter: mbTooltip },
      xAxis: { type: 'value', name: 'ms', nameLocation: 'middle', nameGap: 20, axisLabel: AXIS_LABEL, splitLine: SPLIT },
      yAxis: { type: 'value', min: 0, max: toMB(scaleMaxBytes) * 1.08 || undefined, axisLabel: MB_AXIS_LABEL, splitLine: SPLIT },
      series,
    },
    probe: { points: pts.length, max, cap: c.capBytes, series: series.map((s) => s.name) },
  };
}

/** Full backprop, MeBP and MeSP compute the same gradients, so their curves coincide: wider lines underneath keep all visible. */
const LOSS_WIDTH: Record<MethodName, number> = { full: 7, mebp: 4.5, mesp: 2, mezo: 2 };

export function compareLossChart(c: Comparison, x: 'step' | 'time'): Chart {
  const series = c.methods.map((m) => ({
    name: METHOD_LABEL[m.method],
    type: 'line' as const,
    showSymbol: m.loss.length < 30,
    symbolSize: 5,
    lineStyle: { width: LOSS_WIDTH[m.method], color: METHOD_COLOR[m.method], opacity: m.method === 'full' ? 0.45 : m.method === 'mebp' ? 0.7 : 1 },
    itemStyle: { color: METHOD_COLOR[m.method] },
    data: m.loss.map((p) => [x === 'step' ? p.step : p.seconds, p.loss]),
  }));
  const pts = series.reduce((n, s) => n + s.data.length, 0);
  return {
    option: lossOption(
      { type: 'value', name: x === 'step' ? 'step' : 'seconds', nameLocation: 'middle', nameGap: 26, min: 0, minInterval: x === 'step' ? 1 : undefined, axisLabel: AXIS_LABEL, splitLine: SPLIT },
      series,
    ),
    probe: { points: pts, max: 0, cap: null, series: series.map((s) => s.name) },
  };
}

export function stepTimeChart(c: Comparison): Chart {
  const rows = c.methods.filter((m) => m.stepSeconds !== null);
  return {
    option: {
      textStyle: TEXT,
      animation: false,
      grid: { left: 110, right: 90, top: 16, bottom: 36 },
      tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' }, valueFormatter: (v) => (typeof v === 'number' ? `${(v * 1000).toFixed(1)} ms` : String(v)) },
      xAxis: { type: 'value', name: 'seconds per step (median)', nameLocation: 'middle', nameGap: 24, min: 0, axisLabel: AXIS_LABEL, splitLine: SPLIT },
      yAxis: { type: 'category', inverse: true, data: rows.map((m) => METHOD_LABEL[m.method]), axisLabel: { color: '#0f172a', fontWeight: 600 } },
      series: [{
        type: 'bar', barMaxWidth: 22,
        data: rows.map((m) => ({ value: m.stepSeconds, itemStyle: { color: METHOD_COLOR[m.method], borderRadius: [0, 3, 3, 0] } })),
        label: { show: true, position: 'right', formatter: (p: { value: unknown }) => `${((p.value as number) * 1000).toFixed(1)} ms`, color: '#0f172a' },
      }],
    },
    probe: { points: rows.length, max: rows.reduce((m, r) => Math.max(m, r.stepSeconds ?? 0), 0), cap: null, series: rows.map((m) => METHOD_LABEL[m.method]) },
  };
}

export function cosineChart(cos: CosineResult): Chart {
  return {
    option: {
      textStyle: TEXT,
      animation: false,
      grid: { left: 56, right: 16, top: 24, bottom: 36 },
      tooltip: { trigger: 'axis', valueFormatter: fixed4 },
      xAxis: { type: 'category', name: 'direction z', nameLocation: 'middle', nameGap: 24, data: cos.samples.map((_, i) => `${i + 1}`), axisLabel: AXIS_LABEL },
      yAxis: { type: 'value', name: 'cosine', axisLabel: AXIS_LABEL, splitLine: SPLIT },
      series: [{
        type: 'bar', barMaxWidth: 18, data: cos.samples, itemStyle: { color: METHOD_COLOR.mezo },
        markLine: {
          silent: true, symbol: 'none', precision: 6,
          data: [
            { yAxis: cos.randomBaseline, lineStyle: { color: '#64748b', type: 'dotted' }, label: { formatter: `random direction ${cos.randomBaseline.toFixed(4)}`, color: '#475569', position: 'insideEndTop' } },
          ],
        },
      }],
    },
    probe: { points: cos.samples.length, max: cos.samples.reduce((m, x) => Math.max(m, Math.abs(x)), 0), cap: null, series: ['cosine'] },
  };
}

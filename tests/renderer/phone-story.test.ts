// The phone story's words and pictures without the DOM (renderer/src/charts/plan.ts, options.ts): the fit verdict in
// one line for each case, the shared-axis timeline (its peak pinned where the plan's peak is, the cap line), the EMA
// and learning-rate series of the loss chart, a refused method drawn as refused in Compare's bars, and MeZO's
// random-direction line at its exact value (markLine precision).
import { describe, expect, it } from 'vitest';
import type { Comparison, FitMethod, FitResult } from '../../core/api/contract';
import { comparePeakChart, cosineChart, ema, lossChart } from '../../renderer/src/charts/options';
import { fitVerdict, modelTitle, overlayLossChart, planTimelineChart } from '../../renderer/src/charts/plan';
import { traceOf } from '../../renderer/src/lib/trace';
import { live } from './fake';

/** Bytes by category adding up to `total` (fake.ts's live() adds 3800 bytes beside the weights). */
const at = (total: number) => live(total - 3800);

const method = (m: FitMethod['method'], peak: number, cap: number): FitMethod => ({
  method: m, peakBytes: peak, atPeak: at(peak), peakByCategory: at(peak), workingSetBytes: 1, fits: peak <= cap, error: null,
  peakAt: { category: 'workspace', name: 'l35.dm', layer: 35, part: 'layer 35' }, events: 5, projections: [],
  timeline: [0, 1, 2, 3, 4].map((x) => ({ x, live: at(x === 3 ? peak : peak / 2) })),
});
const fit = (peaks: Partial<Record<FitMethod['method'], number>>, cap = 2.8e9): FitResult => ({
  model: 'qwen2.5-3b', capBytes: cap, profileId: 'phone-6gb', seqLen: 256,
  methods: Object.entries(peaks).map(([m, p]) => method(m as FitMethod['method'], p!, cap)),
});

describe('will it fit, in one line', () => {
  it('says MeSP fits with its headroom and names full backprop when it does not', () => {
    expect(modelTitle('qwen2.5-0.5b')).toBe('Qwen2.5-0.5B');
    expect(fitVerdict(fit({ full: 3.767e9, mesp: 1.893e9 }))).toBe('MeSP fits Qwen2.5-3B on this phone with 907 MB to spare; full backprop does not (967 MB over).');
    expect(fitVerdict(fit({ full: 2e9, mesp: 1.8e9 }))).toBe('MeSP fits Qwen2.5-3B on this phone with 1.00 GB to spare; so does every other method.');
    expect(fitVerdict(fit({ full: 4e9, mesp: 3e9, mezo: 2e9 }))).toMatch(/^MeSP does not fit Qwen2\.5-3B on this phone \(200 MB over\); MeZO does\. Try/);
  });

  it('draws every method on one axis with the cap line, each peak pinned at the plan\'s peak', () => {
    const c = planTimelineChart(fit({ full: 3.767e9, mesp: 1.893e9 }));
    expect(c.probe).toMatchObject({ points: 10, cap: 2.8e9, series: ['Full backprop', 'MeSP'], max: 3.767e9 });
    const series = c.option.series as { markPoint: { data: { coord: [number, number] }[] }; markLine?: { precision: number; data: { yAxis: number }[] } }[];
    expect(series[0].markPoint.data[0].coord).toEqual([75, 3767]); // event 3 of 5 = 75 % of the step
    expect(series[1].markPoint.data[0].coord).toEqual([75, 1893]);
    expect(series[0].markLine!.data[0].yAxis).toBe(2800);
  });
});

describe('loss, compare and cosine charts', () => {
  it('smooths the loss with an EMA and draws the learning rate on its own axis', () => {
    expect(ema([1, 0, 0], 0.5)).toEqual([1, 0.5, 0.25]);
    expect(ema([1, 2], 0)).toEqual([1, 2]);
    const steps = [1, 2, 3].map((k) => ({ t: k, type: 'step' as const, step: k, steps: 3, loss: 4 - k, lr: [1e-4, 2e-4, 3e-4][k - 1], tokens: 1, tokensPerSecond: 1, stepSeconds: 1, peakBytes: { ...live(1), total: 1 }, workingSetBytes: 1, elapsedSeconds: k, etaSeconds: 0 }));
    const c = lossChart(traceOf('r', steps, null), 0.5);
    expect(c.probe.series).toEqual(['loss', 'loss (EMA 0.5)', 'validation loss', 'learning rate']);
    const s = c.option.series as { name: string; data: number[][]; yAxisIndex?: number }[];
    expect(s[1].data.map((d) => d[1])).toEqual([3, 2.5, 1.75]);
    expect(s[3].yAxisIndex).toBe(1);
    expect(s[3].data.map((d) => d[1])).toEqual([1e-4, 2e-4, 3e-4]);
  });

  it('draws a method the cap refused as refused, with its tensor and overshoot, not as 0 MB', () => {
    const base = { status: 'done' as const, runDir: '', predictedPeakBytes: 1, workingSetBytes: 1, timeline: [], loss: [], stepSeconds: 0.1, tokensPerSecond: 1, error: null };
    const cmp: Comparison = {
      version: 1, id: 'c', name: 'c', createdAt: '', status: 'done', profileId: 'p', capBytes: 5e6, modelName: 'm', cosine: null, error: null, settings: {} as never,
      methods: [
        { ...base, method: 'full', status: 'failed', peakBytes: null, atPeak: null, error: { code: 'budget', message: 'over', budget: { request: { category: 'activations', name: 'l1.attn', bytes: 2e6 }, liveByCategory: {}, capBytes: 5e6, overshootBytes: 1.2e6 } } as never },
        { ...base, method: 'mesp', peakBytes: 4e6, atPeak: live(4e6) },
      ],
    };
    const c = comparePeakChart(cmp);
    expect(c.probe.points).toBe(2);
    const series = c.option.series as { name: string; data: (number | null)[]; label?: { formatter: (p: { dataIndex: number }) => string } }[];
    const refused = series.find((s) => s.name === 'refused by the cap')!;
    expect(refused.data).toEqual([6.2, null]); // cap + overshoot, in MB
    expect(refused.label!.formatter({ dataIndex: 0 })).toBe('refused: activations l1.attn, 1.20 MB over');
    const totals = series[series.length - 2].label!.formatter;
    expect(totals({ dataIndex: 0 })).toBe(''); // no "0.00 MB" for the refused method
    expect(totals({ dataIndex: 1 })).toBe('4.00 MB');
  });

  it('puts MeZO\'s random-direction line at its value, not rounded to 2 decimals', () => {
    const c = cosineChart({ exactMethod: 'mesp', samples: [0.01, 0.002], mean: 0.006, meanAbs: 0.006, randomBaseline: 0.0012345, parameters: 1000, error: null } as never);
    const ml = (c.option.series as { markLine: { precision: number; data: { yAxis: number; label: { formatter: string } }[] } }[])[0].markLine;
    expect(ml.precision).toBeGreaterThanOrEqual(6);
    expect(ml.data[0].yAxis).toBe(0.0012345);
    expect(ml.data[0].label.formatter).toBe('random direction 0.0012');
  });

  it('overlays several runs\' loss curves', () => {
    const c = overlayLossChart([{ id: 'a', label: 'a (MeSP)', steps: [{ step: 1, loss: 2 }] }, { id: 'b', label: 'b', steps: [{ step: 1, loss: 3 }, { step: 2, loss: 1 }] }]);
    expect(c.probe).toMatchObject({ points: 3, max: 3, series: ['a (MeSP)', 'b'] });
  });
});

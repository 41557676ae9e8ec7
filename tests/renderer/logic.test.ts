// The views' logic without the DOM: profile drafts and their validation, training-setting checks, the trace fold
// (including a resume), the budget report the Train view shows, the chart builders' probes (what the e2e tests read),
// and upload encoding.
import { createPinia, setActivePinia } from 'pinia';
import { beforeEach, describe, expect, it } from 'vitest';
import { setClient } from '../../renderer/src/api';
import { capAxis, comparePeakChart, fitChart, lossChart, memoryTimelineChart, stepPeakChart } from '../../renderer/src/charts/options';
import { draftFrom, draftIssues, profileFrom } from '../../renderer/src/composables/useDevices';
import { toBase64 } from '../../renderer/src/composables/useFilePicker';
import { specOf } from '../../renderer/src/composables/useSelection';
import { useTrain } from '../../renderer/src/composables/useTrain';
import { overwriteDecision } from '../../renderer/src/composables/useExport';
import { applyEvent, emptyTrace, maxMemory, progressOf, traceOf } from '../../renderer/src/lib/trace';
import { defaultSettings, useRunsStore } from '../../renderer/src/stores/runs';
import type { RunEvent } from '../../core/api/train';
import { PROFILES, fakeClient, live } from './fake';

beforeEach(() => setActivePinia(createPinia()));

const step = (k: number, peak = 3.5e6): RunEvent => ({
  t: k, type: 'step', step: k, steps: 10, loss: 7 - k / 10, lr: 1e-3, tokens: 10, tokensPerSecond: 400, stepSeconds: 0.05,
  peakBytes: { ...live(peak - 3800), total: peak }, workingSetBytes: 3800, elapsedSeconds: k * 0.05, etaSeconds: (10 - k) * 0.05,
});
const start = (startStep: number): RunEvent => ({ t: 0, type: 'start', runDir: '/r', totalSteps: 10, startStep, method: 'mesp', adapter: 'llvmpipe', predictedPeakBytes: 3.6e6 });

describe('profile drafts', () => {
  const six = PROFILES.find((p) => p.profile.id === 'phone-6gb')!.profile;

  it('round-trips a profile through the form units (MiB, KiB, TFLOP/s)', () => {
    const d = draftFrom(six, false);
    expect(d.bindingMiB).toBe(128);
    expect(d.tflopsF32).toBeCloseTo(0.3);
    expect(profileFrom(d)).toEqual(six);
  });

  it('a copy gets its own id; validation names the field and the fix', () => {
    const d = draftFrom(six, true);
    expect(d.id).toBe('phone-6gb-custom');
    expect(draftIssues(d, ['phone-6gb'])).toEqual([]);
    d.appBudgetMB = 7000; // more than 6 GB of RAM
    d.bindingMiB = 64; // below the WebGPU minimum
    const issues = draftIssues(d, ['phone-6gb']);
    expect(issues.find((i) => i.field === 'appBudgetMB')?.message).toMatch(/below the RAM/);
    expect(issues.find((i) => i.field === 'bindingMiB')?.message).toMatch(/WebGPU minimum/);
    d.id = 'phone-6gb';
    expect(draftIssues({ ...d, appBudgetMB: 2000, bindingMiB: 128 }, ['phone-6gb'])).toEqual([{ field: 'id', message: expect.stringMatching(/built-in/) }]);
  });
});

describe('training settings', () => {
  it('the defaults are the TrainSpec\'s and valid; bad values are the schema\'s issues, named by their labels', () => {
    expect(specOf(defaultSettings())).toMatchObject({ issues: [], spec: { method: 'mesp', seqLen: 256, rank: 8, targets: ['q', 'v'] } });
    const bad = { ...defaultSettings(), rank: 0, targets: [], lr: 0, capBytes: -1 };
    const { spec, issues } = specOf(bad);
    expect(spec).toBeNull();
    expect(issues.map((i) => i.field)).toEqual(['rank', 'targets', 'lr', 'capBytes']);
    expect(issues.find((i) => i.field === 'rank')?.message).toBe('LoRA rank must be ≥ 1');
    expect(issues.find((i) => i.field === 'targets')?.message).toBe('LoRA on needs at least 1 item');
    expect(specOf({ ...defaultSettings(), seqLen: 100000 }).issues).toEqual([{ field: 'seqLen', message: 'Sequence length must be ≤ 32768' }]);
    expect(specOf({ ...defaultSettings(), steps: 10, epochs: 2 }).issues).toEqual([{ field: 'epochs', message: 'give Epochs or Steps, not both' }]);
  });

  it('an emptied field takes the spec\'s default, or is off', () => {
    // A number input that was cleared holds ''.
    const { spec, issues } = specOf({ ...defaultSettings(), capBytes: '', seqLen: '', clipNorm: '' });
    expect(issues).toEqual([]);
    expect(spec).toMatchObject({ seqLen: 256, clipNorm: null });
    expect(spec!.capBytes).toBeUndefined();
  });
});

describe('run traces', () => {
  it('folds events; a resume drops the steps after its checkpoint', () => {
    const t = traceOf('r', [start(0), step(1), step(2), step(3), { t: 4, type: 'checkpoint', step: 2, path: '/c2' }], 3e9);
    expect(progressOf(t)).toBeCloseTo(0.3);
    applyEvent(t, start(2));
    expect(t.steps.map((s) => s.step)).toEqual([1, 2]);
    expect(t.startStep).toBe(2);
    expect(maxMemory(t)).toBe(3.5e6);
  });
});

describe('charts', () => {
  it('loss chart gains a point per step; memory charts report their highest value and the cap', () => {
    const t = emptyTrace('r', 2.8e9);
    applyEvent(t, start(0));
    applyEvent(t, step(1));
    applyEvent(t, step(2, 3.7e6));
    applyEvent(t, { t: 3, type: 'timeline', step: 2, points: [{ ms: 5, seq: 1, name: 'x', kind: 'alloc', live: live(3e6) }, { ms: 6, seq: 2, name: 'y', kind: 'free', live: live(2.9e6) }] });
    expect(lossChart(t).probe.points).toBe(2);
    const mem = memoryTimelineChart(t);
    expect(mem.probe).toMatchObject({ points: 2, cap: 2.8e9 });
    expect(mem.probe.max).toBe(3e6 + 3800);
    expect(stepPeakChart(t).probe).toMatchObject({ points: 2, max: 3.7e6, cap: 2.8e9 });
  });

  it('breaks the value axis when the cap is far above the data, so both show', () => {
    expect(capAxis(3e6, 2.8e9)).toEqual({ max: 2800 + 0.6, breaks: [{ start: 3.75, end: 2800 - 0.6, gap: '6%' }] });
    expect(capAxis(3e6, 4e6).breaks).toBeUndefined();
    expect(capAxis(3e6, null)).toEqual({});
  });

  it('fit and compare bars: one bar per method, stacked by category, against the budget', () => {
    const fit = fitChart({
      model: 'qwen2-demo', capBytes: 3e6, profileId: 'p', seqLen: 76,
      methods: [
        { method: 'full', peakBytes: 6e6, atPeak: live(6e6 - 3800), peakByCategory: live(6e6), workingSetBytes: 1, fits: false, error: null, peakAt: null, timeline: [], events: 0, projections: [] },
        { method: 'mesp', peakBytes: 2e6, atPeak: live(2e6 - 3800), peakByCategory: live(2e6), workingSetBytes: 1, fits: true, error: null, peakAt: null, timeline: [], events: 0, projections: [] },
      ],
    });
    expect(fit.probe).toMatchObject({ points: 2, cap: 3e6, series: ['Full backprop', 'MeSP'] });
    const cmp = comparePeakChart({
      version: 1, id: 'c', name: 'c', createdAt: '', status: 'done', profileId: 'p', capBytes: 3e6, modelName: 'm', cosine: null, error: null,
      settings: {} as never,
      methods: [
        { method: 'mesp', status: 'done', runDir: '', predictedPeakBytes: 1, peakBytes: 2e6, atPeak: live(1e6), workingSetBytes: 1, timeline: [], loss: [], stepSeconds: 0.1, tokensPerSecond: 1, error: null },
        { method: 'mebp', status: 'done', runDir: '', predictedPeakBytes: 1, peakBytes: 2e6, atPeak: live(1.1e6), workingSetBytes: 1, timeline: [], loss: [], stepSeconds: 0.1, tokensPerSecond: 1, error: null },
      ],
    });
    expect(cmp.probe.points).toBe(2);
  });
});

describe('useTrain', () => {
  it('turns a refused allocation into a report: the tensor, the overshoot, a cap that would fit, the last checkpoint', () => {
    setClient(fakeClient({}));
    const runs = useRunsStore();
    runs.activeRunId = 'r';
    runs.traces.r = traceOf('r', [
      start(0), step(1), { t: 2, type: 'checkpoint', step: 1, path: '/r/checkpoints/step-0000001' },
      { t: 3, type: 'error', step: 1, code: 'OUT_OF_BUDGET', message: 'Out of memory budget', lastCheckpoint: '/r/checkpoints/step-0000001',
        budget: { request: { name: 'layer2.attn.probs', category: 'activations', bytes: 65536 }, liveByCategory: { weights: 2.9e6, activations: 50_000 }, capBytes: 3e6, overshootBytes: 15_536 } },
    ], 3e6);
    runs.statuses.r = 'failed';
    const t = useTrain();
    expect(t.live.value).toBe(false);
    const b = t.budget.value!;
    expect(b.tensor).toBe('activations:layer2.attn.probs');
    expect(b.overshootBytes).toBe(15_536);
    expect(b.lastCheckpointStep).toBe(1);
    expect(b.suggestedCapMB).toBe(Math.ceil((3e6 + 15_536) * 1.25 / 1e6));
    expect(b.live.map((l) => l.label)).toEqual(['Weights', 'Activations']);
  });

  it('cannot start until a profile, a model and a dataset are chosen', () => {
    setClient(fakeClient({}));
    const t = useTrain();
    expect(t.canStart.value).toBe(false);
    expect(t.blocker.value).toMatch(/device profile/);
  });
});

describe('uploads', () => {
  it('base64-encodes large files in chunks', () => {
    const bytes = new Uint8Array(100_000).map((_, i) => i % 251);
    expect(toBase64(bytes)).toBe(Buffer.from(bytes).toString('base64'));
  });
});

describe('export: never overwrite without asking', () => {
  it('asks when files are in the way and the box is not ticked; a "no" writes nothing', () => {
    const asked: string[] = [];
    const yes = (m: string): boolean => (asked.push(m), true);
    const no = (m: string): boolean => (asked.push(m), false);
    expect(overwriteDecision([], false, '/out', no)).toBe(false);
    expect(overwriteDecision(['a.gguf'], true, '/out', no)).toBe(true);
    expect(asked).toEqual([]);
    expect(overwriteDecision(['peft/adapter_config.json', 'gguf/adapter.gguf'], false, '/out', no)).toBeNull();
    expect(overwriteDecision(['gguf/adapter.gguf'], false, '/out', yes)).toBe(true);
    expect(asked[0]).toMatch(/2 file\(s\) already exist in \/out \(peft\/adapter_config\.json, gguf\/adapter\.gguf\)\. Replace them\?/);
  });
});

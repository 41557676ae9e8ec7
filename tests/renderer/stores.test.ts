// Store tests with a fresh Pinia each: the runs store folds live events into traces and follows the run it started,
// the compare store updates the shown comparison as methods train, the profiles store remembers the choice and saves
// copies, the app store routes service events.
import { createPinia, setActivePinia } from 'pinia';
import { beforeEach, describe, expect, it } from 'vitest';
import { setClient } from '../../renderer/src/api';
import { useAppStore } from '../../renderer/src/stores/app';
import { useCompareStore } from '../../renderer/src/stores/compare';
import { useProfilesStore } from '../../renderer/src/stores/profiles';
import { useRunsStore } from '../../renderer/src/stores/runs';
import { CompareSettingsSchema, type Comparison } from '../../core/api/contract';
import { PROFILES, fakeClient, live } from './fake';

beforeEach(() => {
  setActivePinia(createPinia());
  localStorage.clear();
});

const stepEvent = (step: number, loss: number) => ({
  t: 1, type: 'step' as const, step, steps: 3, loss, lr: 1e-3, tokens: 10, tokensPerSecond: 500, stepSeconds: 0.05,
  peakBytes: { ...live(3e6), total: 3e6 + 3800 }, workingSetBytes: 3800, elapsedSeconds: step * 0.05, etaSeconds: (3 - step) * 0.05,
});

describe('runs store', () => {
  it('starts a run, follows it, and folds its events into a trace with the cap', async () => {
    const client = fakeClient({ 'runs.start': () => ({ runId: 'r1', runDir: '/runs/r1' }), 'runs.list': () => ({ runs: [] }) });
    setClient(client);
    const runs = useRunsStore();
    // An event can arrive before the runs.start answer: it is kept under its run id.
    runs.onEvent({ type: 'run', runId: 'r1', event: { t: 0, type: 'start', runDir: '/runs/r1', totalSteps: 3, startStep: 0, method: 'mesp', adapter: 'llvmpipe', predictedPeakBytes: 3.9e6 } });
    await runs.start({ modelDir: '/m', dataPath: '/d.jsonl', profile: 'phone-6gb', method: 'mesp' }, 2.8e9);
    expect(runs.activeRunId).toBe('r1');
    expect(client.calls[0]).toMatchObject({ method: 'runs.start', params: { method: 'mesp', profile: 'phone-6gb' } });
    runs.onEvent({ type: 'run', runId: 'r1', event: stepEvent(1, 7.0) });
    runs.onEvent({ type: 'run', runId: 'r1', event: stepEvent(2, 6.8) });
    runs.onEvent({ type: 'run', runId: 'r1', event: { t: 2, type: 'timeline', step: 2, points: [{ ms: 10, seq: 1, name: 'a', kind: 'alloc', live: live(3e6) }, { ms: 12, seq: 2, name: 'b', kind: 'free', live: live(3e6) }] } });
    runs.onEvent({ type: 'run', runId: 'r1', event: { t: 3, type: 'val', step: 2, valLoss: 6.9, tokens: 40 } });
    const t = runs.traces.r1;
    expect(t.capBytes).toBe(2.8e9);
    expect(t.predictedPeak).toBe(3.9e6);
    expect(t.steps.map((s) => s.loss)).toEqual([7.0, 6.8]);
    expect(t.val).toEqual([{ step: 2, valLoss: 6.9 }]);
    expect(t.timeline.map((p) => p.ms)).toEqual([0, 2]); // relative to the step's start
    runs.onEvent({ type: 'run.status', runId: 'r1', status: 'paused' });
    expect(runs.statuses.r1).toBe('paused');
  });

  it('keeps the budget report of a refused allocation', () => {
    setClient(fakeClient({ 'runs.list': () => ({ runs: [] }) }));
    const runs = useRunsStore();
    runs.onEvent({
      type: 'run', runId: 'r2',
      event: { t: 0, type: 'error', step: 0, code: 'OUT_OF_BUDGET', message: 'Out of memory budget: …', lastCheckpoint: null,
        budget: { request: { name: 'layer0.mlp.up', category: 'activations', bytes: 40000 }, liveByCategory: { weights: 2.9e6 }, capBytes: 3e6, overshootBytes: 12345 } },
    });
    expect(runs.traces.r2.error?.budget?.overshootBytes).toBe(12345);
  });

  it('resuming a run with a larger cap follows it with that cap', async () => {
    const client = fakeClient({ 'runs.resume': (p) => ({ runId: p.runId, status: 'running' }) });
    setClient(client);
    const runs = useRunsStore();
    await runs.resume('r3', 8_000_000);
    expect(client.calls[0]).toEqual({ method: 'runs.resume', params: { runId: 'r3', capBytes: 8_000_000 } });
    expect(runs.activeRunId).toBe('r3');
    expect(runs.traces.r3.capBytes).toBe(8_000_000);
  });
});

describe('compare store', () => {
  const cmp = (): Comparison => ({
    version: 1, id: 'c1', name: 'mesp vs mebp', createdAt: '2026-11-29T00:00:00Z', status: 'running',
    settings: CompareSettingsSchema.parse({ modelDir: '/m', dataPath: '/d', profile: 'phone-6gb', seqLen: 128, steps: 2, methods: ['mesp', 'mebp'] }),
    profileId: 'phone-6gb', capBytes: 2.8e9, modelName: 'qwen2-demo',
    methods: (['mesp', 'mebp'] as const).map((m) => ({ method: m, status: 'pending' as const, runDir: `/c/${m}`, predictedPeakBytes: null, peakBytes: null, atPeak: null, workingSetBytes: null, timeline: [], loss: [], stepSeconds: null, tokensPerSecond: null, error: null })),
    cosine: null, error: null,
  });

  it('updates the shown comparison live and settles on done', async () => {
    setClient(fakeClient({ 'compare.list': () => ({ comparisons: [] }) }));
    const store = useCompareStore();
    store.onEvent({ type: 'compare', compareId: 'c1', event: { type: 'start', comparison: cmp() } });
    expect(store.activeId).toBe('c1');
    store.onEvent({ type: 'compare', compareId: 'c1', event: { type: 'method-start', method: 'mesp', index: 0 } });
    store.onEvent({ type: 'compare', compareId: 'c1', event: { type: 'run', method: 'mesp', event: stepEvent(1, 7) } });
    expect(store.current!.methods[0].status).toBe('running');
    expect(store.current!.methods[0].loss).toEqual([{ step: 1, loss: 7, seconds: 0.05 }]);
    expect(store.current!.methods[0].peakBytes).toBe(3e6 + 3800);
    const done = { ...cmp(), status: 'done' as const };
    store.onEvent({ type: 'compare', compareId: 'c1', event: { type: 'done', comparison: done } });
    expect(store.activeId).toBeNull();
    expect(store.current!.status).toBe('done');
  });

  it('ignores events of another comparison', () => {
    setClient(fakeClient({}));
    const store = useCompareStore();
    store.onEvent({ type: 'compare', compareId: 'c1', event: { type: 'start', comparison: cmp() } });
    store.onEvent({ type: 'compare', compareId: 'other', event: { type: 'method-start', method: 'mesp', index: 0 } });
    expect(store.current!.methods[0].status).toBe('pending');
  });
});

describe('profiles store', () => {
  it('loads the profiles, remembers the chosen one, and saves a copy', async () => {
    const saved: unknown[] = [];
    const client = fakeClient({
      'profiles.list': () => ({ profiles: [...PROFILES, ...saved.map((p) => ({ profile: p, source: 'user', path: '/p.json', capBytes: 1e9 }))] }),
      'profiles.save': (p) => {
        saved.push(p.profile);
        return { entry: { profile: p.profile, source: 'user', path: '/p.json', capBytes: 1e9 } };
      },
    });
    setClient(client);
    const store = useProfilesStore();
    await store.load();
    expect(store.selectedId).toBe('phone-8gb');
    store.select('phone-6gb');
    expect(store.capBytes).toBe(2.8e9);
    expect(localStorage.getItem('mesp.profile')).toBe('phone-6gb');
    const copy = { ...PROFILES[0].profile, id: 'phone-6gb-custom', appBudgetMB: 1000 };
    await store.save(copy);
    expect(store.selectedId).toBe('phone-6gb-custom');
    expect(store.entries.some((e) => e.source === 'user')).toBe(true);
  });
});

describe('app store', () => {
  it('routes events: run events to runs, a service drop to the connection state', async () => {
    const client = fakeClient({ 'app.info': () => { throw new Error('unreachable'); } });
    setClient(client);
    const app = useAppStore();
    await app.init();
    expect(app.connection).toBe('down');
    expect(app.error).toMatch(/Cannot reach the MeSP service/);
    client.emit({ type: 'run', runId: 'x', event: stepEvent(1, 7) });
    expect(useRunsStore().traces.x.steps).toHaveLength(1);
    client.emit({ type: 'service', state: 'down', message: 'lost the connection' });
    expect(app.notice).toBe('lost the connection');
  });
});

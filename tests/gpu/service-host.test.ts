// The app's service on the real engine (Dawn + lavapipe, the demo model): a run streams its events and finishes;
// pause holds it between steps, resume continues, stop writes a checkpoint, and a stopped run resumes from disk at
// that checkpoint; a cap too small fails the run with the budget report (tensor, overshoot) while the service stays
// up; one GPU job at a time; a comparison runs its methods one after another, saves them with their timelines, and
// measures MeZO's gradient cosine against the exact gradient.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ServiceEvent } from '../../core/api/contract';
import type { RunEvent } from '../../core/api/train';
import { ServiceHost } from '../../core/node/service/host';

let host: ServiceHost;
let demo: { modelDir: string; dataPath: string };
const events: ServiceEvent[] = [];

beforeAll(async () => {
  host = new ServiceHost({ dataDir: mkdtempSync(join(tmpdir(), 'mesp-svc-')), mode: 'test' });
  host.onEvent((e) => events.push(e));
  demo = (await host.call('app.info', {})).demo;
});
afterAll(async () => {
  await host?.shutdown();
});

const runEvents = (runId: string): RunEvent[] => events.flatMap((e) => (e.type === 'run' && e.runId === runId ? [e.event] : []));
const steps = (runId: string): number[] => runEvents(runId).flatMap((e) => (e.type === 'step' ? [e.step] : []));

async function until(what: string, ok: () => boolean, ms = 60_000): Promise<void> {
  const t0 = Date.now();
  while (!ok()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const base = () => ({ modelDir: demo.modelDir, dataPath: demo.dataPath, profile: 'phone-6gb', seqLen: 64 });

describe('runs', () => {
  it('a run streams its events to the end and is listed as done', async () => {
    const { runId } = await host.call('runs.start', { ...base(), method: 'mesp', steps: 4, checkpointEvery: 2, valFraction: 0.05, valEvery: 2 });
    await host.idle();
    const evs = runEvents(runId);
    expect(evs.map((e) => e.type)).toEqual(expect.arrayContaining(['start', 'step', 'timeline', 'val', 'checkpoint', 'done']));
    expect(steps(runId)).toEqual([1, 2, 3, 4]);
    const s = (await host.call('runs.list', {})).runs.find((r) => r.id === runId)!;
    expect(s).toMatchObject({ status: 'done', stepsDone: 4, totalSteps: 4, resumable: false, profileId: 'phone-6gb', capBytes: 2.8e9 });
    for (const e of evs) if (e.type === 'step') expect(e.peakBytes.total, `step ${e.type === 'step' ? e.step : ''}`).toBeLessThanOrEqual(2.8e9);
  });

  it('pause holds between steps, resume continues, stop checkpoints; a stopped run resumes from disk', async () => {
    const { runId } = await host.call('runs.start', { ...base(), method: 'mesp', steps: 400 });
    await until('two steps', () => steps(runId).length >= 2);
    expect((await host.call('runs.pause', { runId })).status).toBe('paused');
    const held = steps(runId).length;
    await new Promise((r) => setTimeout(r, 700));
    // At most the step that was in flight when it paused ends, however slow the machine.
    expect(steps(runId).length, 'steps while paused').toBeLessThanOrEqual(held + 1);
    // Only one GPU job at a time, even while paused.
    await expect(host.call('runs.start', { ...base(), steps: 2 })).rejects.toThrow(/is using the GPU/);
    await host.call('runs.resume', { runId });
    await until('more steps', () => steps(runId).length >= held + 2);
    await host.call('runs.stop', { runId });
    await host.idle();
    const done = runEvents(runId).find((e) => e.type === 'done');
    expect(done).toMatchObject({ reason: 'stopped' });
    const stopped = (await host.call('runs.list', {})).runs.find((r) => r.id === runId)!;
    expect(stopped.status).toBe('stopped');
    expect(stopped.resumable).toBe(true);
    expect(stopped.lastCheckpoint!.step).toBe(stopped.stepsDone);
    // Resume from disk: a new start at the checkpoint, and the step numbers continue.
    await host.call('runs.resume', { runId });
    await until('steps after the resume', () => steps(runId).filter((s) => s > stopped.stepsDone).length >= 2);
    await host.call('runs.stop', { runId });
    await host.idle();
    const starts = runEvents(runId).filter((e) => e.type === 'start');
    expect(starts.map((e) => (e as Extract<RunEvent, { type: 'start' }>).startStep)).toEqual([0, stopped.stepsDone]);
  });

  it('a cap too small fails the run with the tensor and the overshoot; the service stays up', async () => {
    const { runId } = await host.call('runs.start', { ...base(), method: 'full', steps: 3, capBytes: 3_300_000 });
    await host.idle();
    const err = runEvents(runId).find((e) => e.type === 'error') as Extract<RunEvent, { type: 'error' }>;
    expect(err.code).toBe('OUT_OF_BUDGET');
    expect(err.budget!.overshootBytes).toBeGreaterThan(0);
    expect(err.budget!.request.name.length).toBeGreaterThan(0);
    const s = (await host.call('runs.list', {})).runs.find((r) => r.id === runId)!;
    expect(s).toMatchObject({ status: 'failed', resumable: true, error: { code: 'OUT_OF_BUDGET' } });
    expect(s.error!.budget!.capBytes).toBe(3_300_000);
    // Resumed with a larger cap, it trains.
    await host.call('runs.resume', { runId, capBytes: 8_000_000 });
    await host.idle();
    expect((await host.call('runs.list', {})).runs.find((r) => r.id === runId)!.status).toBe('done');
  });
});

describe('compare', () => {
  it('runs the methods one after another, saves them, and measures MeZO against the exact gradient', async () => {
    const { compareId } = await host.call('compare.start', { ...base(), methods: ['mesp', 'mebp', 'mezo'], steps: 2, cosineSamples: 3 });
    await host.idle();
    const { comparison: c } = await host.call('compare.open', { compareId });
    expect(c.status).toBe('done');
    expect(c.methods.map((m) => [m.method, m.status])).toEqual([['mesp', 'done'], ['mebp', 'done'], ['mezo', 'done']]);
    for (const m of c.methods) {
      expect(m.loss, `method ${m.method}`).toHaveLength(2);
      expect(m.timeline.length, `method ${m.method}`).toBeGreaterThan(2);
      expect(m.peakBytes, `method ${m.method}`).toBeGreaterThan(0);
      expect(m.stepSeconds, `method ${m.method}`).toBeGreaterThan(0);
      const sum = Object.values(m.atPeak!).reduce((s, b) => s + b, 0);
      expect(sum, `method ${m.method}`).toBeLessThanOrEqual(m.peakBytes!);
    }
    // The same seed and data: MeSP and MeBP train to the same loss (same gradients).
    expect(c.methods[0].loss[1].loss).toBeCloseTo(c.methods[1].loss[1].loss, 4);
    expect(c.methods[0].peakBytes!).toBeLessThan(c.methods[1].peakBytes!);
    expect(c.cosine!.samples).toHaveLength(3);
    for (const x of c.cosine!.samples) expect(x, `x ${x}`).toBeGreaterThanOrEqual(0); // ĝ points along ±z, whichever descends
    expect(c.cosine!.parameters).toBeGreaterThan(1000);
    expect((await host.call('compare.list', {})).comparisons[0]).toMatchObject({ id: compareId, status: 'done', methods: ['mesp', 'mebp', 'mezo'] });
    const kinds = events.flatMap((e) => (e.type === 'compare' && e.compareId === compareId ? [e.event.type] : []));
    expect(kinds[0]).toBe('start');
    expect(kinds).toContain('cosine');
    expect(kinds[kinds.length - 1]).toBe('done');
  });

  it('pauses, resumes and stops like a run (the same lifecycle); a method that fails keeps its message', async () => {
    const compareEvents = (id: string) => events.flatMap((e) => (e.type === 'compare' && e.compareId === id ? [e.event] : []));
    const stepsOf = (id: string) => compareEvents(id).flatMap((e) => (e.type === 'run' && e.event.type === 'step' ? [e.event.step] : []));
    // A cap that loads every method but lets only MeSP's step fit: full backprop fails with the budget report.
    const plan = await host.call('plan.fit', { modelDir: demo.modelDir, dataPath: demo.dataPath, profile: 'phone-6gb', seqLen: 64, methods: ['full', 'mesp'] });
    const [full, mesp] = plan.methods;
    const cap = Math.round((full.peakBytes + mesp.peakBytes) / 2);
    const { compareId } = await host.call('compare.start', { ...base(), methods: ['full', 'mesp'], steps: 400, capBytes: cap });
    await until('MeSP steps', () => stepsOf(compareId).length >= 2);
    expect((await host.call('compare.pause', { compareId })).status).toBe('paused');
    await until('the paused status event', () => compareEvents(compareId).some((e) => e.type === 'status' && e.status === 'paused'));
    const held = stepsOf(compareId).length;
    await new Promise((r) => setTimeout(r, 700));
    // At most the step that was in flight when it paused ends, however slow the machine.
    expect(stepsOf(compareId).length, 'steps while paused').toBeLessThanOrEqual(held + 1);
    expect((await host.call('compare.resume', { compareId })).status).toBe('running');
    await until('steps after the resume', () => stepsOf(compareId).length >= held + 2);
    expect((await host.call('compare.stop', { compareId })).status).toBe('stopping');
    await host.idle();
    const { comparison: c } = await host.call('compare.open', { compareId });
    expect(c.status).toBe('stopped');
    expect(c.methods.map((m) => [m.method, m.status])).toEqual([['full', 'failed'], ['mesp', 'stopped']]);
    expect(c.methods[0].error, 'full backprop\'s failure').toMatchObject({ code: 'OUT_OF_BUDGET', message: expect.stringMatching(/Out of memory budget: allocating/) });
    expect(c.methods[0].error!.budget!.capBytes).toBe(cap);
    await expect(host.call('compare.pause', { compareId })).rejects.toThrow(/is not running/);
  });
});

// The app's service without a GPU (core/node/service/host.ts over core/api/contract.ts): every request and result is
// validated; the demo model and dataset are written on first launch; profiles are listed, validated, saved and
// deleted; the model and dataset are inspected (with a masked token preview); "will it fit?" plans all four methods;
// a run folder whose process died shows as interrupted and resumable; and only paths under the service's folders are
// allowed — a path outside is refused, also through a symlink, and so is a run's sample-prompts file.
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ContractError, parseRequest } from '../../core/api/contract';
import { ConfigError } from '../../core/common/errors';
import { ServiceHost } from '../../core/node/service/host';
import { RunStore } from '../../core/node/runstore';
import { statusOnDisk } from '../../core/node/service/runs';
import { TrainRequestSchema, type RunConfig } from '../../core/api/train';

let host: ServiceHost;
let outside: string;
let allowedRoot: string;

beforeAll(() => {
  const base = mkdtempSync(join(tmpdir(), 'mesp-host-'));
  allowedRoot = join(base, 'models');
  mkdirSync(allowedRoot);
  outside = join(base, 'outside');
  mkdirSync(outside);
  writeFileSync(join(outside, 'secret.jsonl'), '{"text":"not yours"}\n');
  symlinkSync(outside, join(allowedRoot, 'link-out'));
  host = new ServiceHost({ dataDir: join(base, 'data'), roots: [allowedRoot], mode: 'browser' });
});

describe('contract', () => {
  it('refuses unknown methods and bad params, naming the field', async () => {
    expect(() => parseRequest({ id: 1, method: 'runs.delete-everything', params: {} })).toThrow(ContractError);
    const r = await host.handle({ id: 7, method: 'runs.start', params: { modelDir: '', dataPath: '/x', profile: 'phone-6gb', rank: 0 } });
    expect(r).toMatchObject({ id: 7, ok: false, error: { code: 'BAD_MESSAGE', field: 'modelDir' } });
    if (!r.ok) expect(r.error.message).toMatch(/runs.start: bad request: modelDir: give a path; rank/);
  });
});

describe('first launch', () => {
  it('writes the demo model and dataset and offers them', async () => {
    const info = await host.call('app.info', {});
    expect(info.mode).toBe('browser');
    expect(info.nativeDialogs).toBe(false);
    expect(info.roots).toContain(host.data.dir);
    const m = await host.call('model.inspect', { modelDir: info.demo.modelDir });
    expect(m).toMatchObject({ name: 'qwen2-demo', layers: 4, hidden: 128, dtypes: ['F32'], hasChatTemplate: true });
    expect(m.weightsBytes.int4!).toBeLessThan(m.weightsBytes.int8!);
    expect(m.weightsBytes.int8!).toBeLessThan(m.weightsBytes.none!);
    const d = await host.call('dataset.inspect', { dataPath: info.demo.dataPath, modelDir: info.demo.modelDir, seqLen: 128, previewIndex: 3 });
    expect(d.rows).toBeGreaterThan(50);
    expect(d.preview!.index).toBe(3);
    // Chat rows: the assistant's answer is trained, the prompt is masked.
    const trained = d.preview!.tokens.filter((t) => t.trained);
    expect(trained.length).toBeGreaterThan(0);
    expect(trained.length).toBeLessThan(d.preview!.tokens.length);
    expect((await host.call('app.info', {})).recent).toEqual({ models: [m.dir], datasets: [d.path] });
  });
});

describe('profiles', () => {
  it('lists built-ins, validates, saves and deletes a copy', async () => {
    const { profiles } = await host.call('profiles.list', {});
    const six = profiles.find((p) => p.profile.id === 'phone-6gb')!;
    expect(six.capBytes).toBe(2.8e9);
    const v = await host.call('profiles.validate', { profile: six.profile });
    expect(v.ok).toBe(false);
    expect(v.issues[0]).toMatchObject({ path: 'id', message: expect.stringMatching(/built-in/) });
    const bad = await host.call('profiles.validate', { profile: { ...six.profile, id: 'mine', appBudgetMB: 99_999 } });
    expect(bad.issues.map((i) => i.path)).toEqual(['appBudgetMB']);
    await expect(host.call('profiles.save', { profile: six.profile })).rejects.toThrow(/built-in profile's id/);
    const { entry } = await host.call('profiles.save', { profile: { ...six.profile, id: 'my-tiny-phone', appBudgetMB: 5 } });
    expect(entry).toMatchObject({ source: 'user', capBytes: 5e6 });
    expect((await host.call('profiles.list', {})).profiles.some((p) => p.profile.id === 'my-tiny-phone')).toBe(true);
    // A saved copy is usable by a plan.
    const info = await host.call('app.info', {});
    const fit = await host.call('plan.fit', { modelDir: info.demo.modelDir, profile: 'my-tiny-phone', methods: ['mesp'] });
    expect(fit.capBytes).toBe(5e6);
    expect(await host.call('profiles.delete', { id: 'my-tiny-phone' })).toEqual({ deleted: true });
  });
});

describe('will it fit', () => {
  it('plans every method from the engine, by category, against the budget', async () => {
    const info = await host.call('app.info', {});
    const fit = await host.call('plan.fit', { modelDir: info.demo.modelDir, dataPath: info.demo.dataPath, profile: 'phone-6gb', optimizer: 'adamw' });
    expect(fit.methods.map((m) => m.method)).toEqual(['full', 'mebp', 'mesp', 'mezo']);
    const by = Object.fromEntries(fit.methods.map((m) => [m.method, m]));
    expect(by.mesp.peakBytes).toBeLessThan(by.mebp.peakBytes);
    expect(by.mebp.peakBytes).toBeLessThan(by.full.peakBytes);
    for (const m of fit.methods) {
      const sum = Object.values(m.atPeak).reduce((s, b) => s + b, 0);
      expect(sum, `method ${m.method}`).toBe(m.peakBytes);
      expect(m.fits, `method ${m.method}`).toBe(true);
    }
    const tight = await host.call('plan.fit', { modelDir: info.demo.modelDir, profile: 'phone-6gb', capBytes: 3_500_000, seqLen: 64 });
    expect(tight.methods.find((m) => m.method === 'full')!.fits).toBe(false);
  });

  it('plans a real Qwen2.5 shape without its weights, the same numbers as `mesp bench` plans', async () => {
    const fit = await host.call('plan.fit', { shape: 'qwen2.5-0.5b', profile: 'phone-6gb', quant: 'int4', seqLen: 256, optimizer: 'sgd', methods: ['mebp', 'mesp'] });
    expect(fit.model).toBe('qwen2.5-0.5b');
    const by = Object.fromEntries(fit.methods.map((m) => [m.method, m]));
    // docs/benchmarks.md: planned (and measured) peaks 462.5 MB and 323.2 MB, working sets 184.4 MB and 45.0 MB
    expect(by.mebp.peakBytes / 1e6).toBeCloseTo(462.5, 0);
    expect(by.mesp.peakBytes / 1e6).toBeCloseTo(323.2, 0);
    expect(by.mesp.workingSetBytes / 1e6).toBeCloseTo(45.0, 0);
    expect(by.mesp.fits && by.mebp.fits).toBe(true);
    await expect(host.call('plan.fit', { shape: 'qwen2.5-0.5b', modelDir: host.data.demoModelDir, profile: 'phone-6gb' })).rejects.toThrow(/modelDir or shape/);
  });
});

describe('paths', () => {
  it('refuses a path outside the allowed folders, also through a symlink', async () => {
    const check = await host.call('files.check', { kind: 'dataset', path: join(outside, 'secret.jsonl') });
    expect(check.ok).toBe(false);
    expect(check.error).toMatch(/outside the allowed folders/);
    const viaLink = await host.call('files.check', { kind: 'dataset', path: join(allowedRoot, 'link-out', 'secret.jsonl') });
    expect(viaLink.ok).toBe(false);
    await expect(host.call('model.inspect', { modelDir: outside })).rejects.toThrow(ConfigError);
    const r = await host.handle({ id: 3, method: 'dataset.inspect', params: { dataPath: '/etc/passwd', modelDir: host.data.demoModelDir } });
    expect(r).toMatchObject({ ok: false, error: { code: 'BAD_CONFIG', field: 'dataPath' } });
    await expect(host.call('files.browse', { dir: outside })).rejects.toThrow(/outside/);
    // A run's sample prompts are a file it reads, under the same policy (refused before any run exists).
    const runsBefore = (await host.call('runs.list', {})).runs.length;
    const start = await host.handle({
      id: 4, method: 'runs.start',
      params: { modelDir: host.data.demoModelDir, dataPath: host.data.demoDataPath, profile: 'phone-6gb', samplePrompts: join(outside, 'secret.jsonl') },
    });
    expect(start).toMatchObject({ ok: false, error: { code: 'BAD_CONFIG', field: 'samplePrompts' } });
    expect((await host.call('runs.list', {})).runs, 'no run folder was made').toHaveLength(runsBefore);
    const roots = await host.call('files.browse', {});
    expect(roots.entries.map((e) => e.path)).toEqual(expect.arrayContaining([allowedRoot]));
  });

  it('accepts uploads into the app-data folder', async () => {
    const text = '{"text":"hello"}\n{"text":"world"}\n';
    const up = await host.call('files.upload', { kind: 'dataset', name: 'mine.jsonl', size: text.length, offset: 0, base64: Buffer.from(text).toString('base64') });
    expect(up).toMatchObject({ done: true, received: text.length });
    expect(up.path.startsWith(host.data.uploadsDir)).toBe(true);
    expect((await host.call('files.check', { kind: 'dataset', path: up.path })).ok).toBe(true);
    await expect(host.call('files.upload', { kind: 'dataset', name: '../escape.jsonl', size: 0, offset: 0, base64: '' })).rejects.toThrow(/file name/);
  });
});

describe('runs on disk', () => {
  it('a run whose process died is interrupted and resumable; a finished one is not', async () => {
    const info = await host.call('app.info', {});
    const dir = join(info.runsDir, '20260101-000000-mesp');
    const store = new RunStore(dir);
    const request = TrainRequestSchema.parse({ modelDir: info.demo.modelDir, dataPath: info.demo.dataPath, outDir: dir, steps: 10 });
    const config: RunConfig = {
      version: 1, createdAt: '2026-01-01T00:00:00.000Z', request, totalSteps: 10, lora: { rank: 8, alpha: 16, targets: ['q', 'v'] },
      model: { dir: info.demo.modelDir, name: 'qwen2-demo', fingerprint: 'x', layers: 4, hidden: 128, vocab: 1024, parameters: 1 },
      data: { trainRows: 200, valRows: 0, trainTokens: 1000 }, loraParameters: 1, capBytes: 2.8e9, profileId: 'phone-6gb',
    };
    store.create(config);
    store.append({ t: 1, type: 'start', runDir: dir, totalSteps: 10, startStep: 0, method: 'mesp', adapter: 'x' });
    const peak = { total: 1, weights: 1, adapter: 0, grads: 0, optimizer: 0, activations: 0, workspace: 0, kvcache: 0 };
    for (const step of [1, 2, 3]) store.append({ t: 2, type: 'step', step, steps: 10, loss: 7, lr: 1e-3, tokens: 1, tokensPerSecond: 1, stepSeconds: 1, peakBytes: peak, workingSetBytes: 0, elapsedSeconds: step, etaSeconds: 1 });
    const { runs } = await host.call('runs.list', {});
    const r = runs.find((x) => x.id === '20260101-000000-mesp')!;
    expect(r).toMatchObject({ status: 'interrupted', stepsDone: 3, resumable: true, lastCheckpoint: null });
    const opened = await host.call('runs.open', { runId: r.id });
    expect(opened.events).toHaveLength(4);
    await expect(host.call('runs.open', { runId: '../../etc' })).rejects.toThrow(/not a run id/);
    expect(statusOnDisk([...opened.events, { t: 3, type: 'done', step: 10, reason: 'done', adapterDir: '' }]).status).toBe('done');
    expect(statusOnDisk([...opened.events, { t: 3, type: 'done', step: 3, reason: 'stopped', adapterDir: '' }]).status).toBe('stopped');
  });
});

// The app's hub requests (core/node/service/handlers-hub.ts over core/api/contract/hub.ts) against a local hub on
// 127.0.0.1: the catalogue of Qwen2.5 models with each method's fit for a profile, the same numbers as plan.fit's
// shape-only plan; a pull's events (plan, progress with bytes, rate and ETA, one verified file each, done) as every
// client receives them, each one valid under the contract; the pulled model selectable (model.inspect under the
// cache folder, named by its hub id); cancel keeps the bytes and a second pull resumes them with a Range request;
// errors as events; the cached list; delete; the token never in an event or a result.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseEvent, QWEN25_CATALOGUE, type PullEvent, type ServiceEvent } from '../../core/api/contract';
import { ServiceHost } from '../../core/node/service/host';
import { demoModelFiles } from '../../core/model/demo';
import { demoModelRepo, sha256, startHub, type HubServer } from '../helpers/hub-server';

const TOKEN = 'hf_serviceTokenNotForClients77';
const demo = demoModelFiles();
const weights = demo.get('model.safetensors')!;
const REPO = 'Qwen/Qwen2.5-0.5B-Instruct'; // the local hub serves the demo model under a catalogue id
const root = mkdtempSync(join(tmpdir(), 'mesp-hub-svc-'));
let hub: HubServer;
let host: ServiceHost;
const events: ServiceEvent[] = [];

function pullEvents(pullId: string): PullEvent[] {
  return events.filter((e): e is Extract<ServiceEvent, { type: 'hub.pull' }> => e.type === 'hub.pull' && e.pullId === pullId).map((e) => e.event);
}

/** Resolves with the pull's events once it ended (done, cancelled or error). */
function ended(pullId: string): Promise<PullEvent[]> {
  return new Promise((res) => {
    const check = (): void => {
      const es = pullEvents(pullId);
      if (es.some((e) => e.type === 'done' || e.type === 'cancelled' || e.type === 'error')) {
        off();
        res(es);
      }
    };
    const off = host.onEvent(() => check());
    check();
  });
}

beforeAll(async () => {
  hub = await startHub(demoModelRepo(REPO, demo), demoModelRepo('mesp/gated', demo, { gated: true }));
  hub.tokens.add(TOKEN);
  host = new ServiceHost({
    dataDir: join(root, 'data'), mode: 'test',
    hub: { cacheDir: join(root, 'hf-cache'), endpoint: hub.url, offline: false, token: TOKEN, retry: { baseDelayMs: 5, maxDelayMs: 20 } },
  });
  host.onEvent((e) => {
    parseEvent(JSON.parse(JSON.stringify(e))); // every event is what the contract says, after the wire
    events.push(e);
  });
});

afterAll(async () => {
  await host.shutdown();
  await hub.stop();
  rmSync(root, { recursive: true, force: true });
});

describe('hub.catalogue', () => {
  it('lists the six Qwen2.5 models with download sizes and each method\'s fit, equal to plan.fit\'s shape-only plan', async () => {
    const cat = await host.call('hub.catalogue', { profile: 'phone-6gb', quant: 'int4', seqLen: 256 });
    expect(cat.models.map((m) => m.repo)).toEqual(QWEN25_CATALOGUE.map((m) => m.repo));
    expect(cat).toMatchObject({ profileId: 'phone-6gb', capBytes: 2.8e9, endpoint: hub.url, offline: false, hasToken: true });
    for (const m of cat.models) {
      expect([m.repo, m.downloadBytes]).toEqual([m.repo, m.parameters * 2]);
      const fit = await host.call('plan.fit', { shape: m.shape, profile: 'phone-6gb', quant: 'int4', seqLen: 256 });
      expect([m.repo, m.methods]).toEqual([m.repo, fit.methods.map((f) => ({ method: f.method, peakBytes: f.peakBytes, fits: f.fits, error: f.error }))]);
    }
    const half = cat.models.find((m) => m.repo === 'Qwen/Qwen2.5-0.5B')!;
    expect(half.parameters).toBe(494_032_768);
    expect(half.methods.find((x) => x.method === 'mesp')!.fits).toBe(true);
    const big = await host.call('hub.catalogue', { profile: 'phone-6gb' });
    console.log(`[catalogue] phone-6gb, none, seq 128: ${big.models.filter((m) => !m.instruct).map((m) => `${m.repo} ${(m.downloadBytes / 1e9).toFixed(2)} GB ${m.methods.map((x) => `${x.method}:${x.fits ? 'fits' : 'no'}`).join(' ')}`).join('; ')}`);
    expect(big.models.find((m) => m.repo === 'Qwen/Qwen2.5-3B')!.methods.every((x) => !x.fits)).toBe(true);
    expect(JSON.stringify(cat)).not.toContain(TOKEN);
  });
});

describe('hub.pull', () => {
  it('streams plan, progress, verified files and done; the model is then cached, selectable and named by its id', async () => {
    const { pullId, alreadyRunning } = await host.call('hub.pull', { repo: REPO });
    expect(alreadyRunning).toBe(false);
    const es = await ended(pullId);
    expect(es.map((e) => e.type).filter((t, i, a) => a[i - 1] !== t)).toEqual(['plan', 'progress', 'file', 'progress', 'file', 'progress', 'file', 'progress', 'file', 'done']);
    const plan = es[0].type === 'plan' ? es[0] : null;
    expect(plan).toMatchObject({ repo: REPO, revision: 'main', totalBytes: 2918802, downloadBytes: 2918802 - 631 });
    const last = es.filter((e) => e.type === 'progress').at(-1)!;
    expect(last).toMatchObject({ path: 'model.safetensors', fileBytes: weights.length, fileTotal: weights.length, doneBytes: 2918802, totalBytes: 2918802, etaSeconds: 0 });
    expect(last.type === 'progress' && last.rate > 0).toBe(true);
    expect(es.find((e) => e.type === 'file' && e.path === 'model.safetensors')).toMatchObject({ check: 'sha256', digest: sha256(weights) });
    const done = es.at(-1)!;
    expect(done.type).toBe('done');
    const snapshot = done.type === 'done' ? done.snapshotDir : '';
    expect(JSON.stringify(es)).not.toContain(TOKEN);

    const cached = await host.call('hub.cached', {});
    expect(cached.repos).toMatchObject([{ repo: REPO, kind: 'model', refs: ['main'], complete: true, snapshotDir: snapshot }]);
    expect(cached.active).toEqual([]);
    const cat = await host.call('hub.catalogue', { profile: 'phone-6gb', methods: ['mesp'] });
    expect(cat.models.find((m) => m.repo === REPO)!.cached).toMatchObject({ complete: true, snapshotDir: snapshot });
    expect(cat.models.find((m) => m.repo === 'Qwen/Qwen2.5-3B')!.cached).toBeNull();
    const info = await host.call('model.inspect', { modelDir: snapshot }); // under the cache folder: allowed
    expect(info).toMatchObject({ name: REPO, layers: 4 });
  });

  it('cancel keeps the bytes; pulling again resumes them with a Range request', async () => {
    await host.call('hub.delete', { repo: REPO });
    hub.fault(REPO, 'model.safetensors', { stallAfter: 700_000 });
    const first = await host.call('hub.pull', { repo: REPO });
    await new Promise<void>((res) => {
      const off = host.onEvent((e) => {
        if (e.type === 'hub.pull' && e.pullId === first.pullId && e.event.type === 'progress' && e.event.path === 'model.safetensors' && e.event.fileBytes > 0) {
          off();
          res();
        }
      });
    });
    expect((await host.call('hub.pull', { repo: REPO })).alreadyRunning).toBe(true);
    expect((await host.call('hub.cached', {})).active).toEqual([{ pullId: first.pullId, repo: REPO, kind: 'model' }]);
    await expect(host.call('hub.delete', { repo: REPO })).rejects.toThrow(/is being pulled: cancel the pull first/);
    expect(await host.call('hub.cancel', { pullId: first.pullId })).toEqual({ pullId: first.pullId, cancelled: true });
    const es = await ended(first.pullId);
    const cancelled = es.at(-1)!;
    expect(cancelled.type).toBe('cancelled');
    const kept = cancelled.type === 'cancelled' ? cancelled.partialBytes : 0;
    expect(kept).toBeGreaterThan(0);
    expect(es.some((e) => e.type === 'done')).toBe(false);
    expect((await host.call('hub.cached', {})).repos).toMatchObject([{ repo: REPO, complete: false, partialBytes: kept }]);
    hub.clearFaults();

    const mark = hub.log.length;
    const second = await host.call('hub.pull', { repo: REPO });
    const es2 = await ended(second.pullId);
    const plan = es2[0];
    expect(plan.type === 'plan' && plan.files.find((f) => f.path === 'model.safetensors')).toMatchObject({ state: 'partial', haveBytes: kept });
    expect(hub.log.slice(mark).find((q) => q.path.startsWith('/lfs-store/') && q.range !== 'bytes=0-0')?.range).toBe(`bytes=${kept}-`);
    expect(es2.find((e) => e.type === 'file' && e.path === 'model.safetensors')).toMatchObject({ resumedFrom: kept, digest: sha256(weights) });
    expect(es2.at(-1)!.type).toBe('done');
  });

  it('reports a failed pull as an error event, and a bad request as a refused one', async () => {
    const { pullId } = await host.call('hub.pull', { repo: 'mesp/nope' });
    const es = await ended(pullId);
    expect(es.at(-1)).toMatchObject({ type: 'error', repo: 'mesp/nope', code: 'BAD_CONFIG', message: expect.stringMatching(/model mesp\/nope does not exist .*\(or your token cannot see it\)/) });
    const bad = await host.handle({ id: 9, method: 'hub.pull', params: { repo: '../etc', kind: 'model' } });
    expect(bad).toMatchObject({ ok: false, error: { code: 'BAD_MESSAGE', field: 'repo' } });
    const noFile = await host.handle({ id: 10, method: 'hub.pull', params: { repo: 'mesp/chats', kind: 'dataset' } });
    expect(noFile).toMatchObject({ ok: false, error: { field: 'file' } });
  });

  it('pulls a gated repo with the service\'s token without ever sending it to a client', async () => {
    const { pullId } = await host.call('hub.pull', { repo: 'mesp/gated' });
    const es = await ended(pullId);
    expect(es.at(-1)!.type).toBe('done');
    expect(JSON.stringify(events)).not.toContain(TOKEN);
    expect(JSON.stringify(await host.call('hub.cached', {}))).not.toContain(TOKEN);
  });

  it('deletes a model from the cache', async () => {
    const r = await host.call('hub.delete', { repo: 'mesp/gated' });
    expect(r.deleted).toBe(true);
    expect(r.bytes).toBe(2918802);
    expect((await host.call('hub.cached', {})).repos.map((x) => x.repo)).toEqual([REPO]);
    expect(await host.call('hub.delete', { repo: 'mesp/gated' })).toEqual({ deleted: false, bytes: 0 });
  });
});

describe('runs and comparisons name their model by a hub id', () => {
  it('runs.start and compare.start pass OWNER/NAME through the path policy to the job, which resolves it on the hub', async () => {
    const { demo } = await host.call('app.info', {});
    const before = (await host.call('runs.list', {})).runs.length;
    const mark = hub.log.length;
    // The id reaches the resolver (the hub is asked, and says no), not the path policy's "outside the folders".
    await expect(host.call('runs.start', { modelDir: 'mesp/nope', dataPath: demo.dataPath, profile: 'phone-6gb', steps: 1 }))
      .rejects.toThrow(/model mesp\/nope does not exist on http:\/\/127\.0\.0\.1:\d+ .*There is no local folder .*mesp\/nope either/);
    expect(hub.log.slice(mark).some((q) => q.path.includes('mesp/nope'))).toBe(true);
    expect((await host.call('runs.list', {})).runs.length, 'no run folder is left').toBe(before);
    // A path that is not an id is still held to the policy.
    await expect(host.call('runs.start', { modelDir: '/etc', dataPath: demo.dataPath, profile: 'phone-6gb', steps: 1 })).rejects.toThrow(/outside the allowed folders/);

    const { compareId } = await host.call('compare.start', { modelDir: 'mesp/nope', dataPath: demo.dataPath, profile: 'phone-6gb', methods: ['mesp', 'mezo'], steps: 1 });
    await host.idle();
    const { comparison: c } = await host.call('compare.open', { compareId });
    expect(c.modelName).toBe('mesp/nope');
    expect([c.status, c.error?.message]).toEqual(['failed', expect.stringMatching(/model mesp\/nope does not exist/)]);
    expect(c.methods.map((m) => m.status), 'no method ran on a model that is not there').toEqual(['pending', 'pending']);
  });
});

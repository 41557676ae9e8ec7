// The hub store (renderer/src/stores/hub.ts) and the words its views show (composables/useHub.ts), with a fresh Pinia
// and a contract-checked fake client: a pull's events (plan, progress, file, done) folded into bytes, rate and ETA
// per file and in total, also when they arrive before the hub.pull answer; a pull this window did not start (a run's
// pull of a hub id on first use) followed and listed in `elsewhere` unless a catalogue row shows it; the end of a pull
// re-reads the cache; a pull the restarted service no longer runs is marked interrupted. Events go through the app
// store's dispatch, as the service's do.
import { createPinia, setActivePinia } from 'pinia';
import { beforeEach, describe, expect, it } from 'vitest';
import { setClient } from '../../renderer/src/api';
import { fileText, statusText, totalText } from '../../renderer/src/composables/useHub';
import { useAppStore } from '../../renderer/src/stores/app';
import { useHubStore } from '../../renderer/src/stores/hub';
import type { PullEvent, ServiceEvent } from '../../core/api/contract';
import { fakeClient } from './fake';

beforeEach(() => {
  setActivePinia(createPinia());
  localStorage.clear();
});

const place = { cacheDir: '/hf/hub', endpoint: 'http://127.0.0.1:9', offline: false, hasToken: false };
const cachedAnswer = (active: { pullId: string; repo: string; kind: 'model' | 'dataset' }[] = []) => () => ({ ...place, repos: [], active });
const ev = (pullId: string, event: PullEvent): ServiceEvent => ({ type: 'hub.pull', pullId, event });

const plan = (repo: string): PullEvent => ({
  type: 'plan', repo, kind: 'model', revision: 'main', commit: 'c'.repeat(40), cacheDir: '/hf/hub', totalBytes: 3_000_631, haveBytes: 631, downloadBytes: 3_000_000,
  files: [
    { path: 'config.json', bytes: 631, sha256: null, state: 'cached', haveBytes: 631 },
    { path: 'model.safetensors', bytes: 3_000_000, sha256: 'a'.repeat(64), state: 'download', haveBytes: 0 },
  ],
});
const progress = (fileBytes: number): PullEvent => ({
  type: 'progress', path: 'model.safetensors', fileBytes, fileTotal: 3_000_000, fileRate: 2e6, fileEtaSeconds: (3e6 - fileBytes) / 2e6,
  doneBytes: 631 + fileBytes, totalBytes: 3_000_631, rate: 2e6, etaSeconds: (3e6 - fileBytes) / 2e6,
});

describe('hub store', () => {
  it('folds a Download\'s events into bytes, rate and ETA per file and in total, also those before the hub.pull answer', async () => {
    const client = fakeClient({ 'hub.pull': () => ({ pullId: 'p1', repo: 'mesp/tiny', kind: 'model', alreadyRunning: false }), 'hub.cached': cachedAnswer() });
    setClient(client);
    const app = useAppStore();
    const hub = useHubStore();
    app.dispatch(ev('p1', plan('mesp/tiny'))); // before the answer
    expect(await hub.pull({ repo: 'mesp/tiny', kind: 'model', revision: 'main' })).toBe('p1');
    app.dispatch(ev('p1', progress(1_500_000)));
    const v = hub.pullOf('model', 'mesp/tiny')!;
    expect(v).toMatchObject({ pullId: 'p1', status: 'running', doneBytes: 1_500_631, totalBytes: 3_000_631, rate: 2e6, eta: 0.75 });
    expect(totalText(v)).toBe('1.50 MB of 3.00 MB · 2.00 MB/s · ETA 750 ms');
    expect(v.files.map((f) => [f.path, f.state, fileText(f)])).toEqual([
      ['config.json', 'cached', '631 B · already in the cache'],
      ['model.safetensors', 'moving', '1.50 MB of 3.00 MB · 2.00 MB/s · ETA 750 ms'],
    ]);
    expect(hub.elsewhere, 'this window started it').toEqual([]);

    app.dispatch(ev('p1', { type: 'file', path: 'model.safetensors', bytes: 3_000_000, check: 'sha256', digest: 'a'.repeat(64), resumedFrom: 1_000_000 }));
    expect(fileText(v.files[1])).toBe(`3.00 MB · sha256 ${'a'.repeat(12)}… · resumed from 1.00 MB`);
    const before = client.calls.filter((c) => c.method === 'hub.cached').length;
    app.dispatch(ev('p1', { type: 'done', repo: 'mesp/tiny', kind: 'model', commit: 'c'.repeat(40), snapshotDir: '/hf/hub/models--mesp--tiny/snapshots/c', path: '/hf/hub/models--mesp--tiny/snapshots/c' }));
    expect([v.status, v.snapshotDir, statusText(v), totalText(v)]).toEqual(['done', '/hf/hub/models--mesp--tiny/snapshots/c', 'mesp/tiny is in the cache.', '3.00 MB downloaded and verified']);
    await expect.poll(() => client.calls.filter((c) => c.method === 'hub.cached').length).toBe(before + 1); // the end re-reads the cache
  });

  it('follows a pull it did not start (a run\'s pull on first use) and lists it in elsewhere unless a catalogue row shows it', async () => {
    setClient(fakeClient({ 'hub.cached': cachedAnswer() }));
    const app = useAppStore();
    const hub = useHubStore();
    app.dispatch(ev('run-pull', plan('mesp/other')));
    app.dispatch(ev('cat-pull', plan('Qwen/Qwen2.5-0.5B')));
    app.dispatch(ev('run-pull', progress(300_000)));
    expect(hub.elsewhere.map((v) => [v.pullId, v.repo, v.doneBytes])).toEqual([['run-pull', 'mesp/other', 300_631]]);
    expect(hub.pullOf('model', 'Qwen/Qwen2.5-0.5B')?.pullId, 'the catalogue row finds its pull').toBe('cat-pull');
    app.dispatch(ev('run-pull', { type: 'cancelled', repo: 'mesp/other', partialBytes: 300_000 }));
    expect(hub.elsewhere).toEqual([]);
    expect(statusText(hub.pulls['run-pull'])).toBe('Cancelled; 0.30 MB kept. Resume continues from there.');
  });

  it('marks a pull the restarted service no longer runs as interrupted, and picks up the ones it still runs', async () => {
    setClient(fakeClient({ 'hub.cached': cachedAnswer([{ pullId: 'still', repo: 'mesp/b', kind: 'model' }]) }));
    const app = useAppStore();
    const hub = useHubStore();
    app.dispatch(ev('gone', plan('mesp/a')));
    await hub.resync();
    expect(hub.pulls.gone).toMatchObject({ status: 'failed', error: { code: 'INTERRUPTED' } });
    expect(statusText(hub.pulls.gone)).toMatch(/service restarted during this download; download again to resume it/);
    expect(hub.pulls.still).toMatchObject({ status: 'running', repo: 'mesp/b' });
    expect(hub.elsewhere.map((v) => v.pullId)).toEqual(['still']);
  });
});

// The desktop app's main-process logic that can be checked without an Electron binary (electron/main/app-url.ts): which
// URLs are the app's (the exact app://mesp origin, or exactly the dev server's; never a file:// page whose path merely
// contains "/renderer/"), which renderer file an app:// URL may name, the per-window record of dialog grants; and the
// service side of grants (core/node/service/paths.ts): they last while their window lives, are never written to
// settings.json, and a new service (a new launch) has none.
import { mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { APP_INDEX_URL, WindowGrants, appFileFor, contentTypeFor, isAppUrl } from '../../electron/main/app-url';
import { ServiceHost } from '../../core/node/service/host';

describe('the app URL', () => {
  it('is the app:// origin exactly', () => {
    const cases: [string, boolean][] = [
      [APP_INDEX_URL, true],
      ['app://mesp/', true],
      ['app://mesp/assets/index-abc.js', true],
      ['app://evil/index.html', false],
      ['app://mesp.evil/index.html', false],
      ['app://user@mesp/index.html', false],
      ['app://mesp:8080/index.html', false],
      ['file:///opt/MeSP/resources/app.asar/out/renderer/index.html', false], // what includes('/renderer/') let through
      ['file:///tmp/downloaded/renderer/evil.html', false],
      ['https://mesp/index.html', false],
      ['http://localhost:5173/', false],
      ['not a url', false],
    ];
    for (const [url, ok] of cases) expect(isAppUrl(url), url).toBe(ok);
  });

  it('is the dev server origin exactly under electron-vite dev', () => {
    const dev = 'http://localhost:5173';
    const cases: [string, boolean][] = [
      ['http://localhost:5173/', true],
      ['http://localhost:5173/src/main.ts', true],
      ['http://localhost:51730/', false],
      ['http://localhost:5173.evil.example/', false],
      ['http://localhost:5174/', false],
      [APP_INDEX_URL, false],
    ];
    for (const [url, ok] of cases) expect(isAppUrl(url, dev), url).toBe(ok);
  });

  it('names only files inside the renderer folder', () => {
    const dir = '/opt/MeSP/resources/app.asar/out/renderer';
    const cases: [string, string | null][] = [
      ['app://mesp/', `${dir}/index.html`],
      ['app://mesp/index.html', `${dir}/index.html`],
      ['app://mesp/assets/index-abc.js?v=1#x', `${dir}/assets/index-abc.js`],
      // The URL parser (Chromium's too, before the handler sees it) resolves dot segments, %2e%2e included, at the root.
      ['app://mesp/../main/index.js', `${dir}/main/index.js`],
      ['app://mesp/%2e%2e/main/index.js', `${dir}/main/index.js`],
      ['app://mesp/assets/%2e%2e/%2e%2e/%2e%2e/package.json', `${dir}/package.json`],
      // An encoded slash or backslash survives the parser; decoded, it would climb out.
      ['app://mesp/..%2f..%2fpackage.json', null],
      ['app://mesp/assets%5c..%5c..%5cpackage.json', null],
      ['app://mesp/index.html%00.js', null],
      ['app://mesp/%E0%A4%A', null],
      ['app://other/index.html', null],
      ['file:///etc/passwd', null],
    ];
    for (const [url, file] of cases) expect(appFileFor(url, dir), url).toBe(file);
  });

  it('answers module scripts with a JavaScript type', () => {
    expect(contentTypeFor('/x/assets/index.js')).toMatch(/^text\/javascript/);
    expect(contentTypeFor('/x/index.html')).toMatch(/^text\/html/);
    expect(contentTypeFor('/x/blob')).toBe('application/octet-stream');
  });
});

describe('grants from native dialogs', () => {
  it('main keeps them per window, to revoke on close and replay into a restarted service', () => {
    const g = new WindowGrants();
    g.add('1', '/m/a');
    g.add('1', '/m/b');
    g.add('2', '/m/c');
    expect(g.all()).toEqual([{ window: '1', path: '/m/a' }, { window: '1', path: '/m/b' }, { window: '2', path: '/m/c' }]);
    expect(g.drop('1')).toEqual(['/m/a', '/m/b']);
    expect(g.all()).toEqual([{ window: '2', path: '/m/c' }]);
    expect(g.drop('1')).toEqual([]);
  });

  it('the service honours them while the window lives, never writes them down, and a new launch has none', async () => {
    const base = mkdtempSync(join(tmpdir(), 'mesp-grant-'));
    const picked = join(base, 'picked');
    mkdirSync(picked);
    writeFileSync(join(picked, 'data.jsonl'), '{"text":"hi"}\n');
    // A Hugging Face cache snapshot: the folder's files are links to ../../blobs.
    const blobs = join(base, 'hf', 'blobs');
    const snap = join(base, 'hf', 'snapshots', 'abc');
    mkdirSync(blobs, { recursive: true });
    mkdirSync(snap, { recursive: true });
    writeFileSync(join(blobs, 'cfg'), '{}');
    symlinkSync(join(blobs, 'cfg'), join(snap, 'config.json'));
    const dataDir = join(base, 'data');
    const host = new ServiceHost({ dataDir, mode: 'electron' });
    const check = async (h: ServiceHost, kind: 'dataset' | 'model', path: string): Promise<boolean> => (await h.call('files.check', { kind, path })).ok;
    expect(await check(host, 'dataset', join(picked, 'data.jsonl')), 'before the dialog').toBe(false);
    host.grant(join(picked, 'data.jsonl'), '7');
    host.grant(snap, '7');
    expect(await check(host, 'dataset', join(picked, 'data.jsonl')), 'granted to window 7').toBe(true);
    expect(await check(host, 'model', snap), 'a granted snapshot folder, whose files link to its blobs').toBe(true);
    await host.call('dataset.inspect', { dataPath: join(picked, 'data.jsonl'), modelDir: host.data.demoModelDir });
    expect(readFileSync(join(dataDir, 'settings.json'), 'utf8'), 'grants are not persisted').not.toMatch(/granted/);
    host.revoke('7');
    expect(await check(host, 'dataset', join(picked, 'data.jsonl')), 'window 7 closed').toBe(false);
    host.grant(join(picked, 'data.jsonl'), '8');
    const next = new ServiceHost({ dataDir, mode: 'electron' });
    expect(await check(next, 'dataset', join(picked, 'data.jsonl')), 'a new launch').toBe(false);
    expect((await next.call('app.info', {})).recent.datasets, 'a recent file no longer granted is not offered').toEqual([]);
  });
});

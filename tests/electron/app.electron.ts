// The desktop app (Playwright's _electron driving the built app: out/main, out/preload, out/renderer). Runs where an
// Electron binary exists and a display is available; skipped, with the reason printed, where not (CI cannot download
// Electron: docs/architecture.md, "Where it runs"). It checks the window is locked down (context isolation, sandbox, no
// Node integration, only `window.mesp` exposed), that main validates requests against the contract, that the service
// in the utilityProcess answers and trains the demo model, and that the window's bounds persist.
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { _electron as electron, type ElectronApplication, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../e2e/harness';

function electronBinary(): { path: string | null; reason: string } {
  let path: string;
  try {
    path = createRequire(import.meta.url)('electron') as unknown as string;
  } catch (e) {
    return { path: null, reason: `the electron package has no binary here (${(e as Error).message.split('\n')[0]}); CI installs with ELECTRON_SKIP_BINARY_DOWNLOAD=1` };
  }
  if (typeof path !== 'string' || !existsSync(path)) return { path: null, reason: `no Electron binary at ${String(path)}` };
  if (process.platform === 'linux' && !process.env.DISPLAY && !process.env.WAYLAND_DISPLAY) return { path: null, reason: 'no display: run under xvfb-run' };
  if (!existsSync(join(ROOT, 'out/main/index.js'))) return { path: null, reason: 'the app is not built: run `npm run build` first' };
  return { path, reason: '' };
}

const bin = electronBinary();
if (!bin.path) console.log(`[electron tests skipped] ${bin.reason}`);

// Where they cannot run, every test is reported as skipped (none as passed), with the reason in the suite's name.
describe.skipIf(!bin.path)(`MeSP Studio desktop app${bin.path ? '' : ` (skipped: ${bin.reason})`}`, () => {
  let app: ElectronApplication;
  let page: Page;
  let userData: string;

  beforeAll(async () => {
    userData = mkdtempSync(join(tmpdir(), 'mesp-electron-'));
    app = await electron.launch({
      executablePath: bin.path!,
      args: [join(ROOT, 'out/main/index.js'), `--user-data-dir=${userData}`],
      env: { ...process.env, ELECTRON_DISABLE_SECURITY_WARNINGS: 'true' },
    });
    page = await app.firstWindow();
    await page.waitForSelector('[data-testid=connection].ready', { timeout: 60_000 });
  });

  afterAll(async () => {
    await app?.close();
  });

  it('locks the window down and exposes only window.mesp', async () => {
    // webContents.getLastWebPreferences() is not in Electron's typings; where it exists it shows what main set.
    const prefs = await app.evaluate(({ BrowserWindow }) => {
      const wc = BrowserWindow.getAllWindows()[0].webContents as unknown as { getLastWebPreferences?: () => Record<string, unknown> };
      const p = wc.getLastWebPreferences?.();
      return p ? { contextIsolation: p.contextIsolation, sandbox: p.sandbox, nodeIntegration: p.nodeIntegration, webviewTag: p.webviewTag } : null;
    });
    if (prefs) expect(prefs).toEqual({ contextIsolation: true, sandbox: true, nodeIntegration: false, webviewTag: false });
    const seen = await page.evaluate(() => ({
      require: typeof (window as unknown as { require?: unknown }).require,
      process: typeof (window as unknown as { process?: unknown }).process,
      mesp: Object.keys(window.mesp ?? {}).sort(),
      csp: document.querySelector('meta[http-equiv="Content-Security-Policy"]')?.getAttribute('content') ?? '',
    }));
    expect(seen.require).toBe('undefined');
    expect(seen.process).toBe('undefined');
    expect(seen.mesp).toEqual(['kind', 'onEvent', 'request']);
    expect(seen.csp).toContain("script-src 'self'");
    expect(await page.textContent('[data-testid=connection]')).toContain('desktop app');
  });

  it('main refuses a request that breaks the contract', async () => {
    const r = await page.evaluate(() => window.mesp!.request({ id: 1, method: 'runs.start', params: { steps: -1 } }));
    expect(r).toMatchObject({ ok: false, error: { code: 'BAD_MESSAGE' } });
    const unknown = await page.evaluate(() => window.mesp!.request({ id: 2, method: 'shell.exec' as never, params: {} }));
    expect(unknown.ok).toBe(false);
  });

  it('the service in the utilityProcess trains the demo model', async () => {
    await page.click('[data-testid=nav-train]');
    await page.fill('[data-testid=set-steps]', '3');
    await page.click('[data-testid=train-start]');
    await page.waitForSelector('[data-testid=run-done]', { timeout: 90_000 });
    expect(Number(await page.getAttribute('[data-chart="loss"]', 'data-points'))).toBe(3);
  });

  it('remembers the window bounds', async () => {
    const dir = await app.evaluate(({ app: a, BrowserWindow }) => {
      BrowserWindow.getAllWindows()[0].setBounds({ x: 40, y: 40, width: 1200, height: 800 });
      return a.getPath('userData');
    });
    await new Promise((r) => setTimeout(r, 800));
    const state = JSON.parse(readFileSync(join(dir, 'window-state.json'), 'utf8')) as { width: number; height: number };
    expect(state).toMatchObject({ width: 1200, height: 800 });
  });
});

// The e2e harness: starts browser mode for real (`node bin/mesp-web.js`, the `npm run web` entry: the service, the
// engine on Dawn/lavapipe, the built renderer) in a fresh data folder, and launches Debian's Chromium through
// playwright-core with the flags below (headless, WebGPU on SwiftShader: docs/architecture.md, "Where it runs"). Screenshots go to artifacts/ (git-ignored).
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../..');
export const ARTIFACTS = join(ROOT, 'artifacts');
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--headless=new', '--no-sandbox', '--disable-gpu-sandbox', '--enable-unsafe-webgpu', '--use-webgpu-adapter=swiftshader',
  '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic',
];

export interface WebApp {
  url: string;
  port: number;
  proc: ChildProcess;
  log: string[];
  /** Kill the service process (signal SIGKILL: as if it crashed). */
  kill(signal?: NodeJS.Signals): Promise<void>;
}

export function requireBuild(): void {
  const index = join(ROOT, 'out/renderer/index.html');
  if (!existsSync(index)) throw new Error(`${index} is missing: the e2e tests drive the built renderer; run \`npm run build\` first.`);
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium) or set CHROMIUM_PATH.`);
}

/** Start `npm run web` on a port (0 = any) with its own data folder; resolves with the printed address. */
export function startWeb(dataDir: string, port = 0, roots: string[] = []): Promise<WebApp> {
  const proc = spawn(process.execPath, [join(ROOT, 'bin/mesp-web.js'), '--port', String(port), '--data-dir', dataDir, '--renderer-dir', join(ROOT, 'out/renderer'), ...roots.flatMap((r) => ['--root', r])], {
    cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'],
  });
  const log: string[] = [];
  return new Promise((ok, fail) => {
    const timer = setTimeout(() => fail(new Error(`mesp web did not start within 60 s:\n${log.join('')}`)), 60_000);
    const onData = (b: Buffer): void => {
      const s = b.toString();
      log.push(s);
      const m = /at (http:\/\/127\.0\.0\.1:(\d+))/.exec(log.join(''));
      if (m) {
        clearTimeout(timer);
        ok({
          url: m[1], port: Number(m[2]), proc, log,
          kill: (signal = 'SIGKILL') => new Promise<void>((done) => {
            if (proc.exitCode !== null || proc.signalCode !== null) return done();
            proc.once('exit', () => done());
            proc.kill(signal);
          }),
        });
      }
    };
    proc.stdout!.on('data', onData);
    proc.stderr!.on('data', (b: Buffer) => log.push(b.toString()));
    proc.once('exit', (code) => {
      clearTimeout(timer);
      fail(new Error(`mesp web exited with ${code}:\n${log.join('')}`));
    });
  });
}

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
}

/** A page that fails the test on any uncaught page error. */
export async function openPage(browser: Browser, url: string, errors: string[]): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1440, height: 1000 }, deviceScaleFactor: 1 });
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  await page.goto(url);
  return page;
}

export async function shot(page: Page, name: string): Promise<string> {
  mkdirSync(ARTIFACTS, { recursive: true });
  const path = join(ARTIFACTS, name);
  await page.screenshot({ path, fullPage: true });
  return path;
}

/** A chart's probe, from the data-* attributes the chart component writes (charts/options.ts). */
export async function probe(page: Page, chart: string): Promise<{ points: number; max: number; cap: number | null; series: string[] }> {
  const el = page.locator(`[data-chart="${chart}"]`).first();
  const [points, max, cap, series] = await Promise.all(['data-points', 'data-max', 'data-cap', 'data-series'].map((a) => el.getAttribute(a)));
  return { points: Number(points), max: Number(max), cap: cap ? Number(cap) : null, series: series ? series.split('|') : [] };
}

/** Wait until a chart has at least `n` points. */
export async function waitPoints(page: Page, chart: string, n: number, timeout = 60_000): Promise<void> {
  await page.waitForFunction(({ chart, n }) => Number(document.querySelector(`[data-chart="${chart}"]`)?.getAttribute('data-points') ?? 0) >= n, { chart, n }, { timeout, polling: 25 });
}

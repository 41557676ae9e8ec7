// The e2e harness: starts browser mode for real (`node bin/mesp-web.js`, the `npm run web` entry: the service, the
// engine on Dawn/lavapipe, the built renderer) in a fresh data folder (tests/helpers/web.ts), and launches Debian's
// Chromium through playwright-core with the flags below (headless, WebGPU on SwiftShader: docs/architecture.md, "Where
// it runs"). Pages open the address the server printed, which carries its launch token (`web.url`); a restart in place
// passes `{ token: web.token }`. Screenshots go to artifacts/ (git-ignored).
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { ROOT } from '../helpers/web';

export { ROOT, startWeb, type StartWebOptions, type WebApp } from '../helpers/web';
export const ARTIFACTS = join(ROOT, 'artifacts');
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--headless=new', '--no-sandbox', '--disable-gpu-sandbox', '--enable-unsafe-webgpu', '--use-webgpu-adapter=swiftshader',
  '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic',
];

export function requireBuild(): void {
  const index = join(ROOT, 'out/renderer/index.html');
  if (!existsSync(index)) throw new Error(`${index} is missing: the e2e tests drive the built renderer; run \`npm run build\` first.`);
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium) or set CHROMIUM_PATH.`);
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

// The Export view end to end, as a user drives it: the built renderer in Chromium, in browser mode, against the real
// service (core/node/export.ts, real llama.cpp through node-llama-cpp, our engine on lavapipe). A run of the demo
// model is trained first with `mesp train` into the service's runs/ folder. The view lists every format with what it
// is for (from core/api's EXPORT_FORMAT_INFO) and its size from the preview; the user ticks the GGUF base and merged
// models with the keyboard, picks f32, exports, and sees the parity llama.cpp measured (both checks pass, the numbers
// are the manifest's); then "Try in llama.cpp" answers a chat turn with the merged GGUF in llama.cpp beside our
// engine, greedy, and the two give the same tokens. Focus is visible on the controls used; axe-core finds no
// violation in the format list, the parity table or the try panel. Screenshots: artifacts/.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AxeBuilder } from '@axe-core/playwright';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXPORT_FORMAT_INFO, EXPORT_FORMATS } from '../../core/api/contract';
import { BundleManifestSchema } from '../../core/api/export';
import { runMesp } from '../helpers/cli';
import { launchBrowser, requireBuild, shot, startWeb, type WebApp } from './harness';

let web: WebApp;
let browser: Browser;
let page: Page;
let dataDir: string;
const RUN = 'export-e2e';
const errors: string[] = [];

beforeAll(async () => {
  requireBuild();
  dataDir = mkdtempSync(join(tmpdir(), 'mesp-e2e-export-'));
  web = await startWeb(dataDir); // writes the demo model and dataset into the data folder
  const train = await runMesp([
    'train', '--model', join(dataDir, 'demo', 'qwen2-demo'), '--data', join(dataDir, 'demo', 'demo-chat.jsonl'), '--out', join(dataDir, 'runs', RUN),
    '--steps', '2', '--seq-len', '32', '--quant', 'none', '--targets', 'q,k,v,o', '--lr', '0.05', '--profile', 'phone-6gb',
  ]);
  if (train.status !== 0) throw new Error(`mesp train failed (${train.status}):\n${train.stderr}`);
  browser = await launchBrowser();
  // a page in its own context (as openPage sets it up), which axe-core's builder needs
  const context = await browser.newContext({ viewport: { width: 1440, height: 1000 }, deviceScaleFactor: 1 });
  page = await context.newPage();
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  await page.goto(web.url);
  await page.waitForSelector('[data-testid=connection].ready');
}, 300_000);

afterAll(async () => {
  await browser?.close();
  await web?.kill('SIGTERM');
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

/** The focused element's outline: a visible focus ring is a non-zero solid outline. */
const focusRing = (): Promise<{ testid: string | null; style: string; width: string }> => page.evaluate(() => {
  const el = document.activeElement as HTMLElement | null;
  const cs = el ? getComputedStyle(el) : null;
  return { testid: el?.getAttribute('data-testid') ?? null, style: cs?.outlineStyle ?? 'none', width: cs?.outlineWidth ?? '0px' };
});

describe('Export view', () => {
  it('lists every format with its runtime, phones and size from the preview', async () => {
    await page.click('[data-testid=nav-export]');
    await expect.poll(() => page.inputValue('[data-testid=export-runs]')).toBe(RUN);
    // the sizes come from the preview of this run: wait for them, not for the list itself
    await expect.poll(() => page.locator('[data-testid=format-size]').allTextContents(), { timeout: 60_000 }).not.toContain('…');
    for (const f of EXPORT_FORMATS) {
      const row = (await page.textContent(`[data-testid=format-${f}]`)) ?? '';
      const info = EXPORT_FORMAT_INFO[f];
      for (const part of [info.label, info.runtime, info.phones]) expect(row, `${f}: ${part}`).toContain(part);
      expect(row, `${f}: size`).toMatch(/\d MB/);
    }
  });

  it('exports GGUF base and merged models in f32 (ticked with the keyboard) and shows the parity llama.cpp measured', async () => {
    for (const f of ['gguf-base', 'gguf-merged'] as const) {
      await page.focus(`[data-testid=format-toggle-${f}]`);
      await page.keyboard.press('Space');
      expect(await page.isChecked(`[data-testid=format-toggle-${f}]`), f).toBe(true);
    }
    await page.selectOption('[data-testid=export-gguf-type]', 'f32');
    // the preview table follows the ticked formats
    await expect.poll(() => page.textContent('[data-testid=export-preview]')).toContain('gguf/merged.gguf');
    await page.focus('[data-testid=export-run]');
    await page.keyboard.press('Tab');
    await page.keyboard.press('Shift+Tab');
    const ring = await focusRing();
    expect(ring.testid).toBe('export-run');
    expect(ring.style, 'visible focus on the Export button').not.toBe('none');
    expect(ring.width).not.toBe('0px');
    await page.keyboard.press('Enter');
    await page.waitForSelector('[data-testid=export-parity][data-status=measured]', { timeout: 240_000 });

    const checks = page.locator('[data-testid=parity-check]');
    expect(await checks.count()).toBe(2);
    const manifest = BundleManifestSchema.parse(JSON.parse(readFileSync(join(dataDir, 'runs', RUN, 'exports', 'manifest.json'), 'utf8')));
    const parity = manifest.parity!;
    expect(parity.status).toBe('measured');
    for (const [i, c] of parity.checks.entries()) {
      const row = checks.nth(i);
      const text = (await row.textContent()) ?? '';
      console.log(`[parity shown] ${text.replace(/\s+/g, ' ').trim()}`);
      expect(await row.getAttribute('data-pass'), c.files.join('+')).toBe('true');
      expect(text, c.files.join('+')).toContain(c.files.join(' + '));
      expect(await row.locator('[data-testid=parity-diff]').textContent(), c.files.join('+')).toBe(c.maxRelDiff.toExponential(2));
      expect(c.maxRelDiff, c.files.join('+')).toBeLessThanOrEqual(c.bound);
    }
    await shot(page, 'export-parity.png');
  }, 300_000);

  it('Try in llama.cpp: the merged GGUF in llama.cpp and our engine answer the same chat turn with the same greedy tokens', async () => {
    await page.waitForSelector('[data-testid=llama-try] [data-testid=try-run]', { timeout: 60_000 });
    expect(await page.inputValue('[data-testid=try-files]')).toBe('merged');
    await page.fill('[data-testid=try-prompt]', 'Name a fruit.');
    await page.fill('[data-testid=try-max]', '16');
    expect(await page.inputValue('[data-testid=try-temperature]')).toBe('0');
    await page.focus('[data-testid=try-run]');
    await page.keyboard.press('Enter');
    await page.waitForSelector('[data-testid=try-verdict]', { timeout: 180_000 });
    const llama = page.locator('[data-testid=try-side-llama]');
    const engine = page.locator('[data-testid=try-side-engine]');
    expect(await llama.getAttribute('data-state'), await llama.textContent() ?? '').toBe('done');
    expect(await engine.getAttribute('data-state'), await engine.textContent() ?? '').toBe('done');
    console.log(`[try] llama.cpp: ${(await llama.textContent())?.replace(/\s+/g, ' ')}\n[try] engine: ${(await engine.textContent())?.replace(/\s+/g, ' ')}`);
    expect(await llama.textContent()).toMatch(/merged\.gguf in node-llama-cpp/);
    expect(await page.getAttribute('[data-testid=try-verdict]', 'data-same')).toBe('true');
    expect(await llama.locator('[data-testid=try-reply]').textContent()).toBe(await engine.locator('[data-testid=try-reply]').textContent());
    const ids = await llama.locator('[data-testid=try-ids]').textContent();
    expect(ids).toMatch(/^ids( \d+){1,16}$/); // at most the 16 asked for (fewer when an EOS ends it)
    expect(await engine.locator('[data-testid=try-ids]').textContent()).toBe(ids);
    await shot(page, 'export-try.png');
    // the format list, the parity table and the try panel: no accessibility violation (axe-core's rules)
    const axe = await new AxeBuilder({ page }).include('[data-testid=export-formats]').include('[data-testid=export-parity]').include('[data-testid=llama-try]').analyze();
    expect(axe.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`)).toEqual([]);
    expect(errors).toEqual([]);
  }, 240_000);
});

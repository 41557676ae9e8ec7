// Browser mode's front door, in Chromium against the real `npm run web`: the bare address (no token) is refused and the
// page says which address to open; the printed address connects, and the page takes the token out of its address bar
// (and keeps it for a reload); a dataset uploaded through the page's own Upload button arrives in pieces in this page's
// upload folder and becomes the chosen dataset, with the upload limit shown beside the button.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UPLOAD_CHUNK_BYTES } from '../../core/api/contract';
import { launchBrowser, openPage, requireBuild, shot, startWeb, type WebApp } from './harness';

let web: WebApp;
let browser: Browser;
let dataDir: string;

beforeAll(async () => {
  requireBuild();
  dataDir = mkdtempSync(join(tmpdir(), 'mesp-e2e-door-'));
  web = await startWeb(dataDir);
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  await web?.kill('SIGTERM');
});

describe('browser mode front door', () => {
  it('refuses the page opened without its token, and says which address to open', async () => {
    const errors: string[] = [];
    const page = await openPage(browser, web.origin, errors);
    await expect.poll(() => page.textContent('body'), { timeout: 30_000 }).toMatch(/opened without its launch token.*npm run web/);
    expect(await page.getAttribute('[data-testid=connection]', 'class')).toMatch(/down/);
    await shot(page, 'browser-no-token.png');
    await page.close();
  });

  it('connects from the printed address, takes the token out of the address bar, and keeps it for a reload', async () => {
    const errors: string[] = [];
    const page = await openPage(browser, web.url, errors);
    await page.waitForSelector('[data-testid=connection].ready');
    expect(page.url()).toBe(`${web.origin}/`);
    expect(page.url()).not.toContain(web.token);
    await page.reload();
    await page.waitForSelector('[data-testid=connection].ready');
    expect(errors).toEqual([]);
    await page.close();
  });

  it('uploads a dataset through the page in pieces, into its own folder, and uses it', async () => {
    const errors: string[] = [];
    const page = await openPage(browser, web.url, errors);
    await page.waitForSelector('[data-testid=connection].ready');
    await page.click('[data-testid=nav-data]');
    expect(await page.textContent('[data-testid=data-picker-upload-limit]')).toBe('up to 8.00 GB a file');
    // A dataset of demo rows, a bit over one piece: it goes in two.
    const demo = readFileSync(join(dataDir, 'demo', 'demo-chat.jsonl'), 'utf8').split('\n').filter(Boolean);
    const lines: string[] = [];
    for (let n = 0, length = 0; length < UPLOAD_CHUNK_BYTES * 1.2; n++) {
      lines.push(demo[n % demo.length]);
      length += lines[n].length + 1;
    }
    const file = join(mkdtempSync(join(tmpdir(), 'mesp-e2e-up-')), 'uploaded-chat.jsonl');
    writeFileSync(file, lines.join('\n') + '\n');
    await page.setInputFiles('[data-testid=data-picker-upload]', file);
    await expect.poll(() => page.textContent('[data-testid=data-picker] .path'), { timeout: 60_000 }).toMatch(/uploads\/p-[0-9a-f]{12}\/[0-9a-f]{16}\/uploaded-chat\.jsonl$/);
    const chosen = (await page.textContent('[data-testid=data-picker] .path'))!;
    expect(readFileSync(chosen, 'utf8'), 'the file the service wrote is the one chosen').toBe(lines.join('\n') + '\n');
    expect(await page.locator('[data-testid=data-picker-error]').count()).toBe(0);
    await shot(page, 'browser-upload.png');
    expect(errors).toEqual([]);
    await page.close();
  });
});

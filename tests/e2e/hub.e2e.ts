// The Model and data view's Hugging Face Hub parts end to end: the built renderer in Chromium, in browser mode, against
// the real service, whose hub is a local one on 127.0.0.1 (tests/helpers/hub-server.ts: the hub's protocol, with
// fault modes) and whose cache is a fresh folder (HF_ENDPOINT, HF_HUB_CACHE). The catalogue tags each method with the
// plan's verdict for the chosen profile and settings (the same peaks as "will it fit?"); a catalogue model downloads
// with live progress, is cancelled mid-file and resumed with a Range request, and becomes the training model, all from
// the keyboard with focus following each replaced button; bad ids
// are refused inline; a dataset's .jsonl comes from a hub dataset repo; a pull another window started shows with its
// progress and can be cancelled from here; a short run trains on both; the view has no
// serious or critical axe violation; deleting from the cache asks first and works from the keyboard.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { AxeBuilder } from '@axe-core/playwright';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { METHODS } from '../../core/api/contract';
import { demoDatasetJsonl } from '../../core/model/demo-data';
import { demoModelFiles } from '../../core/model/demo';
import { demoModelRepo, makeRepo, startHub, type HubServer } from '../helpers/hub-server';
import { launchBrowser, openPage, requireBuild, shot, startWeb, type WebApp } from './harness';

/** The local hub serves the demo model under a catalogue id, and a dataset repo of 40 chat rows. */
const REPO = 'Qwen/Qwen2.5-0.5B-Instruct';
const DATA_REPO = 'mesp/chats';
/** A model that is not in the catalogue (another window downloads it). */
const OTHER_REPO = 'mesp/tiny';
const ROWS = 40;

let hub: HubServer;
let web: WebApp;
let browser: Browser;
let page: Page;
let root: string;
const errors: string[] = [];

beforeAll(async () => {
  requireBuild();
  root = mkdtempSync(join(tmpdir(), 'mesp-e2e-hub-'));
  const chats = demoDatasetJsonl('messages').split('\n').filter(Boolean).slice(0, ROWS).join('\n') + '\n';
  hub = await startHub(demoModelRepo(REPO, demoModelFiles()), demoModelRepo(OTHER_REPO, demoModelFiles()), makeRepo('dataset', DATA_REPO, { 'data/train.jsonl': chats, 'README.md': '# chats\n' }));
  web = await startWeb(join(root, 'data'), 0, [], { env: { HF_ENDPOINT: hub.url, HF_HUB_CACHE: join(root, 'hf-cache'), HF_TOKEN: '', HF_HUB_OFFLINE: '' } });
  browser = await launchBrowser();
  page = await openPage(browser, web.url, errors);
  await page.waitForSelector('[data-testid=connection].ready');
});

afterAll(async () => {
  await browser?.close();
  await web?.kill('SIGTERM');
  await hub?.stop();
});

const nav = (view: string): Promise<void> => page.click(`[data-testid=nav-${view}]`);
const row = (repo: string) => page.locator(`[data-testid=cat-row][data-repo="${repo}"]`);
const tag = (repo: string, method: string) => row(repo).locator(`[data-testid=cat-fit-${method}]`);
const cacheRow = (repo: string) => page.locator(`[data-testid=cache-row][data-repo="${repo}"]`);
const planned = (): Promise<string | null> => page.textContent('[data-testid=catalogue-planned]');
const focused = (): Promise<string | null> => page.evaluate(() => document.activeElement?.getAttribute('data-testid') ?? null);
const gb = (text: string | null): string => /(\d+\.\d+ GB)/.exec(text ?? '')?.[1] ?? `no size in "${text}"`;

describe('the Hugging Face Hub in the Model and data view', () => {
  it('tags each catalogue model\'s methods with the plan\'s verdict for the chosen profile and the Train settings', async () => {
    await page.click('[data-testid=profile-phone-6gb]');
    await nav('data');
    // The default settings (bf16 weights kept as they are): 0.5B fits with every method, 3B with none.
    await expect.poll(planned, { timeout: 30_000 }).toMatch(/^Planned for 6 GB phone \(class\) \(cap 2\.80 GB\) · seq \d+ · .* · weights none$/);
    expect(await page.locator('[data-testid=cat-row]').count()).toBe(6);
    for (const m of METHODS) {
      expect(await tag('Qwen/Qwen2.5-0.5B', m).getAttribute('data-fits'), `0.5B ${m}`).toBe('true');
      expect(await tag('Qwen/Qwen2.5-3B', m).getAttribute('data-fits'), `3B ${m}`).toBe('false');
      expect(await tag('Qwen/Qwen2.5-3B', m).textContent(), `3B ${m}`).toMatch(/over budget/);
    }
    expect(await row('Qwen/Qwen2.5-3B').textContent()).toMatch(/6\.17 GB/); // ≈ 2 bytes a parameter

    // int4 weights: the plan says full backprop's step does not fit 3B in 2.8 GB while MeSP's does; "will it fit?"
    // (plan.fit of the same shape) and the catalogue give the same peaks.
    await nav('train');
    await page.selectOption('[data-testid=set-quant]', 'int4');
    await nav('devices');
    await page.selectOption('[data-testid=fit-target]', 'qwen2.5-3b');
    await expect.poll(() => page.textContent('[data-testid=fit]'), { timeout: 30_000 }).toMatch(/qwen2\.5-3b · seq/);
    const full = await page.textContent('[data-testid=fit-full]');
    const mesp = await page.textContent('[data-testid=fit-mesp]');
    expect(full).toMatch(/over budget/);
    expect(mesp).toMatch(/fits/);
    await page.selectOption('[data-testid=fit-target]', '');
    await nav('data');
    await expect.poll(planned, { timeout: 30_000 }).toMatch(/weights int4$/); // the re-plan, not the tags left from bf16
    await page.waitForSelector('[data-testid=catalogue-planned]:not(.stale)');
    expect(await tag('Qwen/Qwen2.5-3B', 'full').getAttribute('data-fits')).toBe('false');
    expect(await tag('Qwen/Qwen2.5-3B', 'full').textContent()).toMatch(/Full backprop: over budget/);
    expect(gb(await tag('Qwen/Qwen2.5-3B', 'full').textContent())).toBe(gb(full));
    expect(await tag('Qwen/Qwen2.5-3B', 'mesp').getAttribute('data-fits')).toBe('true');
    expect(await tag('Qwen/Qwen2.5-3B', 'mesp').textContent()).toMatch(/MeSP: fits/);
    expect(gb(await tag('Qwen/Qwen2.5-3B', 'mesp').textContent())).toBe(gb(mesp));
    await shot(page, 'hub-catalogue.png');
    await nav('train');
    await page.selectOption('[data-testid=set-quant]', 'none');
  });

  it('downloads a catalogue model with live progress, cancels it mid-file, resumes it, and makes it the training model, from the keyboard', async () => {
    await nav('data');
    hub.fault(REPO, 'model.safetensors', { stallAfter: 700_000 }); // the weights stop after 0.7 MB until cancelled
    // From the keyboard: each action's button is replaced by the next one's, and focus follows it.
    await row(REPO).locator('[data-testid=cat-download]').focus();
    await page.keyboard.press('Enter');
    await page.waitForSelector('[data-testid=cat-pull][data-status=running] [data-path="model.safetensors"][data-state=moving]', { timeout: 30_000 });
    expect(await focused(), 'focus moved from Download to Cancel').toBe('cat-cancel');
    const pull = page.locator('[data-testid=cat-pull]');
    const total = Number(await pull.getAttribute('data-total-bytes'));
    const done = Number(await pull.getAttribute('data-done-bytes'));
    expect(total).toBe(2_918_802);
    expect(done).toBeGreaterThan(0);
    expect(done).toBeLessThan(total);
    expect(await page.textContent('[data-testid=cat-pull-total]')).toMatch(/^\d+\.\d+ MB of 2\.92 MB · \d+(\.\d+)? (MB|GB)\/s · ETA \S+/);
    expect(await pull.locator('[data-path="model.safetensors"]').textContent()).toMatch(/^model\.safetensors\s*\d+\.\d+ MB of \d+\.\d+ MB · .*\/s · ETA/);
    expect(await pull.locator('[data-path="config.json"]').textContent()).toMatch(/already in the cache/); // read first, for the architecture
    expect(await pull.locator('[data-path="tokenizer.json"]').textContent()).toMatch(/git-sha1 [0-9a-f]{12}…/); // verified before the weights
    expect(await page.getAttribute('[data-testid=cat-pull] progress', 'value')).toBe(String(done));
    await shot(page, 'hub-download.png');

    await page.keyboard.press('Enter'); // Cancel
    await page.waitForSelector('[data-testid=cat-pull][data-status=cancelled]', { timeout: 30_000 });
    const kept = Number(await pull.getAttribute('data-partial-bytes'));
    expect(kept).toBeGreaterThan(0);
    expect(await page.textContent('[data-testid=cat-pull-status]')).toContain(`Cancelled; ${(kept / 1e6).toFixed(2)} MB kept`);
    await expect.poll(() => row(REPO).getAttribute('data-state')).toBe('partial');
    await expect.poll(() => row(REPO).locator('[data-testid=cat-resume]').textContent()).toContain(`Resume (${(kept / 1e6).toFixed(2)} MB kept)`);
    await expect.poll(() => cacheRow(REPO).getAttribute('data-complete')).toBe('false');
    await expect.poll(focused, { message: 'focus moved from Cancel to Resume' }).toBe('cat-resume');

    hub.clearFaults();
    const mark = hub.log.length;
    await page.keyboard.press('Enter'); // Resume
    await expect.poll(() => row(REPO).getAttribute('data-state'), { timeout: 30_000 }).toBe('cached');
    const body = hub.log.slice(mark).find((q) => q.path.startsWith('/lfs-store/') && q.range !== 'bytes=0-0');
    expect(body?.range, 'the resume asks for the rest of the file only').toBe(`bytes=${kept}-`);
    await expect.poll(() => cacheRow(REPO).getAttribute('data-complete')).toBe('true');
    expect(await cacheRow(REPO).textContent()).toMatch(/main \([0-9a-f]{7}\).*2\.92 MB.*complete/);

    await expect.poll(focused, { message: 'focus moved from Resume to Use for training' }).toBe('cat-use');
    await page.keyboard.press('Enter'); // Use for training
    await expect.poll(() => page.textContent('[data-testid=model-card]')).toContain(REPO);
    expect(await page.textContent('[data-testid=model-picker]')).toMatch(/models--Qwen--Qwen2\.5-0\.5B-Instruct[\\/]snapshots[\\/][0-9a-f]{40}/);
    await row(REPO).locator('[data-testid=cat-chosen]').waitFor();
    await cacheRow(REPO).locator('[data-testid=cache-chosen]').waitFor();
    expect(await focused(), 'focus rests on the "Training model" mark in the row').toBe('cat-chosen');
  });

  it('refuses a malformed hub id inline, and shows a repo that does not exist as the pull\'s error', async () => {
    await page.fill('[data-testid=hub-other-repo]', 'not an id');
    await page.click('[data-testid=hub-other-download]');
    expect(await page.textContent('[data-testid=hub-other-repo-error]')).toMatch(/give a hub id OWNER\/NAME/);
    expect(await page.getAttribute('[data-testid=hub-other-repo]', 'aria-invalid')).toBe('true');
    await page.fill('[data-testid=hub-other-repo]', 'mesp/nope');
    await page.press('[data-testid=hub-other-repo]', 'Enter'); // the form submits from the keyboard
    await page.waitForSelector('[data-testid=other-pull][data-status=failed]', { timeout: 30_000 });
    expect(await page.textContent('[data-testid=other-pull-status]')).toMatch(/mesp\/nope does not exist/);
    expect(await page.locator('[data-testid=hub-other-repo-error]').count()).toBe(0);
  });

  it('pulls a .jsonl file of a hub dataset repo and makes it the dataset', async () => {
    await page.fill('[data-testid=hub-data-repo]', DATA_REPO);
    await page.fill('[data-testid=hub-data-file]', 'data/train.txt');
    await page.click('[data-testid=hub-data-download]');
    expect(await page.textContent('[data-testid=hub-data-file-error]')).toMatch(/\.jsonl file inside the dataset repo/);
    await page.fill('[data-testid=hub-data-file]', 'data/train.jsonl');
    await page.click('[data-testid=hub-data-download]');
    await page.waitForSelector('[data-testid=data-pull][data-status=done]', { timeout: 30_000 });
    await expect.poll(focused, { message: 'focus moved from the disabled Download to Use' }).toBe('data-use');
    await page.keyboard.press('Enter');
    await expect.poll(() => page.textContent('[data-testid=data-picker]')).toMatch(/datasets--mesp--chats[\\/]snapshots[\\/][0-9a-f]{40}[\\/]data[\\/]train\.jsonl/);
    expect(await page.textContent('[data-testid=data-facts]')).toMatch(new RegExp(`Rows\\s*${ROWS}(?!\\d)`));
    await cacheRow(DATA_REPO).locator('[data-testid=cache-chosen]').waitFor();
    expect(await focused(), 'focus rests on the "The dataset" mark').toBe('data-chosen');
  });

  it('shows a pull another window started, with its progress, and cancels it from here', async () => {
    hub.fault(OTHER_REPO, 'model.safetensors', { stallAfter: 700_000 });
    const other = await openPage(browser, web.url, errors);
    try {
      await other.waitForSelector('[data-testid=connection].ready');
      await other.click('[data-testid=nav-data]');
      await other.fill('[data-testid=hub-other-repo]', OTHER_REPO);
      await other.click('[data-testid=hub-other-download]');
      await other.waitForSelector('[data-testid=other-pull][data-status=running] [data-path="model.safetensors"][data-state=moving]', { timeout: 30_000 });
      const here = page.locator('[data-testid=hub-elsewhere] [data-testid=elsewhere-pull]');
      await page.waitForSelector('[data-testid=hub-elsewhere] [data-testid=elsewhere-pull][data-status=running] [data-path="model.safetensors"][data-state=moving]', { timeout: 30_000 });
      expect(await here.count()).toBe(1);
      expect((await page.textContent('[data-testid=elsewhere-pull-status]'))?.trim()).toBe(`Downloading ${OTHER_REPO}`);
      expect(await page.textContent('[data-testid=elsewhere-pull-total]')).toMatch(/^\d+\.\d+ MB of 2\.92 MB · /);
      await page.click('[data-testid=elsewhere-cancel]');
      await page.waitForSelector('[data-testid=hub-elsewhere]', { state: 'detached', timeout: 30_000 });
      await other.waitForSelector('[data-testid=other-pull][data-status=cancelled]', { timeout: 30_000 });
      expect((await other.textContent('[data-testid=other-pull-status]'))?.trim()).toMatch(/^Cancelled; \d+\.\d+ MB kept/);
      await expect.poll(() => cacheRow(OTHER_REPO).getAttribute('data-complete')).toBe('false');
    } finally {
      hub.clearFaults();
      await other.close();
    }
  });

  it('has no serious or critical accessibility violation (axe), with the catalogue, a pull, the cache and a confirmation shown', async () => {
    await cacheRow(DATA_REPO).locator('[data-testid=cache-delete]').click();
    await page.waitForSelector('[data-testid=cache-confirm]');
    const r = await new AxeBuilder({ page }).include('main').analyze();
    const bad = r.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
    expect(bad.map((v) => `${v.id} (${v.impact}): ${v.help} at ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join('; ')}`)).toEqual([]);
    await shot(page, 'hub-model-data.png');
    await page.click('[data-testid=cache-keep]');
    await page.waitForSelector('[data-testid=cache-confirm]', { state: 'detached' });
  });

  it('trains a short run on the downloaded model and dataset', async () => {
    await nav('train');
    await page.fill('[data-testid=set-steps]', '2');
    await page.click('[data-testid=train-start]');
    const done = await page.waitForSelector('[data-testid=run-done]', { timeout: 120_000 });
    expect(await done.textContent()).toMatch(/Finished after step 2/);
    const adapterDir = (await page.textContent('[data-testid=run-done] code'))!.trim();
    const config = JSON.parse(readFileSync(join(dirname(adapterDir), 'config.json'), 'utf8')) as { request: { modelDir: string; dataPath: string }; model: { name: string } };
    expect(config.request.modelDir).toMatch(/models--Qwen--Qwen2\.5-0\.5B-Instruct[\\/]snapshots[\\/][0-9a-f]{40}$/);
    expect(config.request.dataPath).toMatch(/datasets--mesp--chats[\\/]snapshots[\\/][0-9a-f]{40}[\\/]data[\\/]train\.jsonl$/);
    expect(config.model.name).toBe(REPO);
  });

  it('deletes a model from the cache from the keyboard, after a confirmation; the demo model is chosen again', async () => {
    await nav('data');
    const del = cacheRow(REPO).locator('[data-testid=cache-delete]');
    await del.focus();
    await page.keyboard.press('Enter');
    await page.waitForSelector('[data-testid=cache-confirm]');
    expect(await page.evaluate(() => document.activeElement?.getAttribute('data-testid'))).toBe('cache-keep');
    expect(await page.textContent('[data-testid=cache-confirm]')).toMatch(/You are using it; the demo model is chosen instead/);
    await page.keyboard.press('Enter'); // "Keep it"
    await page.waitForSelector('[data-testid=cache-confirm]', { state: 'detached' });
    expect(await cacheRow(REPO).count()).toBe(1);
    expect(await focused(), 'focus is back on Delete…').toBe('cache-delete');
    await page.keyboard.press('Enter');
    await page.waitForSelector('[data-testid=cache-confirm]');
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.getAttribute('data-testid'))).toBe('cache-confirm-delete');
    await page.keyboard.press('Enter');
    await expect.poll(() => cacheRow(REPO).count()).toBe(0);
    expect(await page.textContent('[data-testid=cache-notice]')).toMatch(/Deleted Qwen\/Qwen2\.5-0\.5B-Instruct from the cache \(2\.92 MB freed\); the demo model is the training model again/);
    await expect.poll(() => page.textContent('[data-testid=model-card]')).toContain('qwen2-demo');
    await expect.poll(() => row(REPO).getAttribute('data-state')).toBe('remote');
    expect(errors).toEqual([]);
  });
});

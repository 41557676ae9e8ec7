// Sample replies end to end: the built renderer in Chromium, browser mode, the real service and engine on lavapipe,
// the demo model and dataset. In Train, the sample prompts file and "sample every" are set in the form's Sample
// replies group (TrainSpec's own fields); during the run the replies appear under the charts step by step (seen while
// the run is still training, not all at the end), one per prompt at step 0 and every N steps; the run's page in Runs
// shows the same replies read back from disk; and "Try it" opens Chat with that run's adapter, which answers beside
// the base model.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, openPage, requireBuild, shot, startWeb, type WebApp } from './harness';

let web: WebApp;
let browser: Browser;
let page: Page;
let dataDir: string;
let promptsFile: string;
const errors: string[] = [];
const PROMPTS = ['What is a phone?', 'Say hello.'];
const STEPS = 8;
const EVERY = 2;

beforeAll(async () => {
  requireBuild();
  dataDir = mkdtempSync(join(tmpdir(), 'mesp-e2e-samples-'));
  promptsFile = join(dataDir, 'sample-prompts.jsonl');
  writeFileSync(promptsFile, PROMPTS.map((p) => JSON.stringify({ messages: [{ role: 'user', content: p }] })).join('\n') + '\n');
  web = await startWeb(dataDir);
  browser = await launchBrowser();
  page = await openPage(browser, web.url, errors);
  await page.waitForSelector('[data-testid=connection].ready');
});

afterAll(async () => {
  await browser?.close();
  await web?.kill('SIGTERM');
});

/** Record each count of sample replies the Train view shows, with whether the run was still live then. */
async function watchReplies(): Promise<void> {
  await page.evaluate(() => {
    const w = window as unknown as { __replies: { n: number; live: boolean }[]; __obs?: MutationObserver };
    w.__replies = [];
    w.__obs?.disconnect();
    const note = (): void => {
      const el = document.querySelector('[data-testid=sample-replies]');
      const n = el ? Number(el.getAttribute('data-replies')) : 0;
      const last = w.__replies[w.__replies.length - 1];
      if (!last || last.n !== n) w.__replies.push({ n, live: !!document.querySelector('[data-testid=train-stop]') });
    };
    w.__obs = new MutationObserver(note);
    w.__obs.observe(document.body, { subtree: true, childList: true, attributes: true, attributeFilter: ['data-replies'] });
  });
}


describe('sample replies', () => {
  it('Train: the replies to the sample prompts appear under the charts step by step while the run trains', async () => {
    await page.click('[data-testid=nav-train]');
    await page.click('[data-testid=method-mesp]');
    await page.click('[data-group=samples] > summary');
    await page.fill('[data-testid=set-sample-prompts]', promptsFile);
    await page.fill('[data-testid=set-sample-every]', String(EVERY));
    await page.fill('[data-testid=set-steps]', String(STEPS));
    await watchReplies();
    await page.click('[data-testid=train-start]');
    await page.waitForSelector('[data-testid=run-done]', { timeout: 90_000 });
    const expected = Array.from({ length: STEPS / EVERY + 1 }, (_, i) => i * EVERY); // step 0, then every EVERY steps
    await expect.poll(() => page.getAttribute('[data-testid=sample-replies]', 'data-replies')).toBe(String(PROMPTS.length * expected.length));
    const seen = await page.evaluate(() => (window as unknown as { __replies: { n: number; live: boolean }[] }).__replies);
    const whileLive = seen.filter((s) => s.live && s.n > 0).map((s) => s.n);
    // Several counts drawn while the run was training, growing.
    expect(whileLive.length, `counts seen ${JSON.stringify(seen)}`).toBeGreaterThanOrEqual(2);
    expect([...whileLive].sort((a, b) => a - b)).toEqual(whileLive);
    const steps = await page.evaluate((n) => [...Array(n).keys()].map((i) => [...document.querySelectorAll(`[data-testid=sample-replies] [data-testid=sample-prompt-${i}] [data-testid=sample-reply]`)].map((li) => Number(li.getAttribute('data-step')))), PROMPTS.length);
    for (const [i, s] of steps.entries()) expect(s, `prompt ${i}: the steps answered`).toEqual(expected);
    const prompts = await page.locator('[data-testid=sample-replies] .prompt-text').allTextContents();
    for (const [i, p] of PROMPTS.entries()) expect(prompts[i], `prompt ${i}`).toContain(p);
    await shot(page, 'train-samples.png');
  });

  it('Runs: the run\'s page shows its replies over the steps, from disk; "Try it" opens Chat with its adapter', async () => {
    await page.click('[data-testid=nav-runs]');
    const row = page.locator('[data-testid=runs-table] tbody tr.clickable').first();
    await row.click();
    await page.waitForSelector('[data-testid=run-detail]');
    const expected = Array.from({ length: STEPS / EVERY + 1 }, (_, i) => i * EVERY);
    await expect.poll(() => page.getAttribute('[data-testid=sample-replies]', 'data-replies')).toBe(String(PROMPTS.length * expected.length));
    const steps = await page.evaluate((n) => [...Array(n).keys()].map((i) => [...document.querySelectorAll(`[data-testid=sample-replies] [data-testid=sample-prompt-${i}] [data-testid=sample-reply]`)].map((li) => Number(li.getAttribute('data-step')))), PROMPTS.length);
    for (const [i, s] of steps.entries()) expect(s, `prompt ${i}: the steps on disk`).toEqual(expected);
    const runDir = (await page.textContent('[data-testid=run-detail] p.muted code'))!;
    await page.click('[data-testid=run-try]');
    await page.waitForSelector('[data-testid=chat-settings]');
    expect(await page.inputValue('[data-testid=chat-run]')).toBe(runDir);
    expect(await page.isChecked('[data-testid=chat-adapter-run]')).toBe(true);
    await page.fill('[data-testid=chat-prompt]', PROMPTS[0]);
    await page.fill('[data-testid=chat-settings] [data-testid=set-max-new-tokens]', '8');
    await page.click('[data-testid=chat-generate]');
    await page.waitForSelector('[data-testid=chat-answers][data-status=done]', { timeout: 60_000 });
    for (const a of ['base', 'adapter']) {
      expect(await page.getAttribute(`[data-testid=answer-${a}]`, 'data-status'), `${a} answer`).toBe('done');
      expect(Number(await page.getAttribute(`[data-testid=answer-${a}]`, 'data-tokens')), `${a} tokens`).toBeGreaterThan(0);
    }
    expect(errors).toEqual([]);
  });
});

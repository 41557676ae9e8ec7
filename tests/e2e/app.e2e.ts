// The app end to end, as a user drives it: the built renderer in Chromium, in browser mode, against the real service
// and the real engine on lavapipe (no stub of the training path), in a fresh data folder where the service writes the
// demo model and dataset. It picks the 6 GB profile; trains the demo model with MeSP and watches the loss chart gain
// points while the memory charts stay under the cap line; pauses, resumes, stops and continues a run; forces a cap too
// small and sees the budget message, then resumes with a larger cap; compares MeSP with MeBP-style (both bars), then
// all four methods (the README's screenshot: MESP_UPDATE_SCREENSHOTS=1 copies it to docs/compare.png); reopens runs from disk; exports an adapter; refuses a
// path outside the service's folders; and kills the service mid-run to see the run shown as interrupted and resumed.
// Screenshots of each view go to artifacts/.
import { copyFileSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, launchBrowser, openPage, probe, requireBuild, shot, startWeb, waitPoints, type WebApp } from './harness';

let web: WebApp;
let browser: Browser;
let page: Page;
let dataDir: string;
const errors: string[] = [];

beforeAll(async () => {
  requireBuild();
  dataDir = mkdtempSync(join(tmpdir(), 'mesp-e2e-'));
  web = await startWeb(dataDir);
  browser = await launchBrowser();
  page = await openPage(browser, web.url, errors);
  await page.waitForSelector('[data-testid=connection].ready');
});

afterAll(async () => {
  await browser?.close();
  await web?.kill('SIGTERM');
});

const nav = async (view: string): Promise<void> => {
  await page.click(`[data-testid=nav-${view}]`);
};

/** Record every value the loss chart's point count takes, to see it grow while the run trains. */
async function watchLossPoints(): Promise<void> {
  await page.evaluate(() => {
    const w = window as unknown as { __seen: number[]; __obs?: MutationObserver };
    w.__seen = [];
    w.__obs?.disconnect();
    const note = (): void => {
      const el = document.querySelector('[data-chart="loss"]');
      if (!el) return;
      const v = Number(el.getAttribute('data-points'));
      if (w.__seen[w.__seen.length - 1] !== v) w.__seen.push(v);
    };
    w.__obs = new MutationObserver(note);
    w.__obs.observe(document.body, { subtree: true, childList: true, attributes: true, attributeFilter: ['data-points'] });
  });
}
const seenLossPoints = (): Promise<number[]> => page.evaluate(() => (window as unknown as { __seen: number[] }).__seen);

async function setSteps(n: number): Promise<void> {
  await page.fill('[data-testid=set-steps]', String(n));
}

async function waitRunEnded(timeout = 90_000): Promise<void> {
  await page.waitForSelector('[data-testid=train-start]', { timeout });
}

describe('MeSP Studio in browser mode', () => {
  it('Devices: picks the 6 GB profile and plans every method against its budget', async () => {
    await page.click('[data-testid=profile-phone-6gb]');
    await expect.poll(() => page.textContent('[data-testid=profile-budget]')).toBe('2.80 GB');
    // The chart still shows the previous profile's plan (4 points, its cap) until the new one arrives: wait for the
    // 6 GB profile's cap on the chart, not for any 4 points.
    await expect.poll(async () => (await probe(page, 'fit')).cap, { timeout: 30_000 }).toBe(2.8e9);
    const fit = await probe(page, 'fit');
    expect(fit.points).toBe(4);
    expect(fit.series).toEqual(['Full backprop', 'MeBP-style', 'MeSP', 'MeZO']);
    expect(await page.textContent('[data-testid=fit-mesp]')).toMatch(/fits/);
    // The projected step time on the phone, labelled a roofline projection (plan.fit's projections).
    await page.waitForSelector('[data-testid=roofline-mesp]');
    expect(await page.textContent('[data-testid=roofline]')).toMatch(/roofline projection, not a measurement[\s\S]*lower bound/);
    // Copy and edit: validation as you type.
    await page.click('[data-testid=profile-copy]');
    await page.fill('[data-testid=edit-budget]', '9000');
    expect(await page.textContent('[data-testid=edit-budget-error]')).toMatch(/below the RAM/);
    expect(await page.isDisabled('[data-testid=profile-save]')).toBe(true);
    await page.fill('[data-testid=edit-budget]', '2000');
    await page.waitForSelector('[data-testid=edit-budget-error]', { state: 'detached' });
    await shot(page, 'devices.png');
    await page.click('[data-testid=profile-editor] .btn-ghost');
    // "Will it fit?" for a real Qwen2.5 model, planned from its shape before any download.
    await page.selectOption('[data-testid=fit-target]', 'qwen2.5-1.5b');
    await expect.poll(() => page.textContent('[data-testid=fit]'), { timeout: 30_000 }).toMatch(/qwen2\.5-1\.5b · seq/);
    await page.waitForSelector('[data-testid=fit-mesp]');
    await shot(page, 'devices-qwen2.5-1.5b.png');
    await page.selectOption('[data-testid=fit-target]', '');
    await expect.poll(() => page.textContent('[data-testid=fit]'), { timeout: 30_000 }).toMatch(/qwen2-demo · seq/);
  });

  it('Model and data: the demo model and dataset are preselected; a path outside the allowed folders is refused', async () => {
    await nav('data');
    await page.waitForSelector('[data-testid=model-facts]');
    expect(await page.textContent('[data-testid=model-card]')).toContain('qwen2-demo');
    expect(await page.textContent('[data-testid=data-facts]')).toMatch(/Rows\s*200/);
    expect(await page.locator('[data-testid=tokens] .tok-trained').count()).toBeGreaterThan(0);
    await shot(page, 'model-data.png');
    await page.fill('[data-testid=model-picker-path]', '/etc');
    await page.click('[data-testid=model-picker-use]');
    await expect.poll(() => page.textContent('[data-testid=model-picker-error]')).toMatch(/outside the allowed folders/);
    expect(await page.textContent('[data-testid=model-card]')).toContain('qwen2-demo'); // the choice did not change
  });

  it('Train: MeSP trains the demo model; the loss chart gains points; memory stays under the cap line', async () => {
    await nav('train');
    await page.click('[data-testid=method-mesp]');
    await setSteps(16);
    await watchLossPoints();
    await page.click('[data-testid=train-start]');
    await waitPoints(page, 'loss', 16);
    await page.waitForSelector('[data-testid=run-done]');
    const seen = await seenLossPoints();
    expect(seen.filter((n) => n > 0).length).toBeGreaterThanOrEqual(3); // drawn while training, not all at the end
    expect([...seen].sort((a, b) => a - b)).toEqual(seen);
    await waitPoints(page, 'memory', 2);
    const mem = await probe(page, 'memory');
    expect(mem.cap).toBe(2.8e9);
    expect(mem.max).toBeGreaterThan(0);
    expect(mem.max).toBeLessThanOrEqual(mem.cap!);
    const peaks = await probe(page, 'peaks');
    expect(peaks.points).toBe(16);
    expect(peaks.max).toBeLessThanOrEqual(peaks.cap!);
    expect(await probe(page, 'throughput')).toMatchObject({ points: 16 });
    expect(await page.textContent('[data-testid=progress]')).toMatch(/step 16 of 16/);
    await shot(page, 'train.png');
  });

  it('Train: pause holds the run, resume continues, stop checkpoints, and the stopped run continues', async () => {
    await setSteps(2000);
    await page.click('[data-testid=train-start]');
    await waitPoints(page, 'loss', 2);
    await page.click('[data-testid=train-pause]');
    await page.waitForSelector('[data-testid=train-resume]');
    // 'pausing' while the step in flight ends, 'paused' once the trainer holds at its gate: no step after that.
    await page.waitForSelector('[data-testid=train-status][data-status=paused]');
    const held = (await probe(page, 'loss')).points;
    await page.waitForTimeout(600);
    expect((await probe(page, 'loss')).points).toBe(held);
    await page.click('[data-testid=train-resume]');
    await waitPoints(page, 'loss', held + 2);
    await page.click('[data-testid=train-stop]');
    await page.waitForSelector('[data-testid=run-done]');
    expect(await page.textContent('[data-testid=run-done]')).toMatch(/Stopped after step \d+/);
    const stoppedAt = (await probe(page, 'loss')).points;
    await page.click('[data-testid=run-continue]');
    await waitPoints(page, 'loss', stoppedAt + 2);
    await page.click('[data-testid=train-stop]');
    await waitRunEnded();
  });

  it('Train: a cap too small shows the budget message naming the tensor and the overshoot; a larger cap resumes', async () => {
    await setSteps(4);
    await page.fill('[data-testid=set-cap-bytes]', '3.2'); // weights, adapter and AdamW state fit; a step's activations do not
    await page.click('[data-testid=train-start]');
    const msg = await page.waitForSelector('[data-testid=budget-error]');
    const text = (await msg.textContent())!;
    expect(text).toMatch(/Out of memory budget/);
    expect(text).toMatch(/Allocating \S+:\S+ \(/); // category:tensor (bytes)
    expect(text).toMatch(/cap of 3\.20 MB by/);
    expect(text).toMatch(/Allocating (activations|workspace|grads):/); // refused mid-step, not while loading
    expect(await page.textContent('[data-testid=budget-overshoot]')).toMatch(/^\d+(\.\d+)? (B|KB|MB)$/);
    await shot(page, 'train-budget.png');
    await page.click('[data-testid=budget-resume]');
    await page.waitForSelector('[data-testid=run-done]', { timeout: 60_000 });
    expect(await page.locator('[data-testid=budget-error]').count()).toBe(0);
    await page.fill('[data-testid=set-cap-bytes]', '');
  });

  it('Compare: MeSP and MeBP-style side by side, both bars against the budget', async () => {
    await nav('compare');
    for (const m of ['full', 'mezo']) await page.click(`[data-testid=compare-method-${m}]`);
    await page.fill('[data-testid=compare-steps]', '4');
    await page.click('[data-testid=compare-start]');
    await page.waitForSelector('[data-testid=compare-summary] h3 [data-status=done]', { timeout: 90_000 });
    const peak = await probe(page, 'compare-peak');
    expect(peak.series).toEqual(['MeBP-style', 'MeSP']);
    expect(peak.points).toBe(2);
    expect(peak.max).toBeLessThanOrEqual(peak.cap!);
    expect((await probe(page, 'compare-timeline-mesp')).points).toBeGreaterThan(2);
    expect((await probe(page, 'compare-timeline-mebp')).points).toBeGreaterThan(2);
    expect((await probe(page, 'compare-loss-step')).points).toBe(8);
    await shot(page, 'compare-mesp-mebp.png');
  });

  it('Compare: all four methods with MeZO\'s gradient cosine (the README screenshot)', async () => {
    for (const m of ['full', 'mezo']) await page.click(`[data-testid=compare-method-${m}]`);
    await page.fill('[data-testid=compare-steps]', '8');
    await page.click('[data-testid=compare-start]');
    await page.waitForSelector('[data-testid=compare-stop]');
    await page.waitForSelector('[data-testid=compare-summary] h3 [data-status=done]', { timeout: 120_000 });
    expect((await probe(page, 'compare-peak')).points).toBe(4);
    expect(Number(await page.textContent('[data-testid=cosine-mean]'))).toBeGreaterThanOrEqual(0);
    const file = await shot(page, 'compare.png');
    // The README's screenshot is refreshed on request only, so a test run leaves the checkout clean.
    if (process.env.MESP_UPDATE_SCREENSHOTS === '1') {
      mkdirSync(join(ROOT, 'docs'), { recursive: true });
      copyFileSync(file, join(ROOT, 'docs/compare.png'));
    }
  });

  it('Runs: past runs and comparisons are reopened from disk', async () => {
    await nav('runs');
    await page.waitForSelector('[data-testid=runs-table] tbody tr.clickable');
    expect(await page.locator('[data-testid=runs-table] tbody tr.clickable').count()).toBe(3);
    expect(await page.locator('[data-testid=comparisons-table] tbody tr.clickable').count()).toBe(2);
    // The first MeSP run (the oldest row).
    await page.locator('[data-testid=runs-table] tbody tr.clickable').last().click();
    await page.waitForSelector('[data-testid=run-where]');
    expect(await page.textContent('[data-testid=run-where]')).toMatch(/Finished all 16 steps/);
    await waitPoints(page, 'loss', 16);
    await shot(page, 'runs.png');
  });

  it('Export: the finished run\'s adapter is written with sizes shown first', async () => {
    await nav('export');
    await page.waitForSelector('[data-testid=export-preview]');
    await page.click('[data-testid=export-run]');
    await page.waitForSelector('[data-testid=export-result]');
    expect(await page.textContent('[data-testid=export-result]')).toMatch(/adapter_model\.safetensors/);
    expect(await page.textContent('[data-testid=export-readme]')).toMatch(/--lora/); // the deployment README, llama.cpp's command line
    await shot(page, 'export.png');
  });

  it('a run survives the service: killed mid-run, it shows as interrupted and resumes from its checkpoint', async () => {
    await nav('train');
    await setSteps(3000);
    await page.fill('[data-testid=set-checkpoint-every]', '5');
    await page.click('[data-testid=train-start]');
    await waitPoints(page, 'loss', 12);
    await web.kill('SIGKILL');
    await page.waitForSelector('[data-testid=connection].down');
    web = await startWeb(dataDir, web.port, [], { token: web.token }); // same address and token: the page reconnects by itself
    await page.waitForSelector('[data-testid=connection].ready', { timeout: 30_000 });
    await nav('runs');
    await page.click('button:has-text("Refresh")');
    const row = page.locator('[data-testid=runs-table] tbody tr.clickable').first();
    await expect.poll(() => row.locator('[data-status]').getAttribute('data-status')).toBe('interrupted');
    await row.click();
    await expect.poll(() => page.textContent('[data-testid=run-where]')).toMatch(/Interrupted after step \d+ of 3000 .*last checkpoint at step \d+/);
    await shot(page, 'runs-interrupted.png');
    await page.click('[data-testid=run-resume]');
    await page.waitForSelector('[data-testid=train-stop]');
    const before = (await probe(page, 'loss')).points;
    await waitPoints(page, 'loss', before + 2);
    await page.click('[data-testid=train-stop]');
    await waitRunEnded();
    expect(errors.filter((e) => !/WebSocket|ERR_CONNECTION_REFUSED|lost the connection/.test(e))).toEqual([]);
  });
});

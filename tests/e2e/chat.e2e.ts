// The Chat view end to end: the built renderer in Chromium, browser mode, the real service and engine on lavapipe, the
// demo model. One prompt, typed and sent from the keyboard, gets two answers side by side (the base model's, then
// the adapter's, same seed and sampling settings) that arrive token by token (the token count of each answer is
// watched as it changes); each answer is exactly what `mesp generate --json` prints for the same settings, without
// and with the adapter; a non-zero adapter changes the answer, a zero one (B = 0, a fresh LoRA) does not; the KV cache
// is shown against the profile's cap; a sampling setting out of its range is refused in the schema's words; the
// controls take visible keyboard focus and axe finds no WCAG 2 A/AA violation in the view.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import AxeBuilder from '@axe-core/playwright';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kvCacheBytes } from '../../core/infer/kvcache';
import { openModelFolder } from '../../core/node/modelfiles';
import { runMesp } from '../helpers/cli';
import { randomAdapter, writePeftFolder } from '../helpers/lora';
import { launchBrowser, openPage, requireBuild, shot, startWeb, type WebApp } from './harness';

let web: WebApp;
let browser: Browser;
let page: Page;
let dataDir: string;
let nonZero: string;
let zero: string;
const errors: string[] = [];

const demoModel = (): string => join(dataDir, 'demo', 'qwen2-demo');

beforeAll(async () => {
  requireBuild();
  dataDir = mkdtempSync(join(tmpdir(), 'mesp-e2e-chat-'));
  web = await startWeb(dataDir); // writes the demo model into the data folder
  const cfg = openModelFolder(demoModel()).config;
  const a = randomAdapter({ cfg } as Parameters<typeof randomAdapter>[0], 4, 8, 7);
  nonZero = writePeftFolder(join(dataDir, 'adapters', 'random'), a);
  zero = writePeftFolder(join(dataDir, 'adapters', 'zero'), { ...a, B: new Map([...a.B].map(([k, v]) => [k, new Float32Array(v.length)])) });
  browser = await launchBrowser();
  page = await openPage(browser, web.url, errors);
  await page.waitForSelector('[data-testid=connection].ready');
});

afterAll(async () => {
  await browser?.close();
  await web?.kill('SIGTERM');
});

const PROMPT = 'What does a LoRA adapter change?';
const SETTINGS = { 'max-new-tokens': '16', temperature: '0.8', 'top-k': '40', 'top-p': '0.95', seed: '11' };

/** Record every token count each answer shows, as it changes (to see the answers arrive progressively). */
async function watchTokenCounts(): Promise<void> {
  await page.evaluate(() => {
    const w = window as unknown as { __counts: Record<string, number[]>; __obs?: MutationObserver };
    w.__counts = { base: [], adapter: [] };
    w.__obs?.disconnect();
    const note = (): void => {
      for (const a of ['base', 'adapter']) {
        const el = document.querySelector(`[data-testid=answer-${a}]`);
        if (!el) continue;
        const v = Number(el.getAttribute('data-tokens'));
        const seen = w.__counts[a];
        if (seen[seen.length - 1] !== v) seen.push(v);
      }
    };
    w.__obs = new MutationObserver(note);
    w.__obs.observe(document.body, { subtree: true, childList: true, attributes: true, attributeFilter: ['data-tokens'] });
  });
}
const tokenCounts = (): Promise<Record<string, number[]>> => page.evaluate(() => (window as unknown as { __counts: Record<string, number[]> }).__counts);

/** `mesp generate --json` with the same prompt (a user turn through the chat template) and settings. */
async function cliText(adapter: string | null): Promise<string> {
  const file = join(dataDir, 'chat.json');
  writeFileSync(file, JSON.stringify([{ role: 'user', content: PROMPT }]));
  const args = ['generate', '--model', demoModel(), '--messages', file, ...Object.entries(SETTINGS).flatMap(([k, v]) => [`--${k}`, v]), '--json'];
  const r = await runMesp(adapter ? [...args, '--adapter', adapter] : args);
  if (r.status !== 0) throw new Error(`mesp generate exited ${r.status}: ${r.stderr}`);
  return (JSON.parse(r.stdout.trim()) as { text: string }).text;
}

/** Choose an adapter folder, type the prompt, send it with Ctrl+Enter, wait for both answers; their texts. */
async function ask(adapterDir: string): Promise<{ base: string; adapter: string }> {
  await page.check('[data-testid=chat-adapter-folder]');
  await page.fill('[data-testid=chat-adapter-dir]', adapterDir);
  for (const [flag, v] of Object.entries(SETTINGS)) await page.fill(`[data-testid=chat-settings] [data-testid=set-${flag}]`, v);
  await page.fill('[data-testid=chat-prompt]', PROMPT);
  const before = await page.getAttribute('[data-testid=chat-answers]', 'data-generation');
  await watchTokenCounts();
  await page.focus('[data-testid=chat-prompt]');
  await page.keyboard.press('Control+Enter');
  // This generation's end, not a previous one's.
  await page.waitForFunction((prev) => {
    const el = document.querySelector('[data-testid=chat-answers]');
    return !!el && el.getAttribute('data-generation') !== prev && el.getAttribute('data-status') === 'done';
  }, before, { timeout: 60_000 });
  const text = async (a: string): Promise<string> => (await page.textContent(`[data-testid=answer-${a}-text]`)) ?? '';
  return { base: await text('base'), adapter: await text('adapter') };
}

describe('Chat view', () => {
  it('streams the base and the adapter answers token by token; each is what mesp generate prints; a non-zero adapter changes it', async () => {
    await page.click('[data-testid=nav-chat]');
    await page.waitForSelector('[data-testid=chat-settings]');
    const got = await ask(nonZero);
    const counts = await tokenCounts();
    for (const a of ['base', 'adapter']) {
      const seen = counts[a].filter((n) => n > 0);
      // Drawn as the tokens came: several counts on the way to the last one, in order.
      expect(seen.length, `${a}: token counts seen ${counts[a].join(',')}`).toBeGreaterThanOrEqual(3);
      expect([...seen].sort((x, y) => x - y), `${a}: counts only grow`).toEqual(seen);
    }
    expect(await page.getAttribute('[data-testid=answer-base]', 'data-status')).toBe('done');
    expect(await page.getAttribute('[data-testid=answer-adapter]', 'data-status')).toBe('done');
    console.log(`base: ${JSON.stringify(got.base)} | adapter: ${JSON.stringify(got.adapter)}`);
    expect(got.base.length).toBeGreaterThan(0);
    expect(got.base).toBe(await cliText(null));
    expect(got.adapter).toBe(await cliText(nonZero));
    expect(got.adapter).not.toBe(got.base);
    // The KV cache for the prompt plus max new tokens, against the cap of the profile the sidebar shows.
    const mem = page.locator('[data-testid=chat-memory]');
    const promptTokens = Number(await mem.getAttribute('data-prompt-tokens'));
    expect(Number(await mem.getAttribute('data-kv'))).toBe(kvCacheBytes(openModelFolder(demoModel()).config, promptTokens + Number(SETTINGS['max-new-tokens'])));
    const budget = (await page.textContent('.sidebar-foot .foot-row:nth-child(2) b'))!;
    expect(await page.textContent('[data-testid=chat-kv]')).toMatch(new RegExp(`^[\\d.]+ (kB|MB) of ${budget.replace('.', '\\.')} \\(`));
    expect(await page.textContent('[data-testid=answer-adapter-tps]')).toMatch(/^[\d.]+ tokens\/s$/);
    await shot(page, 'chat.png');
  });

  it('a zero adapter (B = 0) answers exactly as the base model, same seed and settings', async () => {
    const got = await ask(zero);
    expect(got.base.length).toBeGreaterThan(0);
    expect(got.adapter).toBe(got.base);
  });

  it('a sampling setting out of range is refused in the schema\'s words, and Generate waits; the controls take keyboard focus visibly', async () => {
    await page.fill('[data-testid=chat-settings] [data-testid=set-top-p]', '1.5');
    await expect.poll(() => page.textContent('[data-field=topP] em')).toMatch(/Top p must be ≤ 1/);
    expect(await page.isDisabled('[data-testid=chat-generate]')).toBe(true);
    await page.fill('[data-testid=chat-settings] [data-testid=set-top-p]', '0.95');
    await page.waitForSelector('[data-field=topP] em', { state: 'detached' });
    expect(await page.isDisabled('[data-testid=chat-generate]')).toBe(false);
    await page.focus('[data-testid=chat-template]');
    await page.keyboard.press('Tab');
    const focused = await page.evaluate(() => {
      const el = document.activeElement as HTMLElement;
      return { testid: el.dataset.testid, outline: getComputedStyle(el).outlineStyle };
    });
    expect(focused).toEqual({ testid: 'chat-generate', outline: 'solid' });
    // Every control of the view has a name and a role a screen reader and the keyboard can use (axe, WCAG 2 A/AA).
    // (AxeBuilder needs a page of its own context: the same view, opened afresh.)
    const context = await browser.newContext({ viewport: { width: 1440, height: 1000 } });
    try {
      const fresh = await context.newPage();
      await fresh.goto(web.url);
      await fresh.waitForSelector('[data-testid=connection].ready');
      await fresh.click('[data-testid=nav-chat]');
      await fresh.check('[data-testid=chat-adapter-folder]');
      await fresh.fill('[data-testid=chat-adapter-dir]', nonZero);
      await fresh.fill('[data-testid=chat-prompt]', PROMPT);
      await fresh.waitForSelector('[data-testid=answer-adapter]');
      const axe = await new AxeBuilder({ page: fresh }).include('main').withTags(['wcag2a', 'wcag2aa']).analyze();
      expect(axe.passes.length).toBeGreaterThan(0);
      expect(axe.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`)).toEqual([]);
    } finally {
      await context.close();
    }
    expect(errors).toEqual([]);
  });
});

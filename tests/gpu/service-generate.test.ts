// The service's generations for the Chat view (generate.start / generate.cancel, core/node/service/handlers-generate.ts)
// on the real engine (Dawn + lavapipe, the demo model): the two answers stream token by token and equal what
// `runGenerate` gives alone for the same settings, base and with the adapter; a non-zero adapter changes the answer
// and a zero one (B = 0, as a fresh LoRA) does not; the generation takes the one GPU job slot (a run is refused while
// it runs, and a generation while a run trains); cancel ends the answer in flight and skips the other; a KV cache over
// the cap is refused before the prefill with the budget report, and the service generates again afterwards.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GenerateEvent, ServiceEvent } from '../../core/api/contract';
import { kvCacheBytes } from '../../core/infer/kvcache';
import { openModelFolder } from '../../core/node/modelfiles';
import { runGenerate } from '../../core/node/service/generate';
import { ServiceHost } from '../../core/node/service/host';
import { randomAdapter, writePeftFolder } from '../helpers/lora';

let host: ServiceHost;
let dataDir: string;
let demo: { modelDir: string; dataPath: string };
let nonZero: string;
let zero: string;
const events: ServiceEvent[] = [];

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'mesp-svc-gen-'));
  host = new ServiceHost({ dataDir, mode: 'test' });
  host.onEvent((e) => events.push(e));
  demo = (await host.call('app.info', {})).demo;
  const cfg = openModelFolder(demo.modelDir).config;
  const a = randomAdapter({ cfg } as Parameters<typeof randomAdapter>[0], 4, 8, 7);
  nonZero = writePeftFolder(join(dataDir, 'adapters', 'random'), a);
  zero = writePeftFolder(join(dataDir, 'adapters', 'zero'), { ...a, B: new Map([...a.B].map(([k, v]) => [k, new Float32Array(v.length)])) });
});
afterAll(async () => {
  await host?.shutdown();
});

const genEvents = (id: string): GenerateEvent[] => events.flatMap((e) => (e.type === 'generate' && e.generationId === id ? [e.event] : []));

async function until(what: string, ok: () => boolean, ms = 60_000): Promise<void> {
  const t0 = Date.now();
  while (!ok()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const ended = (id: string): GenerateEvent | undefined => genEvents(id).find((e) => e.type === 'end');
const sampling = { maxNewTokens: 12, temperature: 0.8, topK: 20, topP: 0.95, seed: 11 };
const prompt = { messages: [{ role: 'user', content: 'What is LoRA?' }] };

async function answers(adapterDir: string): Promise<{ id: string; base: number[]; adapter: number[]; evs: GenerateEvent[] }> {
  const r = await host.call('generate.start', { modelDir: demo.modelDir, adapterDir, profile: 'phone-6gb', ...prompt, ...sampling });
  expect(r.answers).toEqual(['base', 'adapter']);
  await until(`generation ${r.generationId} ends`, () => !!ended(r.generationId));
  const evs = genEvents(r.generationId);
  expect(ended(r.generationId)).toEqual({ type: 'end', status: 'done' });
  const result = (a: 'base' | 'adapter') => evs.find((e) => e.type === 'result' && e.answer === a);
  const tokens = (a: 'base' | 'adapter') => evs.flatMap((e) => (e.type === 'token' && e.answer === a ? [e] : []));
  for (const a of ['base', 'adapter'] as const) {
    const res = result(a);
    if (res?.type !== 'result') throw new Error(`no result for the ${a} answer`);
    const streamed = tokens(a);
    // Streamed one event per token, and the streamed text is the final text.
    expect(streamed.length, `${a}: token events`).toBeGreaterThanOrEqual(res.result.tokens.length);
    expect(streamed.map((t) => t.text).join(''), `${a}: streamed text`).toBe(res.result.text);
    expect(res.result.peakBytes.kvcache, `${a}: KV cache in the ledger`).toBe(res.result.kvCacheBytes);
    expect(res.result.peakBytes.total, `${a}: under the cap`).toBeLessThanOrEqual(res.result.capBytes);
  }
  // Base first, then the adapter: one GPU, one answer at a time.
  const order = evs.filter((e) => e.type === 'answer').map((e) => (e.type === 'answer' ? e.answer : ''));
  expect(order).toEqual(['base', 'adapter']);
  const ids = (a: 'base' | 'adapter') => {
    const res = result(a);
    return res?.type === 'result' ? res.result.tokens : [];
  };
  return { id: r.generationId, base: ids('base'), adapter: ids('adapter'), evs };
}

describe('generate.start', () => {
  it('streams the base and the adapter answers; each equals runGenerate alone; a non-zero adapter changes the answer', async () => {
    const got = await answers(nonZero);
    const alone = await runGenerate({ modelDir: demo.modelDir, profile: 'phone-6gb', ...prompt, ...sampling });
    const withAdapter = await runGenerate({ modelDir: demo.modelDir, adapterDir: nonZero, profile: 'phone-6gb', ...prompt, ...sampling });
    console.log(`base ${got.base.join(',')} | adapter ${got.adapter.join(',')}`);
    expect(got.base).toEqual(alone.tokens);
    expect(got.adapter).toEqual(withAdapter.tokens);
    expect(got.adapter).not.toEqual(got.base);
  });

  it('a zero adapter (B = 0) answers as the base model does, with the same seed and settings', async () => {
    const got = await answers(zero);
    expect(got.adapter).toEqual(got.base);
    expect(got.base.length).toBeGreaterThan(0);
  });

  it('takes the one GPU job slot: a run is refused while it generates, a generation while a run trains', async () => {
    const r = await host.call('generate.start', { modelDir: demo.modelDir, adapterDir: nonZero, profile: 'phone-6gb', prompt: 'hello', maxNewTokens: 200, temperature: 0 });
    await expect(host.call('runs.start', { modelDir: demo.modelDir, dataPath: demo.dataPath, profile: 'phone-6gb', steps: 2 })).rejects.toThrow(/generation gen-\S+ is using the GPU/);
    await expect(host.call('generate.start', { modelDir: demo.modelDir, profile: 'phone-6gb', prompt: 'x', answers: ['base'] })).rejects.toThrow(/cannot start a generation/);
    await host.call('generate.cancel', { generationId: r.generationId });
    await until('cancelled', () => !!ended(r.generationId));
    const run = await host.call('runs.start', { modelDir: demo.modelDir, dataPath: demo.dataPath, profile: 'phone-6gb', steps: 2, seqLen: 32 });
    await expect(host.call('generate.start', { modelDir: demo.modelDir, profile: 'phone-6gb', prompt: 'x', answers: ['base'] })).rejects.toThrow(/run \S+ is using the GPU/);
    await host.idle();
    expect((await host.call('runs.list', {})).runs.find((x) => x.id === run.runId)?.status).toBe('done');
  });

  it('cancel ends the answer in flight after its token and skips the other answer', async () => {
    const r = await host.call('generate.start', { modelDir: demo.modelDir, adapterDir: nonZero, profile: 'phone-6gb', prompt: 'hello', maxNewTokens: 500, temperature: 0 });
    await until('a first token', () => genEvents(r.generationId).some((e) => e.type === 'token'));
    expect((await host.call('generate.cancel', { generationId: r.generationId })).cancelled).toBe(true);
    await until('the end', () => !!ended(r.generationId));
    const evs = genEvents(r.generationId);
    expect(ended(r.generationId)).toEqual({ type: 'end', status: 'cancelled' });
    const res = evs.find((e) => e.type === 'result');
    expect(res?.type === 'result' && res.result.finishReason).toBe('cancelled');
    expect(res?.type === 'result' && res.result.tokens.length).toBeLessThan(500);
    expect(evs.some((e) => e.type !== 'end' && 'answer' in e && e.answer === 'adapter')).toBe(false);
    expect((await host.call('generate.cancel', { generationId: r.generationId })).cancelled).toBe(false); // over
  });

  it('a KV cache over the cap is refused before the prefill with the budget report; the next generation runs', async () => {
    const cfg = openModelFolder(demo.modelDir).config;
    const weights = (await host.call('model.inspect', { modelDir: demo.modelDir })).weightsBytes.none!;
    const maxNewTokens = 1000;
    const kv = kvCacheBytes(cfg, 2 + maxNewTokens);
    const capBytes = weights + Math.floor(kv / 2); // the weights fit, the cache does not
    const r = await host.call('generate.start', { modelDir: demo.modelDir, profile: 'phone-6gb', capBytes, prompt: 'hello', maxNewTokens, answers: ['base'] });
    await until('the end', () => !!ended(r.generationId));
    const end = ended(r.generationId);
    console.log(`refused: ${end?.type === 'end' ? end.error?.message : ''}`);
    expect(end).toMatchObject({ type: 'end', status: 'failed', error: { code: 'OUT_OF_BUDGET', budget: { capBytes, request: { category: 'kvcache' } } } });
    expect(genEvents(r.generationId).some((e) => e.type === 'token')).toBe(false); // nothing was generated
    const again = await host.call('generate.start', { modelDir: demo.modelDir, profile: 'phone-6gb', prompt: 'hello', maxNewTokens: 4, answers: ['base'] });
    await until('the end', () => !!ended(again.generationId));
    expect(ended(again.generationId)).toEqual({ type: 'end', status: 'done' });
  });

  it('refuses what it cannot do by name: an adapter answer without an adapter, a path outside the folders', async () => {
    await expect(host.call('generate.start', { modelDir: demo.modelDir, profile: 'phone-6gb', prompt: 'x' })).rejects.toThrow(/adapterDir: the answer with the adapter needs an adapter folder or a run/);
    await expect(host.call('generate.start', { modelDir: '/etc', profile: 'phone-6gb', prompt: 'x', answers: ['base'] })).rejects.toThrow(/outside the allowed folders/);
  });
});

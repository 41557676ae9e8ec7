// "Try in llama.cpp" in the app's service (export.llama, export.try; core/node/service/export-try.ts) on the real
// engine and real llama.cpp: a run of the demo model trained through the service, then: llama.cpp is reported
// available with its version; a try before any export, and on a bundle with only the GGUF LoRA, fails naming the
// missing file and what to export; on base.gguf + adapter.gguf (f32) a greedy try streams llama.cpp's reply, then our
// engine's, each token event adding up to the side's final reply, and ends with the same tokens on both sides; a second
// try while one runs is refused (one GPU job); with sampling, the same seed gives each side the same tokens again.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ServiceEvent, TryEvent, TrySide } from '../../core/api/contract';
import { closeLlama } from '../../core/node/llama';
import { ServiceHost } from '../../core/node/service/host';

let host: ServiceHost;
let runId: string;
const events: ServiceEvent[] = [];

beforeAll(async () => {
  host = new ServiceHost({ dataDir: mkdtempSync(join(tmpdir(), 'mesp-try-')), mode: 'test' });
  host.onEvent((e) => events.push(e));
  const demo = (await host.call('app.info', {})).demo;
  ({ runId } = await host.call('runs.start', {
    modelDir: demo.modelDir, dataPath: demo.dataPath, profile: 'phone-6gb', seqLen: 32, method: 'mesp', steps: 2, quant: 'none', targets: ['q', 'k', 'v', 'o'], lr: 0.05,
  }));
  await host.idle();
}, 300_000);
afterAll(async () => {
  await host?.shutdown();
  await closeLlama();
});

const tryEvents = (tryId: string): TryEvent[] => events.flatMap((e) => (e.type === 'export.try' && e.tryId === tryId ? [e.event] : []));

async function ended(tryId: string, ms = 120_000): Promise<TryEvent[]> {
  const t0 = Date.now();
  while (!tryEvents(tryId).some((e) => e.type === 'end')) {
    if (Date.now() - t0 > ms) throw new Error(`try ${tryId} did not end: ${JSON.stringify(tryEvents(tryId))}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return tryEvents(tryId); // the end event comes once the GPU slot is free again
}

const reply = (evs: TryEvent[], side: TrySide) => {
  const done = evs.find((e) => e.type === 'done' && e.side === side);
  if (done?.type !== 'done') throw new Error(`${side} did not finish: ${JSON.stringify(evs.filter((e) => e.type === 'error'))}`);
  return done.reply;
};

const messages = [{ role: 'user', content: 'Name a fruit.' }];

describe('Try in llama.cpp (service)', () => {
  it('export.llama: llama.cpp is available, with its version', async () => {
    const s = await host.call('export.llama', {});
    expect(s).toMatchObject({ available: true, reason: null });
    expect(s.version).toMatch(/^node-llama-cpp 3\.21\.1, llama\.cpp /);
  });

  it('a bundle without a GGUF model is refused, naming what is missing and what to export', async () => {
    await expect(host.call('export.try', { runId, messages })).rejects.toThrow(/no export bundle \(no manifest\.json\)/);
    await host.call('export.run', { runId, formats: ['gguf'], ggufType: 'f32', overwrite: true });
    await expect(host.call('export.try', { runId, messages })).rejects.toThrow(/lacks gguf\/base\.gguf: export the run with the gguf-base and gguf formats, or gguf-merged/);
    await expect(host.call('export.try', { runId, messages, files: 'merged' })).rejects.toThrow(/has no gguf\/merged\.gguf/);
  });

  it('greedy on base.gguf + adapter.gguf: both replies stream, and they are the same tokens; one try at a time', async () => {
    await host.call('export.run', { runId, formats: ['gguf', 'gguf-base'], ggufType: 'f32', overwrite: true, dtype: 'f32' });
    const r = await host.call('export.try', { runId, messages, maxNewTokens: 12 });
    expect(r.files).toEqual(['gguf/base.gguf', 'gguf/adapter.gguf']);
    await expect(host.call('export.try', { runId, messages })).rejects.toThrow(/is using the GPU/);
    const evs = await ended(r.tryId);
    expect(evs.filter((e) => e.type !== 'token').map((e) => `${e.type}${'side' in e ? ` ${e.side}` : ''}`))
      .toEqual(['start llama.cpp', 'done llama.cpp', 'start engine', 'done engine', 'end']);
    for (const side of ['llama.cpp', 'engine'] as const) {
      const toks = evs.flatMap((e) => (e.type === 'token' && e.side === side ? [e] : []));
      const rep = reply(evs, side);
      console.log(`[try] ${side}: ${rep.tokens.length} tokens ${rep.tokens.join(',')} (${rep.finishReason}) ${JSON.stringify(rep.text)}`);
      expect(toks.map((t) => t.token), side).toEqual(rep.tokens);
      expect(toks.map((t) => t.text).join(''), side).toBe(rep.text);
      expect(rep.tokens.length, side).toBeGreaterThan(0);
    }
    expect(reply(evs, 'llama.cpp').tokens).toEqual(reply(evs, 'engine').tokens);
    expect(evs.at(-1)).toEqual({ type: 'end', sameTokens: true });
  }, 240_000);

  it('sampling: the same seed gives each side the same tokens again', async () => {
    const sampled = async () => {
      const r = await host.call('export.try', { runId, messages, maxNewTokens: 12, temperature: 1.5, seed: 7 });
      const evs = await ended(r.tryId);
      return { llama: reply(evs, 'llama.cpp').tokens, engine: reply(evs, 'engine').tokens };
    };
    const a = await sampled();
    const b = await sampled();
    console.log(`[try] temperature 1.5 seed 7: llama.cpp ${a.llama.join(',')}; engine ${a.engine.join(',')}`);
    expect(b).toEqual(a);
  }, 240_000);
});

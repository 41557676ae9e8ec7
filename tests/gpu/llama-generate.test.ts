// Greedy generation in llama.cpp equals our engine's, token for token, in f32: on the tiny tied and untied models with
// a non-zero LoRA adapter, our GGUF base + our GGUF LoRA and our merged GGUF (exported as f32) run in llama.cpp from
// token ids (core/node/llama.ts llamaGenerate: node-llama-cpp's prebuilt CPU build, F32 KV cache, no flash attention,
// temperature 0) against our engine's greedy decode (core/infer through GenerateSession, f32 weights, the LoRA
// unmerged) from the same prompt ids: a chat prompt through the model's chat template, and a prompt of raw ids. The
// adapter is strong enough that the base model alone answers differently (checked), so the LoRA's path is compared too.
// Both sequences are printed when they differ. One llama.cpp instance for the file.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportRun } from '../../core/node/export';
import { closeLlama, llamaGenerate, openLlama, type LlamaModelFiles, type LlamaRuntime } from '../../core/node/llama';
import { openModelFolder } from '../../core/node/modelfiles';
import { GenerateSession } from '../../core/node/service/generate';
import { makeRunFolder, randomAdapter } from '../helpers/runfolder';
import { makeTinyModel } from '../helpers/tiny';

const NEW_TOKENS = 24;
const work = mkdtempSync(join(tmpdir(), 'mesp-llama-generate-'));
const cleanups: (() => void)[] = [() => rmSync(work, { recursive: true, force: true })];
let rt: LlamaRuntime;

beforeAll(async () => {
  const r = await openLlama();
  if ('unavailable' in r) throw new Error(r.unavailable); // a dependency of the project: fail, do not skip
  rt = r;
});
afterAll(async () => {
  await closeLlama();
  cleanups.forEach((c) => c());
});

describe('greedy generation: llama.cpp with our f32 GGUF files against our engine', () => {
  for (const tied of [true, false]) {
    const name = tied ? 'tied' : 'untied';
    it(`${name}: base + LoRA and merged GGUF give our engine's greedy tokens, token for token`, async () => {
      const model = makeTinyModel({ tokenizer: true, tokenizerVocab: 1024, tied });
      cleanups.push(model.cleanup);
      const cfg = openModelFolder(model.dir).config;
      const adapter = randomAdapter(cfg, { rank: 4, alpha: 8, targets: ['q', 'k', 'v', 'o', 'gate', 'up', 'down'], seed: 21, scale: 0.2 });
      const run = makeRunFolder(model.dir, adapter);
      cleanups.push(run.cleanup);
      const out = join(work, name);
      await exportRun({ runDir: run.dir, formats: ['gguf', 'gguf-base', 'gguf-merged'], outDir: out, ggufType: 'f32', parityRows: 0 });
      const llamaFiles: Record<string, LlamaModelFiles> = {
        'base.gguf + adapter.gguf': { model: join(out, 'gguf/base.gguf'), lora: { path: join(out, 'gguf/adapter.gguf') } },
        'merged.gguf': { model: join(out, 'gguf/merged.gguf') },
      };

      const session = await GenerateSession.open({ modelDir: model.dir, adapterDir: join(run.dir, 'adapter'), quant: 'none' }, { capBytes: Number.MAX_SAFE_INTEGER });
      try {
        const prompts: Record<string, number[]> = {
          chat: await session.chatIds([{ role: 'user', content: 'What is the capital of France?' }]),
          ids: [5, 77, 301, 12, 999, 640, 3, 3, 42],
        };
        for (const [pName, ids] of Object.entries(prompts)) {
          const ours = await session.generate(ids, { temperature: 0, maxNewTokens: NEW_TOKENS });
          expect(ours.tokens.length, `${name} ${pName}: our engine generated nothing`).toBeGreaterThan(0);
          // the adapter changes the answer, so agreeing with it is not agreeing with the base model
          const base = await session.generate(ids, { temperature: 0, maxNewTokens: NEW_TOKENS }, {}, { useAdapter: false });
          console.log(`[greedy] ${name}, ${pName} prompt, our engine: with the LoRA ${ours.tokens.join(',')}; base alone ${base.tokens.join(',')}`);
          expect(base.tokens, `${name} ${pName}: the LoRA should change the greedy tokens`).not.toEqual(ours.tokens);
          for (const [fName, files] of Object.entries(llamaFiles)) {
            const theirs = await llamaGenerate(rt, files, ids, { maxNewTokens: NEW_TOKENS, temperature: 0, eosIds: session.eosIds });
            const same = theirs.tokens.length === ours.tokens.length && theirs.tokens.every((t, i) => t === ours.tokens[i]);
            const first = theirs.tokens.findIndex((t, i) => t !== ours.tokens[i]);
            console.log(`[greedy] ${name}, ${pName} prompt (${ids.length} ids), llama.cpp ${fName}: ${same ? `equal, ${ours.tokens.length} tokens (${ours.finishReason})` : `DIFFERENT from token ${first}`}`);
            if (!same) {
              console.log(`  llama.cpp  ${theirs.tokens.join(',')} (${theirs.finishReason})\n  our engine ${ours.tokens.join(',')} (${ours.finishReason})`);
            }
            expect(theirs.tokens, `${name}, ${pName} prompt, llama.cpp with ${fName} vs our engine`).toEqual(ours.tokens);
          }
        }
      } finally {
        session.close();
      }
    }, 300_000);
  }
});

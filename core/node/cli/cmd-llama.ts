// `mesp llama-bench`: llama.cpp's speed on this machine for an exported GGUF (node-llama-cpp's prebuilt CPU build,
// core/node/llama.ts): prompt tokens/s and greedy decode tokens/s, one token at a time, with an optional GGUF LoRA.
// The prompt is token ids (the 256 byte tokens every byte-level BPE vocabulary starts with), so no tokenizer is needed.
// Flags and --help from the request schema (core/api/llama.ts).
import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { LlamaBenchRequestSchema } from '../../api/llama';
import { ConfigError } from '../../common/errors';
import { closeLlama, llamaDecodeSpeed, openLlama } from '../llama';
import { command } from './flags';
import { formatBytes } from './format';

export const LLAMA_BENCH = command({
  usage: ['mesp llama-bench --gguf FILE [--lora FILE] [--prompt-tokens N] [--tokens N] [--threads N] [--json]'],
  about: 'Load a GGUF model (and a GGUF LoRA) in llama.cpp on the CPU (node-llama-cpp, prebuilt; nothing is downloaded) and\n' +
    'measure prompt processing and greedy decoding speed. Speeds depend on what else runs on the machine.',
  shape: [LlamaBenchRequestSchema],
  schema: LlamaBenchRequestSchema,
});

export async function cmdLlamaBench(argv: string[]): Promise<number> {
  const { values: v } = LLAMA_BENCH.parse(argv);
  const model = resolve(v.gguf);
  const lora = v.lora !== undefined ? resolve(v.lora) : undefined;
  for (const [flag, f] of [['gguf', model], ['lora', lora]] as const) {
    if (f && !existsSync(f)) throw new ConfigError(`--${flag} ${f} does not exist`, { file: f, field: flag });
  }
  const rt = await openLlama();
  if ('unavailable' in rt) throw new ConfigError(rt.unavailable, { field: 'gguf' });
  const prompt = Array.from({ length: v.promptTokens }, (_, i) => 32 + ((i * 37) % 200)); // byte tokens: in every vocabulary
  const r = await llamaDecodeSpeed(rt, { model, lora: lora ? { path: lora } : undefined }, prompt, v.tokens, v.threads);
  const result = { model, modelBytes: statSync(model).size, lora: lora ?? null, runtime: rt.version, ...r };
  await closeLlama();
  if (v.json) {
    process.stdout.write(JSON.stringify(result) + '\n');
    return 0;
  }
  console.log(`${rt.version}, ${r.threads} threads`);
  console.log(`model ${model} (${formatBytes(result.modelBytes)})${lora ? ` + LoRA ${lora}` : ''}: loaded in ${r.loadSeconds.toFixed(2)} s`);
  console.log(`prompt: ${r.promptTokens} tokens at ${r.promptTokensPerSecond.toFixed(1)} tokens/s`);
  console.log(`decode: ${r.decodeTokens} tokens at ${r.decodeTokensPerSecond.toFixed(1)} tokens/s (greedy, one at a time)`);
  return 0;
}

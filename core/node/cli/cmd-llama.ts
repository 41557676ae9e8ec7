// `mesp llama-bench`: llama.cpp's speed on this machine for an exported GGUF (node-llama-cpp's prebuilt CPU build,
// core/node/llama.ts): prompt tokens/s and greedy decode tokens/s, one token at a time, with an optional GGUF LoRA.
// The prompt is token ids (the 256 byte tokens every byte-level BPE vocabulary starts with), so no tokenizer is needed.
import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { ConfigError } from '../../common/errors';
import { closeLlama, llamaDecodeSpeed, openLlama } from '../llama';
import { intFlag, parseFlags, required } from './args';
import { formatBytes } from './format';

export const LLAMA_BENCH_HELP = `mesp llama-bench --gguf FILE [--lora FILE] [--prompt-tokens N] [--tokens N] [--threads N] [--json]
  Load a GGUF model (and a GGUF LoRA) in llama.cpp on the CPU (node-llama-cpp, prebuilt; nothing is downloaded) and
  measure prompt processing and greedy decoding speed: --prompt-tokens (default 32) then --tokens generated one at a
  time (default 64). --threads defaults to the machine's math cores. Speeds depend on what else runs on the machine.`;

export async function cmdLlamaBench(argv: string[]): Promise<number> {
  const v = parseFlags(argv, {
    gguf: { type: 'string' }, lora: { type: 'string' }, 'prompt-tokens': { type: 'string' }, tokens: { type: 'string' }, threads: { type: 'string' }, json: { type: 'boolean' },
  }, 'llama-bench');
  const model = resolve(required(v, 'gguf', 'llama-bench'));
  const lora = typeof v.lora === 'string' ? resolve(v.lora) : undefined;
  for (const [flag, f] of [['gguf', model], ['lora', lora]] as const) {
    if (f && !existsSync(f)) throw new ConfigError(`--${flag} ${f} does not exist`, { file: f, field: flag });
  }
  const promptTokens = intFlag(v, 'prompt-tokens', 'llama-bench', 32);
  const decode = intFlag(v, 'tokens', 'llama-bench', 64, 2);
  const threads = v.threads !== undefined ? intFlag(v, 'threads', 'llama-bench', 1) : undefined;
  const rt = await openLlama();
  if ('unavailable' in rt) throw new ConfigError(rt.unavailable, { field: 'gguf' });
  const prompt = Array.from({ length: promptTokens }, (_, i) => 32 + ((i * 37) % 200)); // byte tokens: in every vocabulary
  const r = await llamaDecodeSpeed(rt, { model, lora: lora ? { path: lora } : undefined }, prompt, decode, threads);
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

// `mesp llama-bench`'s request: llama.cpp's prompt and decode speed for an exported GGUF model (and a GGUF LoRA) on
// the CPU, through node-llama-cpp (core/node/llama.ts). The fields carry their flag metadata (core/api/fields.ts), so
// the command's flags, parsing and --help come from this schema. Pure TS.
import { z } from 'zod';
import { described } from './fields';

export const LlamaBenchRequestSchema = z.object({
  gguf: described(z.string().min(1), { label: 'GGUF model', arg: 'FILE', group: 'inputs', help: 'a GGUF model file (gguf/base.gguf or gguf/merged.gguf of an export)' }),
  lora: described(z.string().min(1).optional(), { label: 'GGUF LoRA', arg: 'FILE', group: 'inputs', help: 'a GGUF LoRA adapter to apply (gguf/adapter.gguf)' }),
  promptTokens: described(z.number().int().min(1).max(8192).default(32), {
    label: 'Prompt tokens', arg: 'N', unit: 'tokens', group: 'run', help: 'tokens of the prompt, processed in one batch',
  }),
  tokens: described(z.number().int().min(2).max(8192).default(64), {
    label: 'Decode tokens', arg: 'N', unit: 'tokens', group: 'run', help: 'tokens generated after it, greedily, one at a time',
  }),
  threads: described(z.number().int().min(1).max(1024).optional(), {
    label: 'Threads', arg: 'N', group: 'run', help: "llama.cpp's CPU threads (default: the machine's math cores)",
  }),
  json: described(z.boolean().default(false), { label: 'JSON', group: 'options', help: 'print the result as one JSON object' }),
});
export type LlamaBenchRequest = z.output<typeof LlamaBenchRequestSchema>;

// The service contract for generation (`mesp generate`, `mesp chat`, `mesp bench --generate`, the app's Chat view, the
// sample replies of a training run): what to load (model, LoRA adapter or a run's adapter), the prompt (text, token
// ids or a chat), how to choose tokens (HF generate's settings), and what comes back. Each field carries its flag,
// help and label (core/api/fields.ts), so `mesp generate`'s flags, parsing and --help come from these schemas
// (core/node/cli/flags.ts); the quantization, profile, cap and LoRA shape are the TrainSpec's fields (core/api/train.ts).
// Pure TS with zod schemas (DESIGN.md §1, §2).
import { z } from 'zod';
import { described, reworded } from './fields';
import { PeakBytesSchema, PRECISION_FORWARD_HELP } from './names';
import { TrainInputsSchema, TrainSpecSchema } from './train';
import { BenchRequestSchema } from './bench';

/** One chat turn, as Hugging Face chat templates take it. */
export const ChatMessageSchema = z.object({ role: z.string().min(1), content: z.string() });
export type ChatMessageInput = z.infer<typeof ChatMessageSchema>;

const SAMPLING = 'sampling';

/** How tokens are chosen and when generation ends (HF generate: max_new_tokens, temperature, top_k, top_p, ...). */
export const SamplingSchema = z.object({
  maxNewTokens: described(z.number().int().min(1).max(32768).default(128), {
    label: 'Max new tokens', arg: 'N', unit: 'tokens', group: SAMPLING, help: 'new tokens at most',
  }),
  temperature: described(z.number().min(0).max(100).default(0.7), { label: 'Temperature', arg: 'T', group: SAMPLING, help: 'softmax temperature; 0 = greedy' }),
  topK: described(z.number().int().min(0).max(1_000_000).default(0), { label: 'Top k', arg: 'K', group: SAMPLING, help: 'keep the K most likely tokens; 0 = off' }),
  topP: described(z.number().gt(0).max(1).default(1), { label: 'Top p', arg: 'P', group: SAMPLING, help: 'keep the most likely tokens up to this probability mass; 1 = off' }),
  repetitionPenalty: described(z.number().gt(0).max(100).default(1), {
    label: 'Repetition penalty', arg: 'R', group: SAMPLING, help: 'over 1 discourages tokens already in the sequence (HF/CTRL); 1 = off',
  }),
  seed: described(z.number().int().min(0).max(0xffffffff).default(0), { label: 'Sampling seed', arg: 'S', group: SAMPLING, help: 'the same seed gives the same tokens' }),
  stop: described(z.array(z.string().min(1)).default([]), {
    label: 'Stop at', arg: 'TEXT', group: SAMPLING, help: "end the reply before TEXT; it also ends at the model's EOS tokens",
  }),
});
export type SamplingInput = z.input<typeof SamplingSchema>;
export type Sampling = z.output<typeof SamplingSchema>;

/** What a generation session loads: the base model and at most one of an adapter folder or a run's adapter. */
export const GenerateModelFields = z.object({
  modelDir: reworded(TrainInputsSchema.shape.modelDir.optional(),
    "HF Qwen2 folder, or a hub id OWNER/NAME[@REV] (pulled on first use); with --run, the run's base model by default", TrainInputsSchema.shape.modelDir),
  adapterDir: described(z.string().min(1).optional(), { label: 'Adapter', flag: 'adapter', arg: 'DIR', group: 'inputs', help: 'a PEFT adapter folder, applied unmerged' }),
  runDir: described(z.string().min(1).optional(), {
    label: 'Run', flag: 'run', arg: 'RUN_DIR', group: 'inputs', help: "a run folder's adapter/ (its newest checkpoint), with the run's quantization and profile",
  }),
  quant: reworded(TrainSpecSchema.shape.quant, 'quantize the frozen weights on load: none | int8 | int4 (with --run: the run\'s)'),
  profile: reworded(TrainInputsSchema.shape.profile, 'device profile whose budget is the hard cap (with --run: the run\'s)'),
  capBytes: TrainSpecSchema.shape.capBytes,
  precision: reworded(TrainSpecSchema.shape.precision, PRECISION_FORWARD_HELP),
});

/** Refinements of what to load: a model (or a run that names it), and an adapter folder or a run, not both. */
export function checkModel(r: { modelDir?: string; adapterDir?: string; runDir?: string }, ctx: z.core.$RefinementCtx): void {
  if (r.modelDir === undefined && r.runDir === undefined) {
    ctx.addIssue({ code: 'custom', path: ['modelDir'], message: 'give a model folder or a run', params: { oneOf: ['modelDir', 'runDir'] } });
  }
  if (r.adapterDir !== undefined && r.runDir !== undefined) {
    ctx.addIssue({ code: 'custom', path: ['adapterDir'], message: 'give an adapter folder or a run, not both', params: { conflictsWith: 'runDir' } });
  }
}

export const GenerateModelSchema = GenerateModelFields.superRefine(checkModel);
export type GenerateModelInput = z.input<typeof GenerateModelSchema>;

const PROMPT_KEYS = ['prompt', 'promptIds', 'messages'] as const;

/** Exactly one of: plain text (tokenized as HF tokenizer(text)), token ids, or chat messages (the chat template). */
export const PromptSchema = z.object({
  prompt: described(z.string().min(1).optional(), { label: 'Prompt', arg: 'TEXT', group: 'prompt', help: 'plain text, tokenized as is (no chat template)' }),
  promptIds: described(z.array(z.number().int().min(0)).min(1).optional(), { label: 'Token ids', arg: 'LIST', group: 'prompt', help: 'token ids, comma-separated' }),
  messages: z.array(ChatMessageSchema).min(1).optional(),
});
export type PromptInput = z.infer<typeof PromptSchema>;

/** Refinement of a prompt: exactly one of text, token ids or messages. */
export function checkPrompt(r: Partial<Record<(typeof PROMPT_KEYS)[number], unknown>>, ctx: z.core.$RefinementCtx): void {
  const given = PROMPT_KEYS.filter((k) => r[k] !== undefined);
  if (given.length === 0) ctx.addIssue({ code: 'custom', path: ['prompt'], message: 'give a prompt, token ids or messages', params: { oneOf: [...PROMPT_KEYS] } });
  else if (given.length > 1) ctx.addIssue({ code: 'custom', path: [given[0]], message: `give ${given[0]} or ${given[1]}, not both`, params: { conflictsWith: given[1] } });
}

export const GenerateRequestSchema = GenerateModelFields.extend(PromptSchema.shape).extend(SamplingSchema.shape).superRefine((r, ctx) => {
  checkModel(r, ctx);
  checkPrompt(r, ctx);
});
export type GenerateRequest = z.input<typeof GenerateRequestSchema>;

/** A chat session's settings (`mesp chat`, the app's Chat view): what to load and how to choose tokens. */
export const ChatSettingsSchema = GenerateModelFields.extend(SamplingSchema.shape).superRefine(checkModel);
export type ChatSettings = z.input<typeof ChatSettingsSchema>;

export const FinishReasonSchema = z.enum(['eos', 'length', 'stop', 'cancelled']);
export type FinishReason = z.infer<typeof FinishReasonSchema>;

export const GenerateResultSchema = z.object({
  /** The new token ids (an EOS that ended the generation included). */
  tokens: z.array(z.number().int()),
  /** Their text, special tokens skipped, cut before a stop string. */
  text: z.string(),
  promptTokens: z.number().int(),
  finishReason: FinishReasonSchema,
  prefillTokensPerSecond: z.number(),
  /** Tokens per second of the one-token steps (0 when there were none). */
  decodeTokensPerSecond: z.number(),
  /** The highest each ledger category reached during the generation (weights and adapter included); total: the highest total. */
  peakBytes: PeakBytesSchema,
  kvCacheBytes: z.number(),
  /** The dry-run plan's peak (core/infer/plan.ts). */
  predictedPeakBytes: z.number(),
  capBytes: z.number(),
  profile: z.string(),
  /** The GPU adapter (WebGPU), as eval reports it. */
  device: z.string(),
  /** The LoRA adapter folder used, or null for the base model. */
  adapterDir: z.string().nullable(),
  seconds: z.number(),
});
export type GenerateResult = z.infer<typeof GenerateResultSchema>;

/** What `mesp generate --json` prints. */
export const GenerateJsonSchema = GenerateResultSchema.pick({
  tokens: true, text: true, promptTokens: true, finishReason: true, prefillTokensPerSecond: true, decodeTokensPerSecond: true, peakBytes: true,
});

/** One streamed token: its index, id, and the text it added (a last event of the same index may carry held-back text). */
export const TokenEventSchema = z.object({ index: z.number().int(), token: z.number().int(), text: z.string() });
export type TokenEventData = z.infer<typeof TokenEventSchema>;

/**
 * `mesp bench --generate`: a greedy generation on a Qwen2.5 shape with deterministic random weights. The shape, the
 * paper's int4 default, the seed and the JSON file are `mesp bench`'s; the LoRA shape is the TrainSpec's, except that
 * rank 0 runs without an adapter.
 */
export const GenerateBenchRequestSchema = BenchRequestSchema.pick({ shape: true, quant: true, alpha: true, targets: true, json: true }).extend({
  seed: reworded(BenchRequestSchema.shape.seed, 'the random weights, LoRA init and prompt'),
  generate: described(z.boolean().default(false), { label: 'Generate', group: 'method', help: 'benchmark generation (prefill and decode) instead of training steps' }),
  promptTokens: described(z.number().int().min(1).max(32768).default(128), { label: 'Prompt length', flag: 'prompt-len', arg: 'N', unit: 'tokens', group: 'run', help: 'prompt tokens to prefill' }),
  newTokens: described(z.number().int().min(1).max(32768).default(128), { label: 'New tokens', arg: 'N', unit: 'tokens', group: 'run', help: 'tokens to decode one at a time' }),
  rank: described(z.number().int().min(0).max(256).default(8), { label: 'LoRA rank', arg: 'R', group: 'lora', help: 'LoRA rank r of the unmerged adapter; 0: no adapter' }),
});
export type GenerateBenchRequest = z.output<typeof GenerateBenchRequestSchema>;

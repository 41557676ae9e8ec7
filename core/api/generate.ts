// The service contract for generation (`mesp generate`, `mesp chat`, the app's Chat view, the sample replies of a
// training run): what to load (model, LoRA adapter or a run's adapter), the prompt (text, token ids or a chat), how to
// choose tokens (HF generate's settings), and what comes back. Pure TS with zod schemas (DESIGN.md §1, §2).
import { z } from 'zod';
import { PeakBytesSchema, QuantSchema } from './eval';

/** One chat turn, as Hugging Face chat templates take it. */
export const ChatMessageSchema = z.object({ role: z.string().min(1), content: z.string() });
export type ChatMessageInput = z.infer<typeof ChatMessageSchema>;

/** How tokens are chosen and when generation ends (HF generate: max_new_tokens, temperature, top_k, top_p, ...). */
export const SamplingSchema = z.object({
  maxNewTokens: z.number().int().min(1).max(32768).default(128),
  /** 0 = greedy. */
  temperature: z.number().min(0).max(100).default(0.7),
  /** 0 = off. */
  topK: z.number().int().min(0).default(0),
  /** 1 = off. */
  topP: z.number().gt(0).max(1).default(1),
  /** 1 = off. */
  repetitionPenalty: z.number().gt(0).max(100).default(1),
  seed: z.number().int().min(0).max(0xffffffff).default(0),
  /** The text ends before the first of these. */
  stop: z.array(z.string().min(1)).default([]),
});
export type SamplingInput = z.input<typeof SamplingSchema>;
export type Sampling = z.output<typeof SamplingSchema>;

/** What a generation session loads: the base model and at most one of an adapter folder or a run's adapter. */
export const GenerateModelSchema = z.object({
  modelDir: z.string().min(1),
  /** A PEFT adapter folder, applied unmerged. */
  adapterDir: z.string().min(1).optional(),
  /** A run folder: its adapter/ (the newest checkpoint's). */
  runDir: z.string().min(1).optional(),
  quant: QuantSchema.default('none'),
  /** A built-in profile id or a path to a profile JSON file. */
  profile: z.string().default('phone-8gb'),
  /** Override the profile's cap (bytes). */
  capBytes: z.number().int().positive().optional(),
});
export type GenerateModelInput = z.input<typeof GenerateModelSchema>;

/** Exactly one of: plain text (tokenized as HF tokenizer(text)), token ids, or chat messages (the chat template). */
export const PromptSchema = z.object({
  prompt: z.string().min(1).optional(),
  promptIds: z.array(z.number().int().min(0)).min(1).optional(),
  messages: z.array(ChatMessageSchema).min(1).optional(),
});
export type PromptInput = z.infer<typeof PromptSchema>;

export const GenerateRequestSchema = GenerateModelSchema.extend(PromptSchema.shape).extend(SamplingSchema.shape).superRefine((r, ctx) => {
  const given = (['prompt', 'promptIds', 'messages'] as const).filter((k) => r[k] !== undefined);
  if (given.length !== 1) {
    ctx.addIssue({ code: 'custom', path: [given[1] ?? 'prompt'], message: `give exactly one of prompt, promptIds or messages${given.length ? ` (got ${given.join(' and ')})` : ''}` });
  }
  if (r.adapterDir !== undefined && r.runDir !== undefined) {
    ctx.addIssue({ code: 'custom', path: ['runDir'], message: 'give an adapter folder or a run, not both' });
  }
});
export type GenerateRequest = z.input<typeof GenerateRequestSchema>;

/** A chat session's settings (`mesp chat`, the app's Chat view): what to load and how to choose tokens. */
export const ChatSettingsSchema = GenerateModelSchema.extend(SamplingSchema.shape);
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

// The contract's export domain (core/api/contract.ts): export.preview and export.run params over the exporter's own
// schemas (core/api/export.ts), naming a run by id instead of its folder; what each format is for (the Export view's
// list is derived from EXPORT_FORMAT_INFO); and "Try in llama.cpp": export.llama says whether llama.cpp
// (node-llama-cpp) can run here, export.try streams a chat reply of the exported GGUF files in llama.cpp beside our
// engine's reply to the same prompt ids and seed, as `export.try` events. Pure TS.
import { z } from 'zod';
import {
  EXPORT_FORMATS, ExportFormatSchema, ExportPreviewSchema, ExportRequestSchema, ExportResultSchema, GGUF_TYPES, PreviewRequestSchema, type ExportFormat, type ExportPreview,
  type ExportResult, type GgufType, type Parity, type ParityCheck,
} from '../export';
import { ChatMessageSchema, FinishReasonSchema, SamplingSchema, TokenEventSchema } from '../generate';
import { QuantSchema } from '../names';

/** The preview request's formats, dtype and GGUF type (all formats unless some are named), for a run by id. */
export const ExportPreviewParamsSchema = PreviewRequestSchema.pick({ formats: true, dtype: true, ggufType: true }).extend({
  runId: z.string().min(1),
  /** The bundle folder (default: the run's exports/ folder); the preview lists files an export there would replace. */
  destDir: z.string().optional(),
});
export const ExportRunParamsSchema = ExportPreviewParamsSchema.extend({ overwrite: ExportRequestSchema.shape.overwrite });
export type ExportRunParams = z.input<typeof ExportRunParamsSchema>;
export { EXPORT_FORMATS, ExportFormatSchema, ExportPreviewSchema, ExportResultSchema, GGUF_TYPES };
export type { ExportFormat, ExportPreview, ExportResult, GgufType, Parity, ParityCheck };

export interface ExportFormatInfo {
  /** Short name, as the Export view lists it. */
  label: string;
  /** The runtime(s) that load it. */
  runtime: string;
  /** Where it runs: which phones (or servers). */
  phones: string;
  /** What the files are, in one line. */
  what: string;
}

/** What each export format is for: declared once, here; the Export view and its tests derive their lists from it. */
export const EXPORT_FORMAT_INFO: Record<ExportFormat, ExportFormatInfo> = {
  peft: {
    label: 'PEFT adapter', runtime: 'Hugging Face transformers + peft, vLLM, MLC LLM (converted)', phones: 'servers and desktops; the source for other conversions',
    what: 'adapter_model.safetensors + adapter_config.json, the LoRA alone',
  },
  gguf: {
    label: 'GGUF LoRA', runtime: 'llama.cpp (--lora), Ollama (ADAPTER)', phones: 'Android (llama.cpp, Termux, apps embedding it) and iPhone (apps embedding llama.cpp)',
    what: 'the LoRA as a GGUF adapter, applied at run time on a GGUF base',
  },
  'gguf-base': {
    label: 'GGUF base model', runtime: 'llama.cpp, Ollama (FROM)', phones: 'Android and iPhone through llama.cpp; with the GGUF LoRA and the Modelfile',
    what: 'the base model as GGUF (f32, f16, q8_0 or q4_0), to use with the GGUF LoRA',
  },
  'gguf-merged': {
    label: 'GGUF merged model', runtime: 'llama.cpp, Ollama, LM Studio', phones: 'Android and iPhone through llama.cpp: one file, the smallest in q4_0',
    what: 'the base with the adapter folded in (W + (alpha/r)·B·A), as GGUF',
  },
  mlx: {
    label: 'MLX adapter', runtime: 'mlx-lm (Apple MLX)', phones: 'Apple silicon Macs, iPhone and iPad (MLX Swift)',
    what: 'adapters.safetensors + adapter_config.json in mlx-lm\'s layout',
  },
  onnx: {
    label: 'Merged ONNX', runtime: 'ONNX Runtime (onnxruntime-mobile, onnxruntime-web)', phones: 'Android (NNAPI/XNNPACK) and iPhone (CoreML EP), or the browser',
    what: 'the merged model as one ONNX graph (opset 17)',
  },
  'hf-merged': {
    label: 'Merged safetensors', runtime: 'Hugging Face transformers, vLLM, MLX (converted)', phones: 'servers and desktops; the source for any other converter',
    what: 'a plain Qwen2 model folder (config, safetensors shards, tokenizer) with the adapter folded in',
  },
};

/** export.llama: whether llama.cpp (node-llama-cpp, an optional dependency) can run on the service's machine. */
export const LlamaStatusSchema = z.object({
  available: z.boolean(),
  /** node-llama-cpp's and llama.cpp's versions, when available. */
  version: z.string().nullable(),
  /** Why not, and what to do, when not available. */
  reason: z.string().nullable(),
});
export type LlamaStatus = z.infer<typeof LlamaStatusSchema>;

/** The GGUF files of a bundle llama.cpp can run: the merged model, or the base with the LoRA applied at run time. */
export const LLAMA_FILE_SETS = ['merged', 'base+lora'] as const;
export const LlamaFileSetSchema = z.enum(LLAMA_FILE_SETS);
export type LlamaFileSet = z.infer<typeof LlamaFileSetSchema>;

/**
 * export.try: a chat turn answered by the bundle's GGUF files in llama.cpp and by our engine (the run's adapter,
 * unmerged), from the same prompt ids (the base model's chat template) with the same sampling settings and seed.
 * Greedy (temperature 0) is the default: in f32 both give the same tokens; above 0 each side samples with its own RNG.
 */
export const ExportTryParamsSchema = ExportPreviewParamsSchema.pick({ runId: true, destDir: true }).extend({
  /** Which GGUF files of the bundle (default: the merged model when the bundle has it). */
  files: LlamaFileSetSchema.optional(),
  messages: z.array(ChatMessageSchema).min(1),
  /** Our engine's frozen weights (default none: f32, like an f32 GGUF). */
  quant: QuantSchema.default('none'),
  seed: SamplingSchema.shape.seed,
  temperature: SamplingSchema.shape.temperature.unwrap().default(0),
  maxNewTokens: SamplingSchema.shape.maxNewTokens.unwrap().max(512).default(64),
});
export type ExportTryParams = z.input<typeof ExportTryParamsSchema>;

/** The two sides of a try. */
export const TRY_SIDES = ['llama.cpp', 'engine'] as const;
export const TrySideSchema = z.enum(TRY_SIDES);
export type TrySide = z.infer<typeof TrySideSchema>;

export const ExportTryResultSchema = z.object({
  tryId: z.string(),
  /** The bundle's files llama.cpp loads (relative paths) and its version. */
  files: z.array(z.string()),
  runtimeVersion: z.string(),
});

/** One side's finished reply. */
export const TryReplySchema = z.object({
  tokens: TokenEventSchema.shape.token.array(),
  text: z.string(),
  finishReason: FinishReasonSchema,
  decodeTokensPerSecond: z.number(),
});

/** A try's events, in order: each side starts, streams tokens and ends (done or error); then the end, comparing them. */
export const TryEventSchema = z.discriminatedUnion('type', [
  /** A side began: what it runs (files and version, or our engine's device, weights and adapter), and the prompt's length. */
  z.object({ type: z.literal('start'), side: TrySideSchema, detail: z.string(), promptTokens: z.number().int() }),
  z.object({ type: z.literal('token'), side: TrySideSchema }).extend(TokenEventSchema.shape),
  z.object({ type: z.literal('done'), side: TrySideSchema, reply: TryReplySchema }),
  z.object({ type: z.literal('error'), side: TrySideSchema, message: z.string() }),
  /** Both sides ended: whether their tokens are the same (null when a side failed). */
  z.object({ type: z.literal('end'), sameTokens: z.boolean().nullable() }),
]);
export type TryEvent = z.infer<typeof TryEventSchema>;

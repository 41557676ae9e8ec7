// The service contract for exporting a trained adapter (`mesp export`, `mesp import-adapter`, the app's Export view):
// requests, results, the preview of sizes, and the deployment bundle's manifest.json, as zod schemas.
// Formats: PEFT (huggingface/peft save_pretrained), GGUF LoRA (llama.cpp convert_lora_to_gguf.py), the base model
// and the merged model as GGUF (llama.cpp convert_hf_to_gguf.py's qwen2 layout), MLX (mlx-lm adapters), merged ONNX
// (opset 17), merged Hugging Face safetensors (transformers save_pretrained). The manifest records the parity a bundle
// was measured at in llama.cpp. Pure TS (DESIGN.md §1): shared by the CLI, the service and the renderer.
// The request fields carry their flag metadata (core/api/fields.ts), so `mesp export` and `mesp import-adapter` take
// their flags and --help from these schemas.
import { z } from 'zod';
import { described } from './fields';
import { PeakBytesSchema, QuantSchema } from './names';
import { TrainInputsSchema } from './train';

export const EXPORT_FORMATS = ['peft', 'gguf', 'gguf-base', 'gguf-merged', 'mlx', 'onnx', 'hf-merged'] as const;
export const ExportFormatSchema = z.enum(EXPORT_FORMATS);
export type ExportFormat = z.infer<typeof ExportFormatSchema>;

/**
 * Tensor storage of the GGUF model files (gguf-base, gguf-merged): f32; f16; q8_0 (ggml's 8-bit blocks of 32);
 * q4_0 (4-bit blocks of 32, with the embedding and LM head in q8_0). Norms and biases stay f32 in every type.
 */
export const GGUF_TYPES = ['f32', 'f16', 'q8_0', 'q4_0'] as const;
export const GgufTypeSchema = z.enum(GGUF_TYPES);
export type GgufType = z.infer<typeof GgufTypeSchema>;

/** Export formats from text: a comma list or `all`, in the order of EXPORT_FORMATS. Throws an Error naming an unknown one. */
export function formatsFromText(text: string): ExportFormat[] {
  const names = text.split(',').map((s) => s.trim().toLowerCase()).filter(Boolean);
  if (names.includes('all')) return [...EXPORT_FORMATS];
  for (const n of names) {
    if (!(EXPORT_FORMATS as readonly string[]).includes(n)) throw new Error(`unknown export format "${n}"; use ${EXPORT_FORMATS.join(', ')} or all (comma-separated for several)`);
  }
  return EXPORT_FORMATS.filter((f) => names.includes(f));
}

/** Formats an adapter can be imported from (ONNX holds merged weights: no adapter to read back). */
export const IMPORT_FORMATS = ['peft', 'gguf', 'mlx'] as const;
export const ImportFormatSchema = z.enum(IMPORT_FORMATS);
export type ImportFormat = z.infer<typeof ImportFormatSchema>;

/** Weight precision. ONNX stores f16 for bf16 (the per-file dtype in the result says which was written). */
export const ExportDTypeSchema = z.enum(['f32', 'f16', 'bf16']);
export type ExportDType = z.infer<typeof ExportDTypeSchema>;

export const ExportRequestSchema = z.object({
  /** A run folder written by `mesp train` (config.json + adapter/). */
  runDir: described(z.string().min(1), { label: 'Run', flag: 'run', arg: 'RUN_DIR', group: 'inputs', help: 'the run folder of a `mesp train` run' }),
  formats: described(z.array(ExportFormatSchema).min(1), {
    label: 'Formats', flag: 'format', arg: 'LIST', group: 'inputs', help: `${EXPORT_FORMATS.join(' | ')} | all, comma-separated for several`, fromText: formatsFromText,
  }),
  /** The bundle's folder; created if missing. Default: the run's exports/ folder (DESIGN.md §7). */
  outDir: described(z.string().min(1).optional(), { label: 'Folder', flag: 'out', arg: 'DIR', group: 'output', help: 'the bundle folder (default RUN_DIR/exports)' }),
  dtype: described(ExportDTypeSchema.default('f32'), { label: 'Precision', arg: 'D', group: 'output', help: 'weight precision: f32 | f16 | bf16 (ONNX writes f16 for bf16)' }),
  /** Replace files that already exist (the app asks the user first; the CLI's --force). */
  overwrite: described(z.boolean().default(false), { label: 'Replace', flag: 'force', group: 'output', help: 'replace existing files; with --model, allow a different base than the run\'s' }),
  /** The base model folder, when it moved since training (default: the run's). */
  modelDir: described(TrainInputsSchema.shape.modelDir.optional(), {
    label: 'Base model', flag: 'model', arg: 'DIR', group: 'inputs', help: "the base model folder, when it moved since training (it must be the run's base)",
  }),
  /** The target device profile of the manifest (default: the run's). */
  profile: described(z.string().min(1).optional(), { label: 'Target profile', arg: 'ID|FILE', group: 'inputs', help: "the target device of the manifest (default: the run's)" }),
  /** Tokens of context for the predicted inference memory (default: the run's seqLen). */
  seqLen: described(z.number().int().min(1).max(32768).optional(), {
    label: 'Context', arg: 'N', unit: 'tokens', group: 'inputs', help: "tokens of context for the predicted inference memory (default: the run's)",
  }),
  /** Tensor storage of the GGUF model files (gguf-base, gguf-merged). */
  ggufType: described(GgufTypeSchema.default('f16'), {
    label: 'GGUF type', flag: 'gguf-type', arg: 'T', group: 'output', help: `tensor storage of gguf-base and gguf-merged: ${GGUF_TYPES.join(' | ')} (q4_0 keeps the embedding and LM head in q8_0)`,
  }),
  /** Rows of the run's data (validation rows first) on which llama.cpp's losses are compared with ours; 0 skips. */
  parityRows: described(z.number().int().min(0).max(64).default(4), {
    label: 'Parity rows', arg: 'N', unit: 'rows', group: 'output', help: "rows of the run's data (validation first) on which llama.cpp's losses are compared with ours; 0 skips",
  }),
});
export type ExportRequest = z.input<typeof ExportRequestSchema>;

/** What a weight file stores: a float dtype, or a GGUF model type (q8_0, q4_0). */
export const FileDTypeSchema = z.union([ExportDTypeSchema, GgufTypeSchema]);
export type FileDType = z.infer<typeof FileDTypeSchema>;

/**
 * The largest relative difference of a row's mean loss that a parity check accepts, by what the runtime computes
 * with (the GGUF type of the model, or the dtype of the LoRA adapter on top of it), when the reference is our engine
 * running the very same weights (the file's values, dequantized). What is left is the runtime's own arithmetic:
 * llama.cpp's CPU matmuls round the activations to F16/BF16 next to F16/BF16 weights and to Q8_0 blocks next to
 * Q8_0/Q4_0 weights. Measured on the tiny test models (tests/gpu/llama-parity.test.ts prints the differences: at most
 * 1e-7 in f32, 1.4e-4 in f16, 4.3e-4 with a bf16 adapter, 2.4e-3 in q8_0 and q4_0).
 */
export const PARITY_BOUNDS: Record<FileDType, number> = { f32: 1e-5, f16: 1e-3, bf16: 5e-3, q8_0: 1e-2, q4_0: 1e-2 };

export const ParityRowSchema = z.object({
  /** 1-based line of the row in its jsonl file. */
  line: z.number(),
  tokens: z.number(),
  /** Mean next-token loss in the runtime. */
  runtime: z.number(),
  /** Our engine on the same weights as the file (dequantized). */
  engine: z.number(),
  /**
   * Our engine on the f32 model the file was made from: the trained base + adapter (LoRA unmerged), or the base alone
   * for a check of the base GGUF without the adapter.
   */
  f32: z.number(),
});

export type ParityRow = z.infer<typeof ParityRowSchema>;

export const ParityCheckSchema = z.object({
  runtime: z.literal('llama.cpp'),
  /** node-llama-cpp's version and the llama.cpp release it ships. */
  runtimeVersion: z.string(),
  /** The bundle's files the runtime loaded (e.g. gguf/base.gguf + gguf/adapter.gguf, or gguf/merged.gguf). */
  files: z.array(z.string()),
  /** What the runtime computes with: the model file's type, and the adapter's dtype when one is applied. */
  modelType: GgufTypeSchema,
  adapterDType: ExportDTypeSchema.nullable(),
  rows: z.array(ParityRowSchema),
  /** max over rows of |runtime − engine| / engine: the runtime against the file's own weights. */
  maxRelDiff: z.number(),
  /** PARITY_BOUNDS for the model type and adapter dtype (the larger). */
  bound: z.number(),
  pass: z.boolean(),
  /** max over rows of |runtime − f32| / f32: what storing the model as modelType changes (no bound). */
  maxRelDiffVsF32: z.number(),
});
export type ParityCheck = z.infer<typeof ParityCheckSchema>;

export const ParitySchema = z.object({
  status: z.enum(['measured', 'skipped']),
  /** Why the check was skipped (no llama.cpp, no GGUF model in the bundle, no WebGPU adapter, --parity-rows 0). */
  reason: z.string().nullable(),
  /** The rows: the dataset file's name and which part of the run's data they come from. */
  data: z.object({ file: z.string(), split: z.enum(['validation', 'train']), rows: z.number() }).nullable(),
  checks: z.array(ParityCheckSchema),
});
export type Parity = z.infer<typeof ParitySchema>;

export const ExportedFileSchema = z.object({
  format: z.union([ExportFormatSchema, z.literal('bundle')]),
  /** Absolute path. */
  path: z.string(),
  /** Path inside the bundle folder, with forward slashes. */
  relPath: z.string(),
  bytes: z.number(),
  sha256: z.string(),
  /** Weight precision of the file (null for text files). */
  dtype: FileDTypeSchema.nullable(),
});
export type ExportedFile = z.infer<typeof ExportedFileSchema>;

export const BundleManifestSchema = z.object({
  kind: z.literal('mesp-export'),
  version: z.literal(1),
  createdAt: z.string(),
  producer: z.string(),
  baseModel: z.object({
    /** Hub id or folder name: never a local path. */
    id: z.string(),
    architecture: z.literal('qwen2'),
    /** The safetensors files the adapter was trained on, with their SHA-256. */
    weights: z.array(z.object({ file: z.string(), bytes: z.number(), sha256: z.string() })),
    /** SHA-256 over the lines "<sha256>  <file>\n" of `weights`, in order: one hash for the whole checkpoint. */
    weightsSha256: z.string(),
    /** The run's cheap fingerprint (config.json + safetensors headers). */
    fingerprint: z.string(),
    config: z.object({
      layers: z.number(), hidden: z.number(), intermediate: z.number(), heads: z.number(), kvHeads: z.number(),
      vocab: z.number(), tiedEmbeddings: z.boolean(), ropeTheta: z.number(), rmsNormEps: z.number(),
    }),
  }),
  tokenizer: z.object({ files: z.array(z.object({ file: z.string(), sha256: z.string() })), sha256: z.string() }).nullable(),
  lora: z.object({
    rank: z.number(),
    alpha: z.number(),
    /** alpha / rank, what every runtime multiplies B·A by. */
    scale: z.number(),
    /** PEFT target module names (q_proj, ...). */
    targets: z.array(z.string()),
    layers: z.number(),
    parameters: z.number(),
  }),
  training: z.object({ method: z.string(), steps: z.number(), seqLen: z.number(), profile: z.string() }),
  /** The base weights' quantization during training (our engine); runtimes quantize their own copy. */
  quantization: QuantSchema,
  target: z.object({
    profile: z.object({ id: z.string(), name: z.string(), ramGB: z.number(), appBudgetMB: z.number(), capBytes: z.number() }),
    /** Our engine's plan of one inference forward with the adapter (DESIGN.md §3), under the profile's limits. */
    inference: z.object({
      quant: QuantSchema,
      seqLen: z.number(),
      batch: z.number(),
      predictedPeakBytes: z.number(),
      peakByCategory: PeakBytesSchema.omit({ total: true }),
      workingSetBytes: z.number(),
      fitsBudget: z.boolean(),
    }),
  }),
  files: z.array(ExportedFileSchema.omit({ path: true })),
  /** README of each exported format, relative to the bundle. */
  readmes: z.record(z.string(), z.string()),
  /** Parity measured in llama.cpp at export time (absent in bundles written before it was measured). */
  parity: ParitySchema.optional(),
});
export type BundleManifest = z.infer<typeof BundleManifestSchema>;

export const ExportResultSchema = z.object({
  outDir: z.string(),
  files: z.array(ExportedFileSchema),
  manifest: BundleManifestSchema,
  /** The bundle's README.md (every format's section), to show the user. */
  readme: z.string(),
  seconds: z.number(),
});
export type ExportResult = z.infer<typeof ExportResultSchema>;

/** What an export would write (`existing` lists the files under outDir it would replace): the export request's fields, all formats unless some are named. */
export const PreviewRequestSchema = ExportRequestSchema.pick({ runDir: true, dtype: true, outDir: true, modelDir: true, overwrite: true, ggufType: true }).extend({
  formats: ExportRequestSchema.shape.formats.default([...EXPORT_FORMATS]),
});
export type PreviewRequest = z.input<typeof PreviewRequestSchema>;

export const ExportPreviewSchema = z.object({
  runDir: z.string(),
  baseModel: z.string(),
  lora: z.object({ rank: z.number(), alpha: z.number(), targets: z.array(z.string()), layers: z.number() }),
  formats: z.array(z.object({
    format: ExportFormatSchema,
    dtype: FileDTypeSchema,
    /** Files of the format with their size; `exact` false where the size is computed, not measured (ONNX graph). */
    files: z.array(z.object({ relPath: z.string(), bytes: z.number(), exact: z.boolean() })),
    bytes: z.number(),
  })),
  /** Files under outDir that an export would replace (asks for overwrite). */
  existing: z.array(z.string()),
});
export type ExportPreview = z.infer<typeof ExportPreviewSchema>;

export const ImportRequestSchema = z.object({
  /** A PEFT folder, an MLX adapter folder, or a GGUF LoRA file (or a folder holding exactly one). */
  from: described(z.string().min(1), { label: 'From', arg: 'FILE_OR_DIR', group: 'inputs', help: 'a PEFT folder, a GGUF LoRA file or an mlx-lm adapter folder' }),
  /** Detected from the files when absent. */
  format: described(ImportFormatSchema.optional(), { label: 'Format', arg: 'F', group: 'inputs', help: `${IMPORT_FORMATS.join(' | ')} (detected when not given; ONNX holds merged weights, not an adapter)` }),
  /** The PEFT adapter folder to write. */
  outDir: described(z.string().min(1), { label: 'Folder', flag: 'out', arg: 'DIR', group: 'output', help: 'the PEFT adapter folder to write (f32)' }),
  /** Check the adapter fits this base model (checkAdapterFits) and name it in adapter_config.json. */
  modelDir: described(z.string().min(1).optional(), { label: 'Base model', flag: 'model', arg: 'DIR', group: 'inputs', help: 'check that the adapter fits this base model' }),
  overwrite: described(z.boolean().default(false), { label: 'Replace', flag: 'force', group: 'output', help: 'replace an existing adapter in --out' }),
});
export type ImportRequest = z.input<typeof ImportRequestSchema>;

export const ImportResultSchema = z.object({
  format: ImportFormatSchema,
  outDir: z.string(),
  files: z.array(z.object({ path: z.string(), bytes: z.number() })),
  rank: z.number(),
  alpha: z.number(),
  targets: z.array(z.string()),
  layers: z.number(),
  baseModel: z.string(),
});
export type ImportResult = z.infer<typeof ImportResultSchema>;

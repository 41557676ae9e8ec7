// The service contract for exporting a trained adapter (`mesp export`, `mesp import-adapter`, the app's Export view):
// requests, results, the preview of sizes, and the deployment bundle's manifest.json, as zod schemas.
// Formats: PEFT (huggingface/peft save_pretrained), GGUF LoRA (llama.cpp convert_lora_to_gguf.py), MLX (mlx-lm
// adapters), merged ONNX (opset 17). Pure TS (DESIGN.md §1): shared by the CLI, the service and the renderer.
// The request fields carry their flag metadata (core/api/fields.ts), so `mesp export` and `mesp import-adapter` take
// their flags and --help from these schemas.
import { z } from 'zod';
import { described } from './fields';
import { PeakBytesSchema, QuantSchema } from './names';
import { TrainInputsSchema } from './train';

export const EXPORT_FORMATS = ['peft', 'gguf', 'mlx', 'onnx'] as const;
export const ExportFormatSchema = z.enum(EXPORT_FORMATS);
export type ExportFormat = z.infer<typeof ExportFormatSchema>;

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
});
export type ExportRequest = z.input<typeof ExportRequestSchema>;

export const ExportedFileSchema = z.object({
  format: z.union([ExportFormatSchema, z.literal('bundle')]),
  /** Absolute path. */
  path: z.string(),
  /** Path inside the bundle folder, with forward slashes. */
  relPath: z.string(),
  bytes: z.number(),
  sha256: z.string(),
  /** Weight precision of the file (null for text files). */
  dtype: ExportDTypeSchema.nullable(),
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

/** What an export would write: the export request's fields, all formats unless some are named. */
export const PreviewRequestSchema = ExportRequestSchema.pick({ runDir: true, dtype: true, outDir: true, modelDir: true, overwrite: true }).extend({
  formats: ExportRequestSchema.shape.formats.default([...EXPORT_FORMATS]),
});
export type PreviewRequest = z.input<typeof PreviewRequestSchema>;

export const ExportPreviewSchema = z.object({
  runDir: z.string(),
  baseModel: z.string(),
  lora: z.object({ rank: z.number(), alpha: z.number(), targets: z.array(z.string()), layers: z.number() }),
  formats: z.array(z.object({
    format: ExportFormatSchema,
    dtype: ExportDTypeSchema,
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

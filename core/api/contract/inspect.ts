// The contract's model and dataset inspection (core/api/contract.ts): model.inspect (a Qwen2 folder's shape, dtypes
// and weights bytes per quantization) and dataset.inspect (rows, tokens, trained tokens, a masked preview). Pure TS.
import { z } from 'zod';

export const ModelInfoSchema = z.object({
  dir: z.string(),
  name: z.string(),
  architecture: z.string(),
  parameters: z.number(),
  layers: z.number(),
  hidden: z.number(),
  intermediate: z.number(),
  heads: z.number(),
  kvHeads: z.number(),
  vocab: z.number(),
  tiedEmbeddings: z.boolean(),
  /** The checkpoint's stored dtypes (F32, BF16, ...). */
  dtypes: z.array(z.string()),
  /** Bytes of tensor data in the safetensors files. */
  fileBytes: z.number(),
  shards: z.number(),
  /** GPU bytes of the frozen weights for each on-load quantization (the engine's own allocation, dry). */
  weightsBytes: z.object({ none: z.number().nullable(), int8: z.number().nullable(), int4: z.number().nullable() }),
  hasTokenizer: z.boolean(),
  hasChatTemplate: z.boolean(),
});
export type ModelInfo = z.infer<typeof ModelInfoSchema>;

export const PreviewTokenSchema = z.object({ id: z.number(), text: z.string(), trained: z.boolean() });
export type PreviewToken = z.infer<typeof PreviewTokenSchema>;

export const DatasetInfoSchema = z.object({
  path: z.string(),
  rows: z.number(),
  tokens: z.number(),
  /** Tokens whose label is not masked (the loss is computed on these). */
  trainedTokens: z.number(),
  truncatedRows: z.number(),
  maxRowTokens: z.number(),
  meanRowTokens: z.number(),
  formats: z.record(z.string(), z.number()),
  seqLen: z.number(),
  preview: z.object({ index: z.number(), line: z.number(), format: z.string(), tokens: z.array(PreviewTokenSchema) }).nullable(),
});
export type DatasetInfo = z.infer<typeof DatasetInfoSchema>;

/** dataset.rows: one page of the dataset's rows as the model's tokenizer reads them, and their token lengths. */
export const DatasetRowsParamsSchema = z.object({
  dataPath: z.string().min(1, 'give a path'),
  modelDir: z.string().min(1, 'give a path'),
  /** The sequence length rows are cut at (the Train view's). */
  seqLen: z.number().int().min(2),
  offset: z.number().int().min(0).default(0),
  limit: z.number().int().min(1).max(100).default(20),
});
export type DatasetRowsParams = z.input<typeof DatasetRowsParamsSchema>;

export const DatasetRowSchema = z.object({
  index: z.number(),
  /** 1-based line of the jsonl file. */
  line: z.number(),
  format: z.string(),
  /** Tokens of the whole row, before it is cut at seqLen. */
  tokens: z.number(),
  trainedTokens: z.number(),
  /** Longer than seqLen: training sees its first seqLen tokens only. */
  cut: z.boolean(),
  /** The row's first tokens, decoded (what the model reads first). */
  text: z.string(),
});
export type DatasetRow = z.infer<typeof DatasetRowSchema>;

export const DatasetRowsSchema = z.object({
  path: z.string(),
  total: z.number(),
  offset: z.number(),
  seqLen: z.number(),
  rows: z.array(DatasetRowSchema),
  /** Rows longer than seqLen (cut), and the longest row's tokens. */
  cutRows: z.number(),
  longest: z.number(),
  /** Rows by token length: each bin counts rows with from < tokens ≤ to; bins above seqLen hold the cut rows. */
  histogram: z.array(z.object({ from: z.number(), to: z.number(), rows: z.number() })),
});
export type DatasetRows = z.infer<typeof DatasetRowsSchema>;

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

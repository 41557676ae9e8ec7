// The contract's export domain (core/api/contract.ts): export.preview and export.run params over the exporter's own
// schemas (core/api/export.ts), naming a run by id instead of its folder. Pure TS.
import { z } from 'zod';
import {
  EXPORT_FORMATS, ExportDTypeSchema, ExportFormatSchema, ExportPreviewSchema, ExportResultSchema, GgufTypeSchema, type ExportFormat, type ExportPreview, type ExportResult,
} from '../export';

export const ExportPreviewParamsSchema = z.object({
  runId: z.string().min(1),
  formats: z.array(ExportFormatSchema).min(1).default([...EXPORT_FORMATS]),
  dtype: ExportDTypeSchema.default('f32'),
  /** Tensor storage of the GGUF model formats (gguf-base, gguf-merged). */
  ggufType: GgufTypeSchema.default('f16'),
  /** The bundle folder (default: the run's exports/ folder); the preview lists files an export there would replace. */
  destDir: z.string().optional(),
});
export const ExportRunParamsSchema = ExportPreviewParamsSchema.extend({ overwrite: z.boolean().default(false) });
export type ExportRunParams = z.input<typeof ExportRunParamsSchema>;
export { EXPORT_FORMATS, ExportFormatSchema, ExportPreviewSchema, ExportResultSchema };
export type { ExportFormat, ExportPreview, ExportResult };

// The contract's export domain (core/api/contract.ts): export.preview and export.run params over the exporter's own
// schemas (core/api/export.ts), naming a run by id instead of its folder. Pure TS.
import { z } from 'zod';
import {
  EXPORT_FORMATS, ExportFormatSchema, ExportPreviewSchema, ExportRequestSchema, ExportResultSchema, PreviewRequestSchema, type ExportFormat, type ExportPreview,
  type ExportResult,
} from '../export';

/** The preview request's formats, dtype and GGUF type (all formats unless some are named), for a run by id. */
export const ExportPreviewParamsSchema = PreviewRequestSchema.pick({ formats: true, dtype: true, ggufType: true }).extend({
  runId: z.string().min(1),
  /** The bundle folder (default: the run's exports/ folder); the preview lists files an export there would replace. */
  destDir: z.string().optional(),
});
export const ExportRunParamsSchema = ExportPreviewParamsSchema.extend({ overwrite: ExportRequestSchema.shape.overwrite });
export type ExportRunParams = z.input<typeof ExportRunParamsSchema>;
export { EXPORT_FORMATS, ExportFormatSchema, ExportPreviewSchema, ExportResultSchema };
export type { ExportFormat, ExportPreview, ExportResult };

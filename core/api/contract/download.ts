// The contract's downloads (core/api/contract.ts): export.download hands a page the files of an export bundle — one
// file, or the whole bundle as one tar archive — in pieces of DOWNLOAD_CHUNK_BYTES (base64, as uploads travel), so a
// browser-mode page can save what the service wrote on its machine. Only the files the bundle's manifest.json lists
// (and manifest.json itself) can be asked for. Pure TS.
import { z } from 'zod';
import { ExportPreviewParamsSchema } from './export';
import { UPLOAD_CHUNK_BYTES } from './files';

/** Bytes of one download piece (before base64): the same size uploads travel in, under the WebSocket's message limit. */
export const DOWNLOAD_CHUNK_BYTES = UPLOAD_CHUNK_BYTES;

export const ExportDownloadParamsSchema = ExportPreviewParamsSchema.pick({ runId: true, destDir: true }).extend({
  /** A file of the bundle, relative to it (as the manifest names it); absent: the whole bundle as one .tar. */
  file: z.string().min(1).optional(),
  offset: z.number().int().min(0).default(0),
  /** The `stamp` of the first piece: a later piece of a bundle that changed meanwhile is refused. */
  stamp: z.string().optional(),
});
export type ExportDownloadParams = z.input<typeof ExportDownloadParamsSchema>;

export const ExportDownloadSchema = z.object({
  /** The name to save it as (the file's name, or `<run>-export.tar`). */
  name: z.string(),
  /** Bytes of the whole download. */
  size: z.number(),
  offset: z.number(),
  base64: z.string(),
  done: z.boolean(),
  /** Identifies the files' sizes and times when the first piece was read. */
  stamp: z.string(),
});
export type ExportDownload = z.infer<typeof ExportDownloadSchema>;

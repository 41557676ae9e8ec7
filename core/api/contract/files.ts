// The contract's app and files domain (core/api/contract.ts): app.info, and choosing, checking, browsing and
// uploading files (native dialogs in Electron, paths under allowed folders or uploads in browser mode). Pure TS.
import { z } from 'zod';

export const AppInfoSchema = z.object({
  version: z.string(),
  mode: z.enum(['electron', 'browser', 'test']),
  /** Native file dialogs (Electron) or path/upload choosing (browser mode). */
  nativeDialogs: z.boolean(),
  dataDir: z.string(),
  runsDir: z.string(),
  comparisonsDir: z.string(),
  /** Folders whose files the service may read (browser mode: the folders it was started with, plus dataDir). */
  roots: z.array(z.string()),
  demo: z.object({ modelDir: z.string(), dataPath: z.string() }),
  recent: z.object({ models: z.array(z.string()), datasets: z.array(z.string()) }),
  /** The run being trained now, if any (a window opened during a run picks it up). */
  activeRunId: z.string().nullable(),
  activeCompareId: z.string().nullable(),
});
export type AppInfo = z.infer<typeof AppInfoSchema>;

export const FileKindSchema = z.enum(['model', 'dataset', 'exportDir', 'profile']);
export type FileKind = z.infer<typeof FileKindSchema>;

export const FileCheckSchema = z.object({
  ok: z.boolean(),
  /** The absolute path. */
  path: z.string(),
  error: z.string().nullable(),
});
export type FileCheck = z.infer<typeof FileCheckSchema>;

export const BrowseEntrySchema = z.object({ name: z.string(), path: z.string(), kind: z.enum(['dir', 'file']), bytes: z.number() });
export const BrowseResultSchema = z.object({
  dir: z.string().nullable(),
  parent: z.string().nullable(),
  entries: z.array(BrowseEntrySchema),
  roots: z.array(z.string()),
});
export type BrowseResult = z.infer<typeof BrowseResultSchema>;

/** Uploads travel in pieces of this many bytes (base64 in one request each), written to disk as they arrive. */
export const UPLOAD_CHUNK_BYTES = 1_500_000;
/** The largest file one upload takes (MB = 10⁶ bytes): a whole Qwen2.5-1.5B model.safetensors fits. */
export const UPLOAD_MAX_BYTES = 8_000_000_000;

/** Base64 characters for `bytes` bytes. */
export function base64Length(bytes: number): number {
  return Math.ceil(bytes / 3) * 4;
}

/**
 * A file name as an upload may give it: no folders, not `.` or `..` nor hidden (a leading dot), no control characters
 * (newlines, tabs, C1 controls, Unicode line separators), at most 200 characters.
 */
export const UploadNameSchema = z
  .string()
  .min(1)
  .max(200)
  .refine((n) => n !== '.' && n !== '..', 'not "." or ".."')
  .refine((n) => !n.startsWith('.'), 'not a hidden name (a leading ".")')
  .refine((n) => !/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/.test(n), 'no control characters (newlines, tabs)')
  .refine((n) => !/[/\\]/.test(n), 'a file name, without folders');

/**
 * Browser-mode upload, one piece a call, in order (`offset` = the bytes sent so far): the first piece of a file
 * (offset 0) starts it, the last one (offset + its bytes = size) completes it. The files of one model folder share
 * the uploadId the first answer gives. Each page connection uploads into its own folder.
 */
export const UploadParamsSchema = z.object({
  kind: z.enum(['dataset', 'model']),
  uploadId: z.string().regex(/^[a-z0-9-]{1,64}$/).optional(),
  name: UploadNameSchema,
  /** The whole file's size in bytes. */
  size: z.number().int().min(0).max(UPLOAD_MAX_BYTES, `uploads take files up to ${UPLOAD_MAX_BYTES / 1e9} GB`),
  offset: z.number().int().min(0),
  base64: z
    .string()
    .max(base64Length(UPLOAD_CHUNK_BYTES), `a piece is at most ${UPLOAD_CHUNK_BYTES} bytes`)
    .regex(/^[A-Za-z0-9+/]*={0,2}$/, 'base64'),
});

export const UploadResultSchema = z.object({
  /** The dataset file, or the model folder, once complete (where it will be until then). */
  path: z.string(),
  uploadId: z.string(),
  /** Bytes of this file on disk so far. */
  received: z.number().int().min(0),
  done: z.boolean(),
});
export type UploadResult = z.infer<typeof UploadResultSchema>;

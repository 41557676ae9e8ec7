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

/** Browser-mode upload: one file a call; files of one model folder share an uploadId. At most 64 MiB a file. */
export const UploadParamsSchema = z.object({
  kind: z.enum(['dataset', 'model']),
  uploadId: z.string().regex(/^[a-z0-9-]{1,64}$/).optional(),
  name: z.string().min(1).max(200).regex(/^[^/\\]+$/, 'a file name, without folders'),
  base64: z.string().max(90_000_000),
});

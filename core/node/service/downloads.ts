// export.download (core/api/contract/download.ts): the files of an export bundle for a page to save — one file, or the
// whole bundle as one tar archive produced piece by piece from the files themselves (core/common/tar.ts), so nothing
// is written to make it. Only what the bundle's manifest.json lists, and manifest.json itself, can be asked for; each
// file is a regular file under the bundle folder by its real path, and inside the service's allowed folders
// (core/node/service/paths.ts). A stamp over the files' sizes and times refuses the later pieces of a bundle that
// changed while it was being downloaded (another export replaced it).
import { createHash } from 'node:crypto';
import { closeSync, existsSync, openSync, readFileSync, readSync, realpathSync, statSync } from 'node:fs';
import { join, sep } from 'node:path';
import { DOWNLOAD_CHUNK_BYTES, type ExportDownload } from '../../api/contract';
import { ConfigError } from '../../common/errors';
import { tarLayout, tarRange, type TarEntry } from '../../common/tar';
import { BUNDLE_FILES } from '../../export/bundle';
import type { PathPolicy } from './paths';

interface BundleFile {
  relPath: string;
  path: string;
  size: number;
  mtimeMs: number;
}

/** The bundle's files (manifest.json first, then what it lists), each checked to be a regular file inside the bundle. */
export function bundleFiles(outDir: string, paths: PathPolicy): BundleFile[] {
  const manifestPath = join(outDir, BUNDLE_FILES.manifest);
  if (!existsSync(manifestPath)) {
    throw new ConfigError(`${outDir} holds no export bundle (no ${BUNDLE_FILES.manifest}): export the run first.`, { field: 'destDir' });
  }
  let listed: string[];
  try {
    const m = JSON.parse(readFileSync(manifestPath, 'utf8')) as { files?: { relPath?: unknown }[] };
    listed = (m.files ?? []).map((f) => f.relPath).filter((r): r is string => typeof r === 'string');
  } catch (e) {
    throw new ConfigError(`${manifestPath} is not valid JSON (${(e as Error).message}): export the run again.`, { file: manifestPath });
  }
  const root = realpathSync(outDir);
  return [BUNDLE_FILES.manifest, ...listed.filter((r) => r !== BUNDLE_FILES.manifest)].map((relPath) => {
    if (relPath.startsWith('/') || relPath.split(/[\\/]/).some((s) => s === '..' || s === '')) {
      throw new ConfigError(`${manifestPath} lists "${relPath}", which is not a path inside the bundle: export the run again.`, { file: manifestPath });
    }
    const path = paths.require(join(outDir, relPath), 'file');
    const real = realpathSync(path);
    if (!real.startsWith(root + sep)) throw new ConfigError(`${path} leads outside the bundle folder ${outDir}: it is not offered for download.`, { field: 'file' });
    const st = statSync(real);
    if (!st.isFile()) throw new ConfigError(`${path} is not a regular file: it is not offered for download.`, { field: 'file' });
    return { relPath, path: real, size: st.size, mtimeMs: st.mtimeMs };
  });
}

function stampOf(files: readonly BundleFile[]): string {
  const h = createHash('sha256');
  for (const f of files) h.update(`${f.relPath}\0${f.size}\0${f.mtimeMs}\n`);
  return h.digest('hex').slice(0, 16);
}

function readAt(path: string, position: number, length: number): Uint8Array {
  const out = new Uint8Array(length);
  const fd = openSync(path, 'r');
  try {
    let got = 0;
    while (got < length) {
      const n = readSync(fd, out, got, length - got, position + got);
      if (n === 0) throw new ConfigError(`${path} ended at byte ${position + got}, shorter than when the download began: download it again.`, { file: path });
      got += n;
    }
  } finally {
    closeSync(fd);
  }
  return out;
}

/** One piece of a bundle file, or of the bundle as `<archiveName>.tar` (its files under `<archiveName>/`). */
export function downloadPiece(outDir: string, paths: PathPolicy, archiveName: string, req: { file?: string; offset: number; stamp?: string }): ExportDownload {
  const files = bundleFiles(outDir, paths);
  const stamp = stampOf(files);
  if (req.stamp && req.stamp !== stamp) {
    throw new ConfigError(`the export in ${outDir} changed while it was being downloaded (it was exported again): start the download again.`, { field: 'stamp' });
  }
  if (req.file !== undefined) {
    const f = files.find((x) => x.relPath === req.file);
    if (!f) throw new ConfigError(`"${req.file}" is not a file of the export in ${outDir}; its files are ${files.map((x) => x.relPath).join(', ')}.`, { field: 'file' });
    const length = Math.max(0, Math.min(DOWNLOAD_CHUNK_BYTES, f.size - req.offset));
    const bytes = length ? readAt(f.path, req.offset, length) : new Uint8Array(0);
    return { name: f.relPath.split('/').pop()!, size: f.size, offset: req.offset, base64: Buffer.from(bytes).toString('base64'), done: req.offset + length >= f.size, stamp };
  }
  const entries: TarEntry[] = files.map((f) => ({ path: `${archiveName}/${f.relPath}`, size: f.size, mtime: Math.floor(f.mtimeMs / 1000) }));
  const layout = tarLayout(entries);
  const bytes = tarRange(layout, req.offset, DOWNLOAD_CHUNK_BYTES, (i, position, length) => readAt(files[i].path, position, length));
  return {
    name: `${archiveName}.tar`, size: layout.size, offset: req.offset, base64: Buffer.from(bytes).toString('base64'),
    done: req.offset + bytes.length >= layout.size, stamp,
  };
}

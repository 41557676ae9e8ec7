// Importing adapters back (`mesp import-adapter`): which of our formats a path holds (a PEFT or mlx-lm folder, a GGUF
// LoRA file), reading it as a host adapter with core/export's readers, and writing it as a PEFT folder (f32) usable as
// `mesp train --init-adapter`, all files or none (core/node/atomic.ts). The export side is core/node/export.ts.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { ImportRequestSchema, type ImportFormat, type ImportRequest, type ImportResult } from '../api/export';
import { ConfigError, FormatError } from '../common/errors';
import { adapterLayerIndices } from '../export/adapter';
import { readGgufLora } from '../export/gguf';
import { readMlx } from '../export/mlx';
import { peftModule, publishableBaseName, readPeft, writePeft } from '../export/peft';
import { checkAdapterFits, type HostAdapter } from '../train/lora';
import { writeAllOrNothing } from './atomic';
import { parseExportRequest } from './export-request';
import { resolveInputs } from './hub/resolve';
import { openModelFolder } from './modelfiles';

/** Which of our formats a path holds: a .gguf file, or a folder with PEFT's or mlx-lm's files (or one .gguf). */
export function detectImportFormat(path: string): { format: ImportFormat; file: string } {
  const p = resolve(path);
  if (!existsSync(p)) throw new ConfigError(`does not exist. Give a PEFT or MLX adapter folder or a GGUF LoRA file.`, { file: p, field: 'from' });
  if (statSync(p).isFile()) {
    if (p.toLowerCase().endsWith('.gguf')) return { format: 'gguf', file: p };
    const name = basename(p);
    if (name === 'adapter_model.safetensors' || name === 'adapter_config.json') return { format: 'peft', file: resolve(p, '..') };
    if (name === 'adapters.safetensors') return { format: 'mlx', file: resolve(p, '..') };
    throw new ConfigError(`is not a GGUF LoRA file (.gguf) nor an adapter folder; give an adapter folder or a .gguf file`, { file: p, field: 'from' });
  }
  if (existsSync(join(p, 'adapter_model.safetensors'))) return { format: 'peft', file: p };
  if (existsSync(join(p, 'adapters.safetensors'))) return { format: 'mlx', file: p };
  const ggufs = readdirSync(p).filter((f) => f.toLowerCase().endsWith('.gguf'));
  if (ggufs.length === 1) return { format: 'gguf', file: join(p, ggufs[0]) };
  // A bundle's gguf/ folder also holds base.gguf / merged.gguf: its adapter is adapter.gguf.
  if (ggufs.includes('adapter.gguf')) return { format: 'gguf', file: join(p, 'adapter.gguf') };
  if (ggufs.length > 1) throw new ConfigError(`holds several .gguf files (${ggufs.join(', ')}); give the file itself`, { file: p, field: 'from' });
  throw new ConfigError(`holds no adapter: expected adapter_model.safetensors (PEFT), adapters.safetensors (MLX) or a .gguf file`, { file: p, field: 'from' });
}

function need(path: string, what: string): string {
  if (!existsSync(path)) throw new ConfigError(`is missing: ${what}`, { file: path, field: 'from' });
  return path;
}

/** Read one of our adapter formats from disk as a host adapter. */
export function readAdapterAny(from: string, format?: ImportFormat): HostAdapter & { baseModel: string; format: ImportFormat; source: string } {
  const found = format ? { format, file: resolve(from) } : detectImportFormat(from);
  const src = found.file;
  if (found.format === 'gguf') {
    const file = statSync(src).isDirectory() ? detectImportFormat(src).file : src;
    if (!existsSync(file)) throw new ConfigError('does not exist: give a GGUF LoRA file (.gguf)', { file, field: 'from' });
    return { ...readGgufLora(new Uint8Array(readFileSync(file)), file), format: 'gguf', source: file };
  }
  const dir = statSync(src).isDirectory() ? src : resolve(src, '..');
  if (found.format === 'peft') {
    const config = need(join(dir, 'adapter_config.json'), 'a PEFT adapter folder holds adapter_config.json and adapter_model.safetensors');
    const weights = need(join(dir, 'adapter_model.safetensors'), 'a PEFT adapter folder holds adapter_config.json and adapter_model.safetensors');
    return { ...readPeft(readFileSync(config, 'utf8'), new Uint8Array(readFileSync(weights)), { config, weights }), format: 'peft', source: dir };
  }
  const config = need(join(dir, 'adapter_config.json'), 'an mlx-lm adapter folder holds adapter_config.json and adapters.safetensors');
  const weights = need(join(dir, 'adapters.safetensors'), 'an mlx-lm adapter folder holds adapter_config.json and adapters.safetensors');
  return { ...readMlx(readFileSync(config, 'utf8'), new Uint8Array(readFileSync(weights)), { config, weights }), format: 'mlx', source: dir };
}

/** Read a PEFT, GGUF or MLX adapter and write it as a PEFT folder (f32) usable as `mesp train --init-adapter`. */
export async function importAdapter(input: ImportRequest): Promise<ImportResult> {
  const req = await resolveInputs(parseExportRequest(ImportRequestSchema, input, 'import request'));
  const a = readAdapterAny(req.from, req.format);
  let layers = adapterLayerIndices(a).length;
  let baseModel = a.baseModel;
  if (req.modelDir) {
    const folder = openModelFolder(req.modelDir);
    checkAdapterFits(folder.config, a, a.source);
    layers = folder.config.layers;
    if (!baseModel) baseModel = publishableBaseName(folder.name);
  }
  if (!baseModel) throw new FormatError(a.source, 'does not name its base model; give --model DIR so the PEFT adapter_config.json can name it');
  const peft = writePeft(a, publishableBaseName(baseModel), 'f32');
  const { files } = writeAllOrNothing(req.outDir, { overwrite: req.overwrite, what: 'the adapter', expected: ['adapter_config.json', 'adapter_model.safetensors'] }, (w) => {
    w.stage('adapter_config.json', peft.config);
    w.stage('adapter_model.safetensors', peft.weights);
  });
  return {
    format: a.format, outDir: resolve(req.outDir), files: files.map((f) => ({ path: f.path, bytes: f.bytes })),
    rank: a.rank, alpha: a.alpha, targets: a.targets.map(peftModule), layers, baseModel: publishableBaseName(baseModel),
  };
}

// Writes the embedded demo model (a HF Qwen2 folder from core/model/demo.ts) and the demo dataset to disk, for
// `mesp demo-model --out DIR`, the app's first launch and the tests; and a model folder of a real shape with random
// bf16 weights (`mesp demo-model --shape qwen2.5-0.5b`), streamed tensor by tensor into safetensors shards under 2 GB
// (one model.safetensors when it fits), all files or none.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { ConfigError } from '../common/errors';
import { writeSafetensorsStream } from '../common/safetensors';
import { HF_INDEX_FILE, HF_SHARD_METADATA, hfIndexJson, planHfShards } from '../export/hf-merged';
import { demoDatasetJsonl, demoModelFiles, demoShapeModel, writeTinyQwen2, type TinyQwen2Options } from '../model/demo';
import { QWEN25_CONFIGS, QWEN25_IDS, type Qwen25Id } from '../model/shapes';
import { writeAllOrNothing } from './atomic';

/** Write a map of file name → bytes into `outDir` (created if needed); returns the absolute paths written. */
export function writeFolder(outDir: string, files: Map<string, Uint8Array>): string[] {
  const dir = resolve(outDir);
  mkdirSync(dir, { recursive: true });
  const written: string[] = [];
  for (const [name, bytes] of files) {
    const path = join(dir, name);
    writeFileSync(path, bytes);
    written.push(path);
  }
  return written;
}

/** Write the demo model folder (config.json, model.safetensors, tokenizer files) into `outDir`. */
export function writeDemoModel(outDir: string): string[] {
  return writeFolder(outDir, demoModelFiles());
}

/** Write a tiny Qwen2 model with the given options into `outDir` (tests, benchmarks). */
export function writeTinyModel(outDir: string, opts: TinyQwen2Options): string[] {
  return writeFolder(outDir, writeTinyQwen2(opts));
}

/** Write the bundled demo dataset (jsonl) to `file`. */
export function writeDemoDataset(file: string, format: 'messages' | 'text' = 'messages'): string {
  const path = resolve(file);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, demoDatasetJsonl(format), 'utf8');
  return path;
}

/** A shape by name (qwen2.5-0.5b, qwen2.5-1.5b, qwen2.5-3b) or a config.json file, as a config object. */
export function shapeConfig(shape: string): Record<string, unknown> {
  if ((QWEN25_IDS as readonly string[]).includes(shape)) return QWEN25_CONFIGS[shape as Qwen25Id];
  const path = resolve(shape);
  if (!existsSync(path)) throw new ConfigError(`--shape "${shape}" is neither ${QWEN25_IDS.join(', ')} nor a config.json file`, { field: 'shape' });
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  } catch (e) {
    throw new ConfigError(`is not valid JSON (${(e as Error).message}); give a Hugging Face config.json`, { file: path, field: 'shape' });
  }
}

/**
 * Write a model folder of a real shape with deterministic random bf16 weights and the demo tokenizer (demoShapeModel):
 * config.json, generation_config.json, tokenizer files, model.safetensors or shards under 2 GB with the index.
 * Replaces the folder's files of the same names; all files or none. Returns the paths written.
 */
export function writeShapeModel(outDir: string, shape: string, opts: { seed?: number; onProgress?: (done: number, total: number) => void } = {}): string[] {
  const m = demoShapeModel(shapeConfig(shape), { seed: opts.seed });
  const shards = planHfShards(m.tensors);
  const single = shards.length === 1;
  const names = single ? ['model.safetensors'] : shards.map((s) => s.file);
  const expected = [...m.files.keys(), ...names, ...(single ? [] : [HF_INDEX_FILE])];
  let done = 0;
  const { files } = writeAllOrNothing(outDir, { overwrite: true, what: 'the model', expected }, (w) => {
    for (const [name, bytes] of m.files) w.stage(name, bytes);
    shards.forEach((sh, i) => {
      const tensors = m.tensors.filter((t) => sh.tensors.some((x) => x.name === t.name)).map((t) => ({
        ...t,
        produce: () => {
          const v = t.produce();
          opts.onProgress?.(++done, m.tensors.length);
          return v;
        },
      }));
      w.stage(names[i], (sink) => void writeSafetensorsStream(tensors, HF_SHARD_METADATA, sink));
    });
    if (!single) w.stage(HF_INDEX_FILE, hfIndexJson(shards));
  });
  return files.map((f) => f.path);
}

// Writes the embedded demo model (a HF Qwen2 folder from core/model/demo.ts) and the demo dataset to disk, for
// `mesp demo-model --out DIR`, the app's first launch and the tests.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { demoDatasetJsonl, demoModelFiles, writeTinyQwen2, type TinyQwen2Options } from '../model/demo';

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

// File loading for the service and the CLI: a model folder's tokenizer and a jsonl dataset, read from disk and
// handed to the pure parsers in core/data. Errors name the file (and the line). The tokenizer's chat template renders
// in the template worker (core/node/template-worker.ts: time, output and memory limits, off the main thread); a
// dataset must be UTF-8 (a line that is not is named, never read as replacement characters).
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { withFile, ConfigError, DataError } from '../common/errors';
import { parseJsonl, type Example, type ParseOptions } from '../data/dataset';
import { TextTokenizer } from '../data/tokenizer';
import { sharedTemplateRunner } from './template-worker';

/** A text file of the model folder, or null when absent; a folder or unreadable file in its place is an error naming it. */
function readText(path: string, what: string): string | null {
  if (!existsSync(path)) return null;
  return withFile(path, `read ${what}`, () => {
    if (!statSync(path).isFile()) throw Object.assign(new Error(path), { code: statSync(path).isDirectory() ? 'EISDIR' : 'ENXIO', syscall: 'open', path });
    return readFileSync(path, 'utf8');
  });
}

/** The model folder's tokenizer (tokenizer.json + tokenizer_config.json), or null when the folder has none. */
export function loadTokenizer(modelDir: string): TextTokenizer | null {
  const tj = join(modelDir, 'tokenizer.json');
  const tc = join(modelDir, 'tokenizer_config.json');
  const ct = join(modelDir, 'chat_template.jinja');
  const json = readText(tj, 'the tokenizer');
  if (json === null) return null;
  const config = readText(tc, 'the tokenizer config');
  const template = readText(ct, 'the chat template');
  return TextTokenizer.fromJson(
    json,
    config,
    { tokenizer: tj, config: config !== null ? tc : undefined, chatTemplate: template !== null ? ct : undefined },
    { chatTemplateText: template, templateRunner: sharedTemplateRunner() },
  );
}

/** Offset of the first byte that breaks UTF-8 (RFC 3629: no overlongs, surrogates or code points past U+10FFFF), or -1. */
function utf8ErrorAt(b: Uint8Array): number {
  for (let i = 0; i < b.length; ) {
    const c = b[i];
    const n = c < 0x80 ? 0 : c >= 0xc2 && c <= 0xdf ? 1 : c >= 0xe0 && c <= 0xef ? 2 : c >= 0xf0 && c <= 0xf4 ? 3 : -1;
    if (n < 0) return i;
    if (n === 2 && ((c === 0xe0 && b[i + 1] < 0xa0) || (c === 0xed && b[i + 1] > 0x9f))) return i;
    if (n === 3 && ((c === 0xf0 && b[i + 1] < 0x90) || (c === 0xf4 && b[i + 1] > 0x8f))) return i;
    for (let k = 1; k <= n; k++) if (i + k >= b.length || (b[i + k] & 0xc0) !== 0x80) return i;
    i += n + 1;
  }
  return -1;
}

/** The 1-based line and byte of the first sequence that is not UTF-8. */
function firstBadUtf8(bytes: Uint8Array): { line: number; column: number } {
  const at = utf8ErrorAt(bytes);
  let line = 1;
  let start = 0;
  for (let i = 0; i < at; i++) {
    if (bytes[i] === 0x0a) {
      line++;
      start = i + 1;
    }
  }
  return { line, column: at - start + 1 };
}

/** A dataset file's text: UTF-8, or a DataError naming the first line that is not. */
export function readDatasetText(path: string): string {
  const bytes = withFile(path, 'read the dataset', () => readFileSync(path));
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    const at = firstBadUtf8(bytes);
    throw new DataError(path, at.line, `is not valid UTF-8 (at byte ${at.column} of the line). Save the dataset as UTF-8.`);
  }
}

/** Read and parse a jsonl dataset (an empty one is a DataError from the parser, naming the file). */
export async function loadDataset(file: string, tokenizer: TextTokenizer | null, opts: ParseOptions = {}): Promise<Example[]> {
  const path = resolve(file);
  if (!existsSync(path)) throw new ConfigError(`dataset ${path} does not exist`, { file: path, field: 'data' });
  const st = statSync(path);
  if (st.isDirectory()) throw new ConfigError(`dataset ${path} is a folder; give a .jsonl file`, { file: path, field: 'data' });
  if (!st.isFile()) throw new ConfigError(`dataset ${path} is not a regular file (a FIFO, socket or device); give a .jsonl file`, { file: path, field: 'data' });
  return parseJsonl(readDatasetText(path), path, tokenizer, opts);
}

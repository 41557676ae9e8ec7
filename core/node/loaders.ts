// File loading for the service and the CLI: a model folder's tokenizer and a jsonl dataset, read from disk and
// handed to the pure parsers in core/data. Errors name the file (and the line).
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ConfigError } from '../common/errors';
import { parseJsonl, type Example, type ParseOptions } from '../data/dataset';
import { TextTokenizer } from '../data/tokenizer';

/** The model folder's tokenizer (tokenizer.json + tokenizer_config.json), or null when the folder has none. */
export function loadTokenizer(modelDir: string): TextTokenizer | null {
  const tj = join(modelDir, 'tokenizer.json');
  if (!existsSync(tj)) return null;
  const tc = join(modelDir, 'tokenizer_config.json');
  const ct = join(modelDir, 'chat_template.jinja');
  return TextTokenizer.fromJson(
    readFileSync(tj, 'utf8'),
    existsSync(tc) ? readFileSync(tc, 'utf8') : null,
    { tokenizer: tj, config: existsSync(tc) ? tc : undefined, chatTemplate: existsSync(ct) ? ct : undefined },
    { chatTemplateText: existsSync(ct) ? readFileSync(ct, 'utf8') : null },
  );
}

/** Read and parse a jsonl dataset (an empty one is a DataError from the parser, naming the file). */
export function loadDataset(file: string, tokenizer: TextTokenizer | null, opts: ParseOptions = {}): Example[] {
  const path = resolve(file);
  if (!existsSync(path)) throw new ConfigError(`dataset ${path} does not exist`, { file: path, field: 'data' });
  if (statSync(path).isDirectory()) throw new ConfigError(`dataset ${path} is a folder; give a .jsonl file`, { file: path, field: 'data' });
  return parseJsonl(readFileSync(path, 'utf8'), path, tokenizer, opts);
}

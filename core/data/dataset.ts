// Datasets: one JSON object per line (jsonl) → token ids and labels for causal-LM fine-tuning (DESIGN.md §7).
// Formats and masking follow Hugging Face TRL's SFT conventions:
//   {"text"}                     loss on every token; eos appended;
//   {"prompt", "completion"}     prompt + completion tokenized together, loss on the completion only; eos appended
//                                (TRL's prompt-completion format);
//   {"messages": [...]}          the tokenizer's chat template (HF apply_chat_template), loss on the assistant turns
//                                only: the tokens of each assistant content and the end-of-turn token the template
//                                writes right after it (<|im_end|> in Qwen2.5's ChatML), as HF's
//                                return_assistant_tokens_mask would mark them;
//   {"input_ids", "labels"?}     pre-tokenized; labels default to input_ids; −100 masks (HF's ignore_index).
// Which characters of a row are trained, and which tokens hold them, is core/data/chat.ts.
// Pure TS: text in, objects out. core/node reads the file.
import { errorMessage, isJsonObject, ConfigError, DataError, FormatError } from '../common/errors';
import type { ChatMessage, TextTokenizer } from './tokenizer';
import { assistantSpans, firstTokenFrom, indexTokens, tokensBefore, type RowPlace } from './chat';

export { assistantSpans, type RowPlace } from './chat';

/** HF's ignore_index: a label that takes no part in the loss. */
export const IGNORE_INDEX = -100;

export type DatasetFormat = 'text' | 'prompt-completion' | 'messages' | 'input-ids';

export const CHAT_ROLES = ['system', 'user', 'assistant'] as const;

export interface Example {
  inputIds: number[];
  /** Same length as inputIds; −100 = masked. Position t is the label of token t (the shift happens in batching). */
  labels: number[];
  /** 1-based line in the file. */
  line: number;
  format: DatasetFormat;
  /** True when the row was longer than seqLen and cut. */
  truncated: boolean;
}

export interface ParseOptions {
  /** Cut rows to this many tokens. A row whose prompt alone fills it is an error (nothing would be trained). */
  seqLen?: number;
  /** Stop after this many rows. */
  maxRows?: number;
  /**
   * The model's vocab_size: bounds the ids and labels of {"input_ids"} rows (default: the tokenizer's size) and every
   * id the tokenizer produces for the other formats.
   */
  vocabSize?: number;
}

const ACCEPTED_FORMATS =
  'Accepted rows: {"text": "..."}, {"prompt": "...", "completion": "..."}, ' +
  '{"messages": [{"role": "user", "content": "..."}, {"role": "assistant", "content": "..."}]}, ' +
  '{"input_ids": [...], "labels": [...]} (labels optional).';

type Row = Record<string, unknown>;

function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return 'an object';
  return `a ${typeof v}`;
}

function excerpt(s: string, max = 60): string {
  const t = s.length > max ? `${s.slice(0, max)}…` : s;
  return JSON.stringify(t);
}

/** A tokenized row before truncation. */
export interface TokenizedRow {
  inputIds: number[];
  labels: number[];
}

/** Rows parsed at a time: their chat templates render concurrently (in the host's template worker), in file order after. */
const WINDOW = 64;

/**
 * Parses a jsonl dataset. Empty and blank lines are skipped; every other line must be one JSON object in one of the
 * accepted formats. Rejects with DataError(file, line) for the first bad row, DataError(file, 0) for a file with no
 * rows, and ConfigError for bad options. Chat rows render through the tokenizer's TemplateRunner.
 */
export async function parseJsonl(text: string, file: string, tokenizer: TextTokenizer | null, opts: ParseOptions = {}): Promise<Example[]> {
  const seqLen = opts.seqLen;
  if (seqLen !== undefined && (!Number.isInteger(seqLen) || seqLen < 2)) {
    throw new ConfigError(`--seq-len must be an integer of at least 2, got ${seqLen}.`, { field: 'seqLen' });
  }
  const maxRows = opts.maxRows;
  if (maxRows !== undefined && (!Number.isInteger(maxRows) || maxRows < 1)) {
    throw new ConfigError(`--max-rows must be a positive integer, got ${maxRows}.`, { field: 'maxRows' });
  }
  const vocabSize = opts.vocabSize ?? tokenizer?.vocabSize;

  const examples: Example[] = [];
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text; // a UTF-8 BOM is not part of the first row
  const lines = body.split('\n');
  const rows: { raw: string; line: number }[] = [];
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i].endsWith('\r') ? lines[i].slice(0, -1) : lines[i];
    if (raw.trim() !== '') rows.push({ raw, line: i + 1 });
  }
  for (let w = 0; w < rows.length; w += WINDOW) {
    if (maxRows !== undefined && examples.length >= maxRows) break;
    const window = rows.slice(w, w + WINDOW);
    if (maxRows !== undefined) window.length = Math.min(window.length, maxRows - examples.length);
    const done = await Promise.allSettled(window.map((r) => parseRow(r.raw, { file, line: r.line }, tokenizer, vocabSize, opts.vocabSize, seqLen)));
    for (const d of done) {
      if (d.status === 'rejected') throw d.reason;
      examples.push(d.value);
    }
  }
  if (examples.length === 0) {
    throw new DataError(file, 0, 'has no rows: the file is empty or holds only blank lines. Write one JSON object per line. ' + ACCEPTED_FORMATS);
  }
  return examples;
}

/** One non-blank line → an example; rejects with DataError naming the line. */
async function parseRow(raw: string, place: RowPlace, tokenizer: TextTokenizer | null, vocabSize: number | undefined, modelVocab: number | undefined, seqLen: number | undefined): Promise<Example> {
  const fail = (msg: string): never => {
    throw new DataError(place.file, place.line, msg);
  };
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch (e) {
    fail(`not valid JSON (${errorMessage(e)}): ${excerpt(raw)}. Each line must be one JSON object.`);
  }
  if (!isJsonObject(value)) fail(`each line must be one JSON object, found ${typeName(value)}: ${excerpt(raw)}.`);
  const row = value as Row;

  const format = detectFormat(row, fail);
  if (format !== 'input-ids' && tokenizer === null) {
    fail(
      `${format} rows need the model's tokenizer (tokenizer.json in the model folder), and none is loaded. ` +
        'Point --model at a folder with tokenizer.json, or give pre-tokenized {"input_ids": [...]} rows.',
    );
  }
  let tokenized: TokenizedRow;
  switch (format) {
    case 'text':
      tokenized = tokenizeText(tokenizer!, expectString(row, 'text', fail), place);
      break;
    case 'prompt-completion':
      tokenized = tokenizePromptCompletion(tokenizer!, expectString(row, 'prompt', fail), expectString(row, 'completion', fail), place);
      break;
    case 'messages':
      tokenized = await tokenizeChat(tokenizer!, expectMessages(row.messages, fail), place);
      break;
    case 'input-ids':
      tokenized = readIds(row, vocabSize, fail);
      break;
  }
  if (format !== 'input-ids' && modelVocab !== undefined) checkTokenIds(tokenized.inputIds, modelVocab, tokenizer!, fail);
  return finish(tokenized, format, seqLen, place);
}

/**
 * The tokenizer's ids must be rows of the model's embedding: a tokenizer.json with more tokens than the model's
 * vocab_size (the wrong tokenizer, or added tokens without resized embeddings) would index past it.
 */
function checkTokenIds(ids: readonly number[], vocab: number, tokenizer: TextTokenizer, fail: (msg: string) => never): void {
  for (let k = 0; k < ids.length; k++) {
    if (ids[k] >= vocab) {
      const piece = tokenizer.idToToken(ids[k]);
      fail(
        `the tokenizer (${tokenizer.files.tokenizer}) turned this row into token id ${ids[k]}${piece !== null ? ` (${JSON.stringify(piece)})` : ''} at position ${k}, ` +
          `outside the model's vocabulary (vocab_size ${vocab} in config.json: ids 0..${vocab - 1}). Use the tokenizer that came with the model.`,
      );
    }
  }
}

function detectFormat(row: Row, fail: (msg: string) => never): DatasetFormat {
  const found: DatasetFormat[] = [];
  if ('text' in row) found.push('text');
  if ('prompt' in row || 'completion' in row) found.push('prompt-completion');
  if ('messages' in row) found.push('messages');
  if ('input_ids' in row) found.push('input-ids');
  if (found.length > 1) fail(`the row mixes formats (${found.join(' and ')}); use one per row. ${ACCEPTED_FORMATS}`);
  if (found.length === 0) {
    const keys = Object.keys(row);
    fail(`unknown row format (keys: ${keys.length ? keys.join(', ') : 'none'}). ${ACCEPTED_FORMATS}`);
  }
  if (found[0] === 'prompt-completion') {
    if (!('prompt' in row)) fail('the row has "completion" but no "prompt". Add "prompt" (it may be "").');
    if (!('completion' in row)) fail('the row has "prompt" but no "completion". Add the "completion" to learn.');
  }
  return found[0];
}

function expectString(row: Row, key: string, fail: (msg: string) => never): string {
  const v = row[key];
  if (typeof v !== 'string') fail(`"${key}" must be a string, found ${typeName(v)}.`);
  return v as string;
}

function expectMessages(v: unknown, fail: (msg: string) => never): ChatMessage[] {
  if (!Array.isArray(v)) fail(`"messages" must be a list of {"role", "content"} objects, found ${typeName(v)}.`);
  const list = v as unknown[];
  if (list.length === 0) fail('"messages" is empty; give at least a user and an assistant message.');
  const out: ChatMessage[] = [];
  list.forEach((m, k) => {
    const n = k + 1;
    if (!isJsonObject(m)) fail(`message ${n} must be an object {"role", "content"}, found ${typeName(m)}.`);
    const msg = m as Row;
    if (typeof msg.role !== 'string') fail(`message ${n}: "role" must be a string, found ${typeName(msg.role)}.`);
    const role = msg.role as string;
    if (!(CHAT_ROLES as readonly string[]).includes(role)) {
      fail(`message ${n} has role ${JSON.stringify(role)}; the accepted roles are ${CHAT_ROLES.join(', ')}.`);
    }
    if (typeof msg.content !== 'string') fail(`message ${n} (${role}): "content" must be a string, found ${typeName(msg.content)}.`);
    out.push({ role, content: msg.content as string });
  });
  if (!out.some((m) => m.role === 'assistant')) {
    fail('the conversation has no assistant message, so no token would be trained. Add the assistant reply.');
  }
  return out;
}

function readIds(row: Row, vocabSize: number | undefined, fail: (msg: string) => never): TokenizedRow {
  const ids = row.input_ids;
  if (!Array.isArray(ids)) fail(`"input_ids" must be a list of token ids, found ${typeName(ids)}.`);
  const inputIds = ids as unknown[];
  if (inputIds.length === 0) fail('"input_ids" is empty.');
  const range = vocabSize !== undefined ? `0..${vocabSize - 1}` : '0 or more';
  inputIds.forEach((id, k) => {
    if (typeof id !== 'number' || !Number.isInteger(id)) fail(`input_ids[${k}] must be an integer token id, found ${JSON.stringify(id)}.`);
    if ((id as number) < 0 || (vocabSize !== undefined && (id as number) >= vocabSize)) {
      fail(`input_ids[${k}] = ${id} is outside the vocabulary (${range}). Tokenize with the model's own tokenizer.`);
    }
  });
  if (!('labels' in row)) return { inputIds: inputIds as number[], labels: [...(inputIds as number[])] };
  const labels = row.labels;
  if (!Array.isArray(labels)) fail(`"labels" must be a list, found ${typeName(labels)}.`);
  const ls = labels as unknown[];
  if (ls.length !== inputIds.length) {
    fail(`"labels" has ${ls.length} entries but "input_ids" has ${inputIds.length}; they must have the same length.`);
  }
  ls.forEach((l, k) => {
    if (typeof l !== 'number' || !Number.isInteger(l)) fail(`labels[${k}] must be an integer, found ${JSON.stringify(l)}.`);
    const v = l as number;
    if (v !== IGNORE_INDEX && (v < 0 || (vocabSize !== undefined && v >= vocabSize))) {
      fail(`labels[${k}] = ${v} is neither ${IGNORE_INDEX} (masked) nor a token id (${range}).`);
    }
  });
  return { inputIds: inputIds as number[], labels: ls as number[] };
}

/** Checks that something will be trained, then truncates to seqLen. */
function finish(row: TokenizedRow, format: DatasetFormat, seqLen: number | undefined, place: RowPlace): Example {
  const { inputIds, labels } = row;
  // With the causal shift the label of position 0 is never a target (nothing precedes it).
  let firstTarget = -1;
  for (let t = 1; t < labels.length; t++) {
    if (labels[t] !== IGNORE_INDEX) {
      firstTarget = t;
      break;
    }
  }
  if (firstTarget < 0) {
    throw new DataError(place.file, place.line, 'no token of this row is trained (every label is masked, or the row has a single token). Give it a completion or an unmasked label.');
  }
  let truncated = false;
  if (seqLen !== undefined && inputIds.length > seqLen) {
    if (firstTarget >= seqLen) {
      const firstLabeled = labels.findIndex((l) => l !== IGNORE_INDEX);
      const n = firstLabeled >= 1 ? firstLabeled : firstTarget;
      throw new DataError(
        place.file,
        place.line,
        `prompt of ${n} tokens is ${n > seqLen ? 'longer than' : 'as long as'} --seq-len ${seqLen}, so no completion token ` +
          'would survive truncation. Raise --seq-len, shorten the prompt, or drop this row.',
      );
    }
    truncated = true;
    return { inputIds: inputIds.slice(0, seqLen), labels: labels.slice(0, seqLen), line: place.line, format, truncated };
  }
  return { inputIds, labels, line: place.line, format, truncated };
}

function withEos(tokenizer: TextTokenizer, ids: number[], place: RowPlace): number[] {
  const eos = tokenizer.eosId;
  if (eos === null) {
    throw new FormatError(
      tokenizer.files.config ?? tokenizer.files.tokenizer,
      `has no eos_token, which ${place.file} needs to end its rows. Set "eos_token" in tokenizer_config.json.`,
    );
  }
  return ids.length > 0 && ids[ids.length - 1] === eos ? ids : [...ids, eos];
}

/** {"text"}: loss on all tokens, eos appended (unless the text already ends with it). */
export function tokenizeText(tokenizer: TextTokenizer, text: string, place: RowPlace): TokenizedRow {
  if (text.length === 0) throw new DataError(place.file, place.line, '"text" is empty; give it some text or drop the row.');
  const inputIds = withEos(tokenizer, tokenizer.encode(text), place);
  return { inputIds, labels: [...inputIds] };
}

/** {"prompt", "completion"}: tokenized together (as TRL does), loss on the completion and its eos. */
export function tokenizePromptCompletion(tokenizer: TextTokenizer, prompt: string, completion: string, place: RowPlace): TokenizedRow {
  if (completion.length === 0) throw new DataError(place.file, place.line, '"completion" is empty; nothing would be learned from this row.');
  const full = prompt + completion;
  const ids = tokenizer.encode(full);
  const start = firstTokenFrom(indexTokens(tokenizer, full, ids, true), prompt.length);
  const inputIds = withEos(tokenizer, ids, place);
  const labels = inputIds.map((id, t) => (t >= start ? id : IGNORE_INDEX));
  return { inputIds, labels };
}

/**
 * {"messages"}: the chat template, with loss on each assistant content and the end-of-turn special token the
 * template writes right after it. Assistant spans are found exactly in the rendered text (assistantSpans in
 * chat.ts), then mapped to tokens of the whole rendered conversation; a token is trained when it holds a character
 * of a span.
 */
export async function tokenizeChat(
  tokenizer: TextTokenizer,
  messages: readonly ChatMessage[],
  place: RowPlace,
  method: 'auto' | 'markers' | 'prefixes' = 'auto',
): Promise<TokenizedRow> {
  const { text, spans } = await assistantSpans(tokenizer, messages, place, method);
  const inputIds = tokenizer.encode(text, { addSpecialTokens: false });
  const labels = new Array<number>(inputIds.length).fill(IGNORE_INDEX);
  const index = indexTokens(tokenizer, text, inputIds, false);
  for (const [s, e] of spans) {
    const a = firstTokenFrom(index, s);
    const b = tokensBefore(index, e);
    for (let t = a; t < b; t++) labels[t] = inputIds[t];
  }
  return { inputIds, labels };
}

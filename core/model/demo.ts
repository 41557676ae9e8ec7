// The app's embedded demo model and dataset, as bytes: a tiny Qwen2-architecture checkpoint in the HF folder layout
// (config.json as HF Qwen2Config, model.safetensors or shards + model.safetensors.index.json as transformers writes
// them) with deterministic random weights, and a real byte-level BPE tokenizer.json in the HF tokenizers format
// (GPT-2/Qwen2 style: NFC normalizer, Qwen2's split regex, ByteLevel pre-tokenizer and decoder, a BPE model whose
// vocab is the 256 byte symbols plus merges learned here from an embedded English corpus, and the Qwen special tokens
// <|endoftext|>, <|im_start|>, <|im_end|> as added_tokens), with a tokenizer_config.json carrying a Qwen2.5-style
// ChatML chat_template. Pure TS: no Node, no GPU; core/node/demo.ts writes the files to disk.
import { ConfigError } from '../common/errors';
import { Rng, deriveSeed } from '../common/rng';
import { writeSafetensors, type TensorToWrite } from '../common/safetensors';
import { parseQwen2Config } from './config';
import { expectedTensors } from './names';

/** n normal values of the given mean and std from a seeded stream. */
function normals(rng: Rng, n: number, std: number, mean = 0): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = mean + std * rng.normal();
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Byte-level BPE tokenizer (HF tokenizers JSON format)

export const SPECIAL_TOKENS = ['<|endoftext|>', '<|im_start|>', '<|im_end|>'] as const;

/**
 * GPT-2's byte → printable-character table: printable Latin-1 bytes map to themselves, the other 68 bytes to
 * U+0100 onwards in byte order (so a space is 'Ġ' and a newline 'Ċ').
 */
export function bytesToUnicode(): string[] {
  const table: string[] = new Array(256);
  let extra = 0;
  for (let b = 0; b < 256; b++) {
    const printable = (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
    table[b] = String.fromCodePoint(printable ? b : 256 + extra++);
  }
  return table;
}

/**
 * Qwen2's pre-tokenizer split regex, with its case-insensitive group `(?i:'s|'t|...)` written out so that every
 * regex engine (Rust onig, JavaScript without the `(?i:)` modifier) reads it the same way.
 */
export const SPLIT_REGEX =
  "'(?:[sS]|[tT]|[rR][eE]|[vV][eE]|[mM]|[lL][lL]|[dD])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

export interface TokenizerFilesJson {
  tokenizerJson: Record<string, unknown>;
  tokenizerConfig: Record<string, unknown>;
}

/** Pre-tokenize like the tokenizer does (NFC, split regex, bytes → symbols), counting each word. */
function wordCounts(corpus: string): Map<string, number> {
  const b2u = bytesToUnicode();
  const enc = new TextEncoder();
  const re = new RegExp(SPLIT_REGEX, 'gu');
  const counts = new Map<string, number>();
  for (const m of corpus.normalize('NFC').matchAll(re)) {
    let w = '';
    for (const b of enc.encode(m[0])) w += b2u[b];
    counts.set(w, (counts.get(w) ?? 0) + 1);
  }
  return counts;
}

/**
 * Learn BPE merges on `corpus` until the vocab holds `bpeVocab` tokens (256 bytes + learned tokens) or no pair
 * is left. The most frequent adjacent pair is merged each round; ties go to the smaller pair in code-unit order.
 */
function learnMerges(corpus: string, bpeVocab: number): { vocab: string[]; merges: [string, string][] } {
  const b2u = bytesToUnicode();
  const vocab = [...b2u];
  const known = new Set(vocab);
  const merges: [string, string][] = [];
  const words = [...wordCounts(corpus)].sort((a, b) => (a[0] < b[0] ? -1 : 1)).map(([w, n]) => ({ syms: [...w], n }));
  while (vocab.length < bpeVocab) {
    const pairs = new Map<string, number>();
    for (const { syms, n } of words) {
      for (let i = 0; i + 1 < syms.length; i++) {
        const key = `${syms[i]} ${syms[i + 1]}`;
        pairs.set(key, (pairs.get(key) ?? 0) + n);
      }
    }
    let best = '';
    let bestN = 0;
    for (const [key, n] of pairs) {
      if (n > bestN || (n === bestN && key < best)) {
        best = key;
        bestN = n;
      }
    }
    if (bestN === 0) break;
    const [a, b] = best.split(' ');
    const ab = a + b;
    merges.push([a, b]);
    if (!known.has(ab)) {
      known.add(ab);
      vocab.push(ab);
    }
    for (const w of words) {
      const s = w.syms;
      if (s.length < 2) continue;
      const out: string[] = [];
      for (let i = 0; i < s.length; i++) {
        if (i + 1 < s.length && s[i] === a && s[i + 1] === b) {
          out.push(ab);
          i++;
        } else out.push(s[i]);
      }
      w.syms = out;
    }
  }
  return { vocab, merges };
}

/** Qwen2.5's ChatML template (tools left out), with a neutral default system prompt. */
export const CHAT_TEMPLATE = [
  String.raw`{%- if messages[0]['role'] == 'system' %}`,
  String.raw`    {{- '<|im_start|>system\n' + messages[0]['content'] + '<|im_end|>\n' }}`,
  String.raw`{%- else %}`,
  String.raw`    {{- '<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n' }}`,
  String.raw`{%- endif %}`,
  String.raw`{%- for message in messages %}`,
  String.raw`    {%- if (message.role == "user") or (message.role == "system" and not loop.first) or (message.role == "assistant") %}`,
  String.raw`        {{- '<|im_start|>' + message.role + '\n' + message.content + '<|im_end|>' + '\n' }}`,
  String.raw`    {%- endif %}`,
  String.raw`{%- endfor %}`,
  String.raw`{%- if add_generation_prompt %}`,
  String.raw`    {{- '<|im_start|>assistant\n' }}`,
  String.raw`{%- endif %}`,
].join('\n');

const tokenizerCache = new Map<string, TokenizerFilesJson>();

/**
 * A byte-level BPE tokenizer of `totalVocab` tokens at most (256 bytes + merges + 3 special tokens), trained on
 * `corpus`, as HF tokenizer.json and tokenizer_config.json objects. Ids: byte b is id b, learned tokens follow in
 * merge order, the special tokens come last. Deterministic; cached per (corpus, size).
 */
export function buildByteLevelTokenizer(corpus: string, totalVocab: number): TokenizerFilesJson {
  if (!Number.isInteger(totalVocab) || totalVocab < 256 + SPECIAL_TOKENS.length) {
    throw new ConfigError(`a byte-level tokenizer needs at least ${256 + SPECIAL_TOKENS.length} tokens (256 bytes + 3 special), got ${totalVocab}`, { field: 'vocab' });
  }
  const key = `${totalVocab}:${deriveSeed(0, corpus)}:${corpus.length}`;
  const hit = tokenizerCache.get(key);
  if (hit) return structuredClone(hit);
  const { vocab, merges } = learnMerges(corpus, totalVocab - SPECIAL_TOKENS.length);
  const vocabObj: Record<string, number> = {};
  vocab.forEach((t, i) => (vocabObj[t] = i));
  const specials = SPECIAL_TOKENS.map((content, k) => ({
    id: vocab.length + k,
    content,
    single_word: false,
    lstrip: false,
    rstrip: false,
    normalized: false,
    special: true,
  }));
  const byteLevel = { type: 'ByteLevel', add_prefix_space: false, trim_offsets: false, use_regex: false };
  const tokenizerJson = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: specials,
    normalizer: { type: 'NFC' },
    pre_tokenizer: {
      type: 'Sequence',
      pretokenizers: [{ type: 'Split', pattern: { Regex: SPLIT_REGEX }, behavior: 'Isolated', invert: false }, byteLevel],
    },
    post_processor: byteLevel,
    decoder: byteLevel,
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: '',
      end_of_word_suffix: '',
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      vocab: vocabObj,
      // "left right": byte-level symbols never contain a space, so the classic string form is unambiguous.
      merges: merges.map(([a, b]) => `${a} ${b}`),
    },
  };
  const addedTokensDecoder: Record<string, unknown> = {};
  for (const s of specials) {
    const { id, ...rest } = s;
    addedTokensDecoder[String(id)] = rest;
  }
  const tokenizerConfig = {
    add_bos_token: false,
    add_prefix_space: false,
    added_tokens_decoder: addedTokensDecoder,
    additional_special_tokens: ['<|im_start|>', '<|im_end|>'],
    bos_token: null,
    chat_template: CHAT_TEMPLATE,
    clean_up_tokenization_spaces: false,
    eos_token: '<|im_end|>',
    errors: 'replace',
    model_max_length: 32768,
    pad_token: '<|endoftext|>',
    split_special_tokens: false,
    tokenizer_class: 'Qwen2Tokenizer',
    unk_token: null,
  };
  const out = { tokenizerJson, tokenizerConfig };
  tokenizerCache.set(key, out);
  return structuredClone(out);
}

// ---------------------------------------------------------------------------------------------------------------
// The demo dataset and the tokenizer's corpus

const CAPITALS: [string, string][] = [
  ['France', 'Paris'], ['Japan', 'Tokyo'], ['Italy', 'Rome'], ['Spain', 'Madrid'], ['Germany', 'Berlin'],
  ['Canada', 'Ottawa'], ['Egypt', 'Cairo'], ['Kenya', 'Nairobi'], ['Peru', 'Lima'], ['Chile', 'Santiago'],
  ['Norway', 'Oslo'], ['Sweden', 'Stockholm'], ['Greece', 'Athens'], ['Portugal', 'Lisbon'], ['Ireland', 'Dublin'],
  ['Poland', 'Warsaw'], ['Austria', 'Vienna'], ['Mexico', 'Mexico City'], ['Brazil', 'Brasília'], ['Australia', 'Canberra'],
  ['India', 'New Delhi'], ['China', 'Beijing'], ['Argentina', 'Buenos Aires'], ['Turkey', 'Ankara'], ['Thailand', 'Bangkok'],
  ['Vietnam', 'Hanoi'], ['Cuba', 'Havana'], ['Finland', 'Helsinki'], ['Denmark', 'Copenhagen'], ['Hungary', 'Budapest'],
];
const SOUNDS: [string, string][] = [
  ['dog', 'barks'], ['cat', 'meows'], ['cow', 'moos'], ['duck', 'quacks'], ['sheep', 'bleats'], ['horse', 'neighs'],
  ['lion', 'roars'], ['owl', 'hoots'], ['frog', 'croaks'], ['pig', 'oinks'], ['snake', 'hisses'], ['bee', 'buzzes'],
];
const COLORS: [string, string][] = [
  ['the sky on a clear day', 'blue'], ['fresh grass', 'green'], ['snow', 'white'], ['coal', 'black'], ['a ripe banana', 'yellow'],
  ['a ripe tomato', 'red'], ['an orange', 'orange'], ['a lemon', 'yellow'], ['a pumpkin', 'orange'], ['milk', 'white'],
  ['a plum', 'purple'], ['chocolate', 'brown'], ['a stop sign', 'red'], ['a frog', 'green'], ['the night sky', 'dark blue'],
];
const OPPOSITES: [string, string][] = [
  ['hot', 'cold'], ['big', 'small'], ['up', 'down'], ['fast', 'slow'], ['happy', 'sad'], ['light', 'dark'],
  ['open', 'closed'], ['early', 'late'], ['full', 'empty'], ['old', 'new'], ['high', 'low'], ['hard', 'soft'],
  ['wet', 'dry'], ['strong', 'weak'], ['left', 'right'], ['near', 'far'], ['rich', 'poor'], ['loud', 'quiet'],
  ['true', 'false'], ['first', 'last'],
];
const DAYS = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'];
const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
const LEGS: [string, number][] = [
  ['a spider', 8], ['an ant', 6], ['a dog', 4], ['a bird', 2], ['a horse', 4], ['a beetle', 6],
  ['an octopus', 8], ['a chicken', 2], ['a cat', 4], ['a snake', 0],
];
const WORDS: [string, string, string][] = [
  ['hello', 'French', 'bonjour'], ['thank you', 'French', 'merci'], ['coffee', 'French', 'café'], ['student', 'French', 'élève'],
  ['hello', 'Spanish', 'hola'], ['thank you', 'Spanish', 'gracias'], ['Spain', 'Spanish', 'España'], ['child', 'Spanish', 'niño'],
  ['hello', 'German', 'hallo'], ['thank you', 'German', 'danke'], ['hello', 'Chinese', '你好'], ['thank you', 'Chinese', '谢谢'],
];

interface QA {
  q: string;
  a: string;
}

function demoPairs(): QA[] {
  const qa: QA[] = [];
  for (const [c, cap] of CAPITALS) qa.push({ q: `What is the capital of ${c}?`, a: `The capital of ${c} is ${cap}.` });
  const rng = new Rng(20240917);
  for (let k = 0; k < 30; k++) {
    const a = 1 + rng.int(20);
    const b = 1 + rng.int(20);
    qa.push({ q: `What is ${a} plus ${b}?`, a: `${a} plus ${b} is ${a + b}.` });
  }
  for (let k = 0; k < 30; k++) {
    const a = 2 + rng.int(11);
    const b = 2 + rng.int(11);
    qa.push({ q: `What is ${a} times ${b}?`, a: `${a} times ${b} is ${a * b}.` });
  }
  for (let k = 0; k < 10; k++) {
    const a = 10 + rng.int(20);
    const b = 1 + rng.int(10);
    qa.push({ q: `What is ${a} minus ${b}?`, a: `${a} minus ${b} is ${a - b}.` });
  }
  for (const [an, s] of SOUNDS) qa.push({ q: `What sound does a ${an} make?`, a: `A ${an} ${s}.` });
  for (const [thing, col] of COLORS) qa.push({ q: `What color is ${thing}?`, a: `${thing[0].toUpperCase()}${thing.slice(1)} is ${col}.` });
  for (const [w, o] of OPPOSITES) qa.push({ q: `What is the opposite of "${w}"?`, a: `The opposite of "${w}" is "${o}".` });
  DAYS.forEach((d, i) => qa.push({ q: `Which day comes after ${d}?`, a: `${DAYS[(i + 1) % 7]} comes after ${d}.` }));
  MONTHS.forEach((m, i) => qa.push({ q: `Which month comes after ${m}?`, a: `${MONTHS[(i + 1) % 12]} comes after ${m}.` }));
  for (const [an, n] of LEGS) qa.push({ q: `How many legs does ${an} have?`, a: `${an[0].toUpperCase()}${an.slice(1)} has ${n === 0 ? 'no' : n} legs.` });
  for (const [w, lang, t] of WORDS) qa.push({ q: `How do you say "${w}" in ${lang}?`, a: `In ${lang}, "${w}" is "${t}".` });
  for (let n = 1; n <= 12; n++) qa.push({ q: `Count from 1 to ${n + 2}.`, a: Array.from({ length: n + 2 }, (_, i) => i + 1).join(', ') + '.' });
  // A fixed shuffle, so topics are mixed in any prefix of the file.
  const shuffle = new Rng(7);
  for (let i = qa.length - 1; i > 0; i--) {
    const j = shuffle.int(i + 1);
    [qa[i], qa[j]] = [qa[j], qa[i]];
  }
  return qa;
}

/**
 * The bundled demo dataset, one JSON object a line: chat rows {"messages": [user, assistant]} (default) or
 * {"text": "Question: ...\nAnswer: ..."}. 200 short facts and sums; deterministic.
 */
export function demoDatasetJsonl(format: 'messages' | 'text' = 'messages'): string {
  return (
    demoPairs()
      .map(({ q, a }) =>
        format === 'messages'
          ? JSON.stringify({ messages: [{ role: 'user', content: q }, { role: 'assistant', content: a }] })
          : JSON.stringify({ text: `Question: ${q}\nAnswer: ${a}` }),
      )
      .join('\n') + '\n'
  );
}

const CORPUS_PROSE = `MeSP Studio fine-tunes small language models on a phone's memory budget.
A model reads text as tokens. Each token is a piece of a word: common words are one token, rare words are
spelled out in smaller pieces, and any byte can still be written, so no text is ever unknown.
The assistant answers questions about the world. It knows that water boils at 100 degrees Celsius at sea level,
that there are 7 days in a week and 12 months in a year, and that the Earth goes around the Sun once a year.
When you ask a question, it says what it knows in a short sentence. If it does not know, it says so.
Training shows the model many examples. After each step, the loss should go down a little: the model is
learning which token comes next. Good data is short, clear and correct. Write one example a line.
Numbers like 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 42 and 2024 appear often; so do punctuation marks: commas,
periods, question marks? exclamation marks! quotes "like this", (parentheses), colons: and semicolons;
The user asks, and the assistant replies. Hello! How are you today? I'm fine, thank you. Let's learn.
`;

/** The text the demo tokenizer learns from: prose, the chat markers and the demo dataset itself. */
export function demoCorpus(): string {
  const chat = demoPairs()
    .map(({ q, a }) => `system\nYou are a helpful assistant.\nuser\n${q}\nassistant\n${a}\nQuestion: ${q}\nAnswer: ${a}\n`)
    .join('');
  return CORPUS_PROSE + chat;
}

// ---------------------------------------------------------------------------------------------------------------
// The tiny model

export interface TinyQwen2Options {
  hidden: number;
  layers: number;
  heads: number;
  kvHeads: number;
  intermediate: number;
  vocab: number;
  tied: boolean;
  dtype: 'F32' | 'BF16' | 'F16';
  seed: number;
  /** Split the weights over this many safetensors files with an index (default 1: model.safetensors). */
  shards?: number;
  ropeTheta?: number;
  eps?: number;
  /** Std of the matrices and the embedding (default 0.02, as HF's initializer_range). Biases get half of it. */
  weightScale?: number;
  maxPositions?: number;
  /** Also write tokenizer.json and tokenizer_config.json (default false). */
  tokenizer?: boolean;
  /** Tokens of the tokenizer, specials included (default min(vocab, 4096)); at most vocab. */
  tokenizerVocab?: number;
}

const HF_DTYPE: Record<TinyQwen2Options['dtype'], string> = { F32: 'float32', BF16: 'bfloat16', F16: 'float16' };

/** The deterministic f32 values of one tensor of a tiny model: a function of (seed, name, shape, scale) only. */
export function tinyTensorValues(name: string, shape: readonly number[], seed: number, weightScale = 0.02): Float32Array {
  const n = shape.reduce((a, b) => a * b, 1);
  const rng = new Rng(deriveSeed(seed, name)); // one stream per tensor name: the same values whatever the sharding
  if (name.endsWith('norm.weight')) return normals(rng, n, 0.05, 1); // RMSNorm gains around 1
  if (name.endsWith('.bias')) return normals(rng, n, weightScale / 2);
  return normals(rng, n, weightScale);
}

function pad5(i: number): string {
  return String(i).padStart(5, '0');
}

/**
 * The files of a HF folder holding a tiny Qwen2 model: config.json, model.safetensors (or shards and
 * model.safetensors.index.json), and with `tokenizer: true`, tokenizer.json and tokenizer_config.json.
 */
export function writeTinyQwen2(opts: TinyQwen2Options): Map<string, Uint8Array> {
  const shards = opts.shards ?? 1;
  const weightScale = opts.weightScale ?? 0.02;
  let tok: TokenizerFilesJson | null = null;
  if (opts.tokenizer) {
    const size = opts.tokenizerVocab ?? Math.min(opts.vocab, 4096);
    if (size > opts.vocab) {
      throw new ConfigError(`tokenizerVocab ${size} exceeds the model vocab ${opts.vocab}: every token id must have an embedding row`, { field: 'tokenizerVocab' });
    }
    tok = buildByteLevelTokenizer(demoCorpus(), size);
  }
  const specialId = (content: string): number | null => {
    const added = tok?.tokenizerJson.added_tokens as { id: number; content: string }[] | undefined;
    return added?.find((t) => t.content === content)?.id ?? null;
  };
  const config = {
    architectures: ['Qwen2ForCausalLM'],
    attention_dropout: 0.0,
    bos_token_id: specialId('<|endoftext|>'),
    eos_token_id: specialId('<|im_end|>'),
    hidden_act: 'silu',
    hidden_size: opts.hidden,
    initializer_range: weightScale,
    intermediate_size: opts.intermediate,
    max_position_embeddings: opts.maxPositions ?? 2048,
    max_window_layers: opts.layers,
    model_type: 'qwen2',
    num_attention_heads: opts.heads,
    num_hidden_layers: opts.layers,
    num_key_value_heads: opts.kvHeads,
    rms_norm_eps: opts.eps ?? 1e-6,
    rope_scaling: null,
    rope_theta: opts.ropeTheta ?? 1000000.0,
    sliding_window: null,
    tie_word_embeddings: opts.tied,
    torch_dtype: HF_DTYPE[opts.dtype],
    use_cache: true,
    use_sliding_window: false,
    vocab_size: opts.vocab,
  };
  const cfg = parseQwen2Config(config, 'config.json (tiny model options)');
  const tensors: TensorToWrite[] = expectedTensors(cfg).map((t) => ({
    name: t.name,
    dtype: opts.dtype,
    shape: t.shape,
    data: tinyTensorValues(t.name, t.shape, opts.seed, weightScale),
  }));
  if (!Number.isInteger(shards) || shards < 1 || shards > tensors.length) {
    throw new ConfigError(`shards must be an integer from 1 to ${tensors.length} (the number of tensors), got ${shards}`, { field: 'shards' });
  }

  const enc = new TextEncoder();
  const json = (v: unknown): Uint8Array => enc.encode(JSON.stringify(v, null, 2) + '\n');
  const files = new Map<string, Uint8Array>();
  files.set('config.json', json(config));
  files.set('generation_config.json', json({ bos_token_id: config.bos_token_id, eos_token_id: config.eos_token_id, do_sample: false }));
  const metadata = { format: 'pt' };
  if (shards === 1) {
    files.set('model.safetensors', writeSafetensors(tensors, metadata));
  } else {
    // Contiguous groups in state-dict order, each about total/shards bytes, as transformers' max_shard_size does.
    const bytesOf = (t: TensorToWrite): number => t.data.length * (t.dtype === 'F32' ? 4 : 2);
    const total = tensors.reduce((s, t) => s + bytesOf(t), 0);
    const groups: TensorToWrite[][] = [];
    let cur: TensorToWrite[] = [];
    let acc = 0;
    tensors.forEach((t, k) => {
      const groupsAfter = shards - groups.length - 1; // groups still to open after the current one
      const tensorsLeft = tensors.length - k; // this one included
      if (cur.length > 0 && groupsAfter > 0 && (acc >= (total * (groups.length + 1)) / shards || tensorsLeft <= groupsAfter)) {
        groups.push(cur);
        cur = [];
      }
      cur.push(t);
      acc += bytesOf(t);
    });
    groups.push(cur);
    const weightMap: Record<string, string> = {};
    groups.forEach((g, i) => {
      const file = `model-${pad5(i + 1)}-of-${pad5(shards)}.safetensors`;
      files.set(file, writeSafetensors(g, metadata));
      for (const t of g) weightMap[t.name] = file;
    });
    const sortedMap: Record<string, string> = {};
    for (const k of Object.keys(weightMap).sort()) sortedMap[k] = weightMap[k];
    files.set('model.safetensors.index.json', json({ metadata: { total_size: total }, weight_map: sortedMap }));
  }
  if (tok) {
    files.set('tokenizer.json', enc.encode(JSON.stringify(tok.tokenizerJson)));
    files.set('tokenizer_config.json', json(tok.tokenizerConfig));
  }
  return files;
}

/** The embedded default model of the app: 4 layers, hidden 128, GQA 4/2, vocab 1024, tied, f32, with tokenizer. */
export const DEMO_MODEL: TinyQwen2Options = {
  hidden: 128,
  layers: 4,
  heads: 4,
  kvHeads: 2,
  intermediate: 256,
  vocab: 1024,
  tied: true,
  dtype: 'F32',
  seed: 1234,
  ropeTheta: 10000,
  eps: 1e-6,
  weightScale: 0.02,
  maxPositions: 1024,
  tokenizer: true,
  tokenizerVocab: 1024,
};

/** The files of the demo model folder (see DEMO_MODEL). */
export function demoModelFiles(): Map<string, Uint8Array> {
  return writeTinyQwen2(DEMO_MODEL);
}

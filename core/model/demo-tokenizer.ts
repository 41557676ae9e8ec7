// The demo model's tokenizer: a real byte-level BPE tokenizer in the HF tokenizers JSON format, GPT-2/Qwen2 style
// (NFC normalizer, Qwen2's split regex, ByteLevel pre-tokenizer and decoder, a BPE model whose vocab is the 256 byte
// symbols plus merges learned here from a corpus, and the Qwen special tokens <|endoftext|>, <|im_start|>, <|im_end|>
// as added_tokens), with a tokenizer_config.json carrying a Qwen2.5-style ChatML chat_template. Used by
// core/model/demo.ts (the demo model folder) and tests. Pure TS: no Node, no GPU.
import { ConfigError } from '../common/errors';
import { deriveSeed } from '../common/rng';

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

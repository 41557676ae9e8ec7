// A minimal byte-level BPE tokenizer.json, written from scratch for tests (the layout of Hugging Face tokenizers'
// tokenizer.json: GPT-2 byte-to-unicode alphabet, a handful of merges, ChatML special tokens), plus a
// tokenizer_config.json with Qwen2.5's chat template. Small enough to load in milliseconds.
import { QWEN25_CHAT_TEMPLATE } from './qwen25-template';

/** GPT-2's reversible byte → printable character map (bytes_to_unicode). */
export function byteToUnicode(): string[] {
  const printable = (b: number) => (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
  const out: string[] = [];
  let extra = 0;
  for (let b = 0; b < 256; b++) out.push(String.fromCodePoint(printable(b) ? b : 256 + extra++));
  return out;
}

/** Merges of the tiny vocabulary (pairs of byte-level symbols). 'Ġ' is a space, 'Ċ' a newline. */
export const TINY_MERGES: Array<[string, string]> = [
  ['h', 'e'],
  ['l', 'l'],
  ['he', 'll'],
  ['hell', 'o'],
  ['Ġ', 'w'],
  ['o', 'r'],
  ['Ġw', 'or'],
  ['Ġwor', 'l'],
  ['Ġworl', 'd'],
  ['Ċ', 'Ċ'],
];

export const TINY_SPECIALS = ['<|endoftext|>', '<|im_start|>', '<|im_end|>'];

export interface TinyTokenizerFiles {
  tokenizerJson: string;
  configJson: string;
  /** ids of the special tokens, by content */
  ids: Record<string, number>;
  vocabSize: number;
}

export function tinyTokenizer(opts: { chatTemplate?: string | null; eos?: string | null; pad?: string | null } = {}): TinyTokenizerFiles {
  const vocab: Record<string, number> = {};
  for (const ch of byteToUnicode()) vocab[ch] = Object.keys(vocab).length;
  for (const [a, b] of TINY_MERGES) vocab[a + b] = Object.keys(vocab).length;
  const ids: Record<string, number> = {};
  const added = TINY_SPECIALS.map((content) => {
    const id = Object.keys(vocab).length + Object.keys(ids).length;
    ids[content] = id;
    return { id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true };
  });
  const json = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: added,
    normalizer: null,
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
    post_processor: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: false, use_regex: false },
    decoder: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      vocab,
      merges: TINY_MERGES.map(([a, b]) => `${a} ${b}`),
    },
  };
  const config: Record<string, unknown> = {
    add_bos_token: false,
    bos_token: null,
    eos_token: opts.eos === undefined ? '<|im_end|>' : opts.eos,
    pad_token: opts.pad === undefined ? '<|endoftext|>' : opts.pad,
    unk_token: null,
    clean_up_tokenization_spaces: false,
    model_max_length: 4096,
  };
  const template = opts.chatTemplate === undefined ? QWEN25_CHAT_TEMPLATE : opts.chatTemplate;
  if (template !== null) config.chat_template = template;
  return { tokenizerJson: JSON.stringify(json), configJson: JSON.stringify(config), ids, vocabSize: Object.keys(vocab).length + added.length };
}

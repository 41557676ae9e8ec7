// A Hugging Face byte-level BPE tokenizer (tokenizer.json + tokenizer_config.json, Qwen2's) as the tokenizer.* metadata
// of a GGUF model, what llama.cpp's llama-vocab.cpp loads (and what convert_hf_to_gguf.py's get_vocab_base writes):
//   tokenizer.ggml.model "gpt2" (byte-level BPE), tokenizer.ggml.pre "qwen2" (Qwen2's split regex; "gpt-2" for GPT-2's),
//   tokenizer.ggml.tokens: one string per id 0..vocab_size-1 (the byte-level symbols of the BPE vocab; added tokens
//   by their content; ids no token has, up to the model's vocab_size, as "[PAD{id}]"),
//   tokenizer.ggml.token_type (int32): 1 normal, 3 control (special added tokens, and "<|...|>" ones), 4 user-defined
//   (the other added tokens), 5 unused (the padding ids),
//   tokenizer.ggml.merges: "left right" strings in rank order,
//   tokenizer.ggml.bos/eos/padding_token_id (u32) from tokenizer_config.json's bos/eos/pad tokens (else config.json's
//   bos_token_id/eos_token_id), tokenizer.ggml.add_bos_token, tokenizer.chat_template.
// Also what the Ollama Modelfile needs: the chat template and the stop tokens. Pure TS: JSON text in, KV pairs out.
import { FormatError } from '../common/errors';
import { GgufType, kvString, kvU32, type GgufKv } from './gguf-file';

/** llama.cpp's llama_token_type. */
export const TOKEN_TYPE = { NORMAL: 1, CONTROL: 3, USER_DEFINED: 4, UNUSED: 5 } as const;

/** Qwen2's split regex after its contractions group (Qwen2 splits digits one by one: `\p{N}`, not `\p{N}{1,3}`). */
const QWEN2_SPLIT_TAIL = String.raw`[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`;

export interface GgufTokenizer {
  kvs: GgufKv[];
  /** Token strings by id (length = the model's vocab_size). */
  tokens: string[];
  /** The chat template (Jinja), if the tokenizer has one. */
  chatTemplate: string | null;
  bosId: number | null;
  eosId: number | null;
  padId: number | null;
  /** Token texts that end a turn: the eos token, and <|im_end|> / <|endoftext|> when the vocabulary has them. */
  stopTokens: string[];
}

export interface TokenizerSources {
  tokenizerJson: string;
  tokenizerConfigJson: string | null;
  /** config.json of the model (bos_token_id / eos_token_id when tokenizer_config.json has none). */
  modelConfig?: Record<string, unknown>;
  /** chat_template.jinja next to the tokenizer, which wins over tokenizer_config.json's chat_template (as in HF). */
  chatTemplateJinja?: string | null;
  /** File names for messages. */
  files?: { tokenizer?: string; config?: string };
}

interface AddedToken {
  id: number;
  content: string;
  special?: boolean;
}

function parse(text: string, file: string): Record<string, unknown> {
  try {
    const v = JSON.parse(text) as unknown;
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error('not a JSON object');
    return v as Record<string, unknown>;
  } catch (e) {
    throw new FormatError(file, `is not valid JSON (${(e as Error).message})`);
  }
}

/** A token given as "text" or {"content": "text"} in tokenizer_config.json. */
function tokenText(v: unknown): string | null {
  if (typeof v === 'string') return v;
  if (typeof v === 'object' && v !== null && typeof (v as { content?: unknown }).content === 'string') return (v as { content: string }).content;
  return null;
}

/** Which llama.cpp pre-tokenizer matches tokenizer.json's: "qwen2" for Qwen2's split regex, "gpt-2" for GPT-2's. */
function preTokenizer(tj: Record<string, unknown>, file: string): 'qwen2' | 'gpt-2' {
  const pre = tj.pre_tokenizer as Record<string, unknown> | null | undefined;
  const list = pre?.type === 'Sequence' ? (pre.pretokenizers as Record<string, unknown>[]) : pre ? [pre] : [];
  const split = list.find((p) => p.type === 'Split');
  const byteLevel = list.find((p) => p.type === 'ByteLevel');
  const regex = (split?.pattern as { Regex?: unknown } | undefined)?.Regex;
  if (typeof regex === 'string' && regex.endsWith(QWEN2_SPLIT_TAIL) && byteLevel) return 'qwen2';
  if (!split && byteLevel && byteLevel.use_regex !== false) return 'gpt-2';
  throw new FormatError(
    file,
    `pre_tokenizer ${JSON.stringify(pre ?? null).slice(0, 160)} is neither Qwen2's (a Split on Qwen2's regex, then ByteLevel) nor GPT-2's (ByteLevel with its regex): llama.cpp would split text differently. Use the base model's own tokenizer.json.`,
  );
}

/** The tokenizer.* KV pairs of a GGUF model with `vocabSize` embedding rows. */
export function ggufTokenizer(src: TokenizerSources, vocabSize: number): GgufTokenizer {
  const tFile = src.files?.tokenizer ?? 'tokenizer.json';
  const cFile = src.files?.config ?? 'tokenizer_config.json';
  const tj = parse(src.tokenizerJson, tFile);
  const tc = src.tokenizerConfigJson ? parse(src.tokenizerConfigJson, cFile) : {};
  const model = tj.model as Record<string, unknown> | undefined;
  if (!model || model.type !== 'BPE') {
    throw new FormatError(tFile, `model.type is ${JSON.stringify(model?.type)}; only byte-level BPE tokenizers (Qwen2's, "BPE") can be written to a GGUF for llama.cpp.`);
  }
  if (model.byte_fallback === true) throw new FormatError(tFile, 'model.byte_fallback is true (a SentencePiece-style BPE); only byte-level BPE tokenizers (Qwen2\'s) are supported.');
  const pre = preTokenizer(tj, tFile);
  const vocab = model.vocab as Record<string, number> | undefined;
  if (!vocab || typeof vocab !== 'object') throw new FormatError(tFile, 'model.vocab is missing: it must map each token to its id.');
  const tokens: (string | undefined)[] = new Array(vocabSize);
  const types = new Array<number>(vocabSize).fill(TOKEN_TYPE.UNUSED);
  const place = (id: number, text: string, type: number, what: string): void => {
    if (!Number.isInteger(id) || id < 0) throw new FormatError(tFile, `${what} "${text}" has id ${id}, not a non-negative integer.`);
    if (id >= vocabSize) throw new FormatError(tFile, `${what} "${text}" has id ${id}, but the model has only ${vocabSize} embedding rows (vocab_size): the tokenizer does not belong to this model.`);
    tokens[id] = text;
    types[id] = type;
  };
  for (const [text, id] of Object.entries(vocab)) place(id, text, TOKEN_TYPE.NORMAL, 'vocab token');
  const added = (Array.isArray(tj.added_tokens) ? tj.added_tokens : []) as AddedToken[];
  for (const a of added) {
    const looksSpecial = a.content.startsWith('<|') && a.content.endsWith('|>');
    place(a.id, a.content, a.special || looksSpecial ? TOKEN_TYPE.CONTROL : TOKEN_TYPE.USER_DEFINED, 'added token');
  }
  const tokenList = Array.from(tokens, (t, i) => t ?? `[PAD${i}]`);

  const rawMerges = Array.isArray(model.merges) ? (model.merges as unknown[]) : [];
  const merges = rawMerges.map((m, i) => {
    if (typeof m === 'string') return m;
    if (Array.isArray(m) && m.length === 2 && typeof m[0] === 'string' && typeof m[1] === 'string') return `${m[0]} ${m[1]}`;
    throw new FormatError(tFile, `model.merges[${i}] is ${JSON.stringify(m)}; a merge is "left right" or ["left", "right"].`);
  });
  if (!merges.length) throw new FormatError(tFile, 'model.merges is empty: llama.cpp needs the BPE merges.');

  const idOf = new Map<string, number>();
  tokenList.forEach((t, i) => {
    if (types[i] !== TOKEN_TYPE.UNUSED && !idOf.has(t)) idOf.set(t, i);
  });
  const cfg = src.modelConfig ?? {};
  const fromConfig = (key: string): number | null => {
    const v = cfg[key];
    const n = Array.isArray(v) ? v[0] : v;
    return typeof n === 'number' && Number.isInteger(n) && n >= 0 && n < vocabSize ? n : null;
  };
  const special = (key: 'bos_token' | 'eos_token' | 'pad_token', configKey: string | null): number | null => {
    const text = tokenText(tc[key]);
    if (text !== null) {
      const id = idOf.get(text);
      if (id === undefined) throw new FormatError(cFile, `${key} is "${text}", which is not a token of ${tFile}.`);
      return id;
    }
    return configKey ? fromConfig(configKey) : null;
  };
  const bosId = special('bos_token', 'bos_token_id');
  const eosId = special('eos_token', 'eos_token_id');
  const padId = special('pad_token', null);

  let chatTemplate: string | null = src.chatTemplateJinja ?? null;
  if (chatTemplate === null) {
    const ct = tc.chat_template;
    if (typeof ct === 'string') chatTemplate = ct;
    else if (Array.isArray(ct)) {
      const named = ct as { name?: unknown; template?: unknown }[];
      const d = named.find((x) => x.name === 'default') ?? named[0];
      if (d && typeof d.template === 'string') chatTemplate = d.template;
    }
  }

  const kvs: GgufKv[] = [
    kvString('tokenizer.ggml.model', 'gpt2'),
    kvString('tokenizer.ggml.pre', pre),
    { key: 'tokenizer.ggml.tokens', type: GgufType.ARRAY, value: { itemType: GgufType.STRING, items: tokenList } },
    { key: 'tokenizer.ggml.token_type', type: GgufType.ARRAY, value: { itemType: GgufType.INT32, items: types } },
    { key: 'tokenizer.ggml.merges', type: GgufType.ARRAY, value: { itemType: GgufType.STRING, items: merges } },
  ];
  if (bosId !== null) kvs.push(kvU32('tokenizer.ggml.bos_token_id', bosId));
  if (eosId !== null) kvs.push(kvU32('tokenizer.ggml.eos_token_id', eosId));
  if (padId !== null) kvs.push(kvU32('tokenizer.ggml.padding_token_id', padId));
  kvs.push({ key: 'tokenizer.ggml.add_bos_token', type: GgufType.BOOL, value: tc.add_bos_token === true });
  if (chatTemplate !== null) kvs.push(kvString('tokenizer.chat_template', chatTemplate));

  const stopTokens: string[] = [];
  const addStop = (t: string | undefined): void => {
    if (t !== undefined && !stopTokens.includes(t)) stopTokens.push(t);
  };
  if (eosId !== null) addStop(tokenList[eosId]);
  for (const t of ['<|im_end|>', '<|endoftext|>']) if (idOf.has(t)) addStop(t);
  return { kvs, tokens: tokenList, chatTemplate, bosId, eosId, padId, stopTokens };
}

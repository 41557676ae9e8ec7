// Where the trained tokens of a row are: the assistant spans of a rendered chat template, and the mapping of
// character offsets of a text to its tokens. Follows Hugging Face transformers' apply_chat_template with
// return_assistant_tokens_mask (loss on each assistant content and the end-of-turn token the template writes right
// after it), found without {% generation %} markers in the template (see assistantSpans), and TRL's SFT masking of
// prompt-completion rows (a token is trained when it holds a character of the completion). Used by
// core/data/dataset.ts. Pure TS: text in, objects out.
import { DataError, FormatError } from '../common/errors';
import { TemplateLimitError } from './template';
import type { ChatMessage, TextTokenizer } from './tokenizer';

/** Where a row came from, for errors. */
export interface RowPlace {
  file: string;
  line: number;
}

// ---------------------------------------------------------------------------------------------------------------
// Assistant spans of a rendered conversation

async function render(tokenizer: TextTokenizer, messages: readonly ChatMessage[], place: RowPlace, addGenerationPrompt = false): Promise<string> {
  try {
    return await tokenizer.renderChat(messages, { addGenerationPrompt });
  } catch (e) {
    // A template over its limits is the template's problem: its file, and the row it was rendering.
    if (e instanceof TemplateLimitError) throw new TemplateLimitError(e.file, e.kind, e.detail, `${place.file} line ${place.line}`);
    // No template at all is the model folder's problem: keep that FormatError. A template that raises is this row's.
    if (e instanceof FormatError && tokenizer.chatTemplate !== null) {
      throw new DataError(place.file, place.line, `the chat template rejected this conversation: ${e.message}`);
    }
    throw e;
  }
}

const MARK = '\uE000'; // a private-use character: marks assistant contents while rendering
const MARK_RE = /\uE000([az])(\d+)\uE000/g;

/**
 * The rendered conversation and the character spans [start, end) of the assistant contents, each extended over
 * the special token (e.g. <|im_end|>) the template writes immediately after it.
 *
 * Method 1 (markers): render once with each assistant content wrapped in private-use markers; the marked render,
 * markers removed, must equal the plain render, which proves the template copied the content verbatim, and the
 * marker positions are the spans. Exact for Qwen2.5's ChatML template.
 * Method 2 (prefixes), used when a template transforms the marked content: render messages[:k] with
 * add_generation_prompt and messages[:k+1]; both must be prefixes of the whole render, and the content must follow.
 */
export async function assistantSpans(
  tokenizer: TextTokenizer,
  messages: readonly ChatMessage[],
  place: RowPlace,
  method: 'auto' | 'markers' | 'prefixes' = 'auto',
): Promise<{ text: string; spans: Array<[number, number]> }> {
  const text = await render(tokenizer, messages, place);
  const assistants = messages.map((m, k) => (m.role === 'assistant' ? k : -1)).filter((k) => k >= 0);
  const byMarkers = method === 'prefixes' ? null : await spansByMarkers(tokenizer, messages, assistants, text, place);
  const spans = byMarkers ?? (method === 'markers' ? null : await spansByPrefixes(tokenizer, messages, assistants, text, place));
  if (spans === null) {
    throw new DataError(
      place.file,
      place.line,
      'cannot locate the assistant messages in the chat template output (the template rewrites them), so the loss mask ' +
        'cannot be built. Give this row as {"prompt", "completion"} or pre-tokenized {"input_ids", "labels"}.',
    );
  }
  const specials = [...tokenizer.specialTokens].sort((x, y) => y.length - x.length);
  return {
    text,
    spans: spans.map(([s, e]): [number, number] => {
      const closing = specials.find((sp) => sp.length > 0 && text.startsWith(sp, e));
      return [s, closing ? e + closing.length : e];
    }),
  };
}

async function spansByMarkers(
  tokenizer: TextTokenizer,
  messages: readonly ChatMessage[],
  assistants: number[],
  plain: string,
  place: RowPlace,
): Promise<Array<[number, number]> | null> {
  if (messages.some((m) => m.content.includes(MARK))) return null;
  const marked = messages.map((m, k) => (m.role === 'assistant' ? { role: m.role, content: `${MARK}a${k}${MARK}${m.content}${MARK}z${k}${MARK}` } : m));
  const out = await render(tokenizer, marked, place);
  let clean = '';
  let last = 0;
  const open = new Map<number, number>();
  const close = new Map<number, number>();
  for (const m of out.matchAll(MARK_RE)) {
    clean += out.slice(last, m.index);
    last = m.index + m[0].length;
    const k = Number(m[2]);
    const where = m[1] === 'a' ? open : close;
    if (where.has(k)) return null; // the template repeated a message
    where.set(k, clean.length);
  }
  clean += out.slice(last);
  if (clean !== plain || clean.includes(MARK)) return null;
  const spans: Array<[number, number]> = [];
  let prevEnd = 0;
  for (const k of assistants) {
    const s = open.get(k);
    const e = close.get(k);
    if (s === undefined || e === undefined || e < s || s < prevEnd) return null;
    spans.push([s, e]);
    prevEnd = e;
  }
  return spans;
}

async function spansByPrefixes(
  tokenizer: TextTokenizer,
  messages: readonly ChatMessage[],
  assistants: number[],
  plain: string,
  place: RowPlace,
): Promise<Array<[number, number]> | null> {
  const spans: Array<[number, number]> = [];
  for (const k of assistants) {
    let before: string;
    let after: string;
    try {
      [before, after] = await Promise.all([render(tokenizer, messages.slice(0, k), place, true), render(tokenizer, messages.slice(0, k + 1), place)]);
    } catch (e) {
      if (e instanceof TemplateLimitError) throw e; // a runaway template is an error, not a reason to try another way
      return null;
    }
    if (!plain.startsWith(before) || !plain.startsWith(after)) return null;
    const s = after.indexOf(messages[k].content, before.length);
    if (s < 0) return null;
    spans.push([s, s + messages[k].content.length]);
  }
  return spans;
}

// ---------------------------------------------------------------------------------------------------------------
// Character offsets → tokens

/**
 * The tokens of a rendered text, with anchors: the character offset right after each added token (<|im_start|>,
 * <|im_end|>, ...) and the number of tokens up to it. The tokenizer splits text at added tokens before BPE, so the
 * tokens of text[0, pos) are the tokens up to the last anchor q ≤ pos followed by the tokens of text[q, pos): boundary
 * lookups cost the length of one turn, not of the whole conversation. Anchors are only used when they are provably
 * right: added tokens matched exactly (no lstrip/rstrip/normalization), no post-processor tokens, and the added-token
 * ids found in the text, in order, equal those in `ids`. Otherwise the only anchor is (0, 0) and whole prefixes are
 * re-encoded (exact, slower).
 */
export interface TokenIndex {
  tokenizer: TextTokenizer;
  text: string;
  ids: readonly number[];
  addSpecialTokens: boolean;
  anchorChars: number[];
  anchorTokens: number[];
}

export function indexTokens(tokenizer: TextTokenizer, text: string, ids: readonly number[], addSpecialTokens: boolean): TokenIndex {
  const index: TokenIndex = { tokenizer, text, ids, addSpecialTokens, anchorChars: [0], anchorTokens: [0] };
  const added = tokenizer.addedTokens.filter((a) => a.content.length > 0);
  if (addSpecialTokens || added.length === 0 || added.some((a) => a.fuzzy)) return index;
  const byFirstChar = new Map<string, typeof added>();
  for (const a of [...added].sort((x, y) => y.content.length - x.content.length)) {
    const list = byFirstChar.get(a.content[0]) ?? [];
    list.push(a);
    byFirstChar.set(a.content[0], list);
  }
  const addedIds = new Set(added.map((a) => a.id));
  const chars = [0];
  const tokens = [0];
  let k = 0;
  for (let i = 0; i < text.length; ) {
    const hit = byFirstChar.get(text[i])?.find((a) => text.startsWith(a.content, i));
    if (!hit) {
      i++;
      continue;
    }
    while (k < ids.length && !addedIds.has(ids[k])) k++;
    if (k >= ids.length || ids[k] !== hit.id) return index;
    k++;
    i += hit.content.length;
    chars.push(i);
    tokens.push(k);
  }
  for (; k < ids.length; k++) if (addedIds.has(ids[k])) return index;
  index.anchorChars = chars;
  index.anchorTokens = tokens;
  return index;
}

/** The last anchor at or before `pos`: [char offset, token count]. */
function anchorBefore(index: TokenIndex, pos: number): [number, number] {
  const chars = index.anchorChars;
  let lo = 0;
  let hi = chars.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (chars[mid] <= pos) lo = mid;
    else hi = mid - 1;
  }
  return [chars[lo], index.anchorTokens[lo]];
}

/** How many tokens of ids[from...] equal head[...] from the start. */
function matchLength(head: readonly number[], ids: readonly number[], from: number): number {
  const n = Math.min(head.length, ids.length - from);
  let i = 0;
  while (i < n && head[i] === ids[from + i]) i++;
  return i;
}

/** Characters of the text covered by tokens [k0, count), counted from the anchor q; -1 when that cannot be told exactly. */
function charsCovered(index: TokenIndex, q: number, k0: number, count: number): number {
  const decoded = index.tokenizer.decode(index.ids.slice(k0, count));
  return index.text.startsWith(decoded, q) ? q + decoded.length : -1;
}

/** Tokens of text[q, pos) after the anchor (q, k0), and how far they agree with the tokens of the whole text. */
function head(index: TokenIndex, pos: number): { q: number; k0: number; j: number; exact: boolean } {
  const [q, k0] = anchorBefore(index, pos);
  const h = index.tokenizer.encode(index.text.slice(q, pos), { addSpecialTokens: index.addSpecialTokens });
  const m = matchLength(h, index.ids, k0);
  return { q, k0, j: k0 + m, exact: m === h.length };
}

/**
 * Index of the first token that holds a character at or after `pos`. When BPE merges across `pos` the token that
 * straddles it is included (it holds a character of the span).
 */
export function firstTokenFrom(index: TokenIndex, pos: number): number {
  const { ids, text } = index;
  if (pos <= 0) return index.addSpecialTokens ? leadingSpecials(index.tokenizer, ids) : 0;
  if (pos >= text.length) return ids.length;
  const h = head(index, pos);
  let j = h.j;
  if (h.exact) return j;
  // Rare: the tokens diverge before pos. Skip the tokens that still end at or before pos.
  while (j < ids.length) {
    const c = charsCovered(index, h.q, h.k0, j + 1);
    if (c < 0 || c > pos) break;
    j++;
  }
  return j;
}

/** When the whole text is the completion, skip only tokens a post-processor prepended (e.g. BOS). */
function leadingSpecials(tokenizer: TextTokenizer, ids: readonly number[]): number {
  const none = tokenizer.encode('', { addSpecialTokens: true });
  return matchLength(none, ids, 0) === none.length ? Math.min(none.length, ids.length) : 0;
}

/** Number of leading tokens that hold a character before `pos` (the exclusive end of a span). */
export function tokensBefore(index: TokenIndex, pos: number): number {
  const { ids, text } = index;
  if (pos <= 0) return 0;
  if (pos >= text.length) return ids.length;
  const h = head(index, pos);
  if (h.exact) return h.j;
  // Token j starts before pos, so it holds a character of the span; so may the next ones if BPE split differently.
  let k = h.j + 1;
  while (k < ids.length) {
    const c = charsCovered(index, h.q, h.k0, k);
    if (c < 0 || c >= pos) break;
    k++;
  }
  return k;
}

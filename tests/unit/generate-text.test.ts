// The pure parts of generation: streamed text (core/infer/textstream.ts) — the deltas add up to the final text, an
// incomplete UTF-8 character is held back, a stop string is cut and never streamed — and the EOS ids merged from
// generation_config.json, config.json and tokenizer_config.json (core/infer/eos.ts).
import { describe, expect, it } from 'vitest';
import { TextTokenizer } from '../../core/data/tokenizer';
import { eosTokenIds } from '../../core/infer/eos';
import { TextStream } from '../../core/infer/textstream';
import { tinyTokenizer } from '../helpers/tiny-tokenizer';

const t = tinyTokenizer();
const tok = TextTokenizer.fromJson(t.tokenizerJson, t.configJson, { tokenizer: 'm/tokenizer.json', config: 'm/tokenizer_config.json' });

/** One token per UTF-8 byte of the text, so multi-byte characters are split across tokens. */
function byteTokens(text: string): number[] {
  return [...new TextEncoder().encode(text)].map(byteId);
}

/** The id of the token that is exactly byte b (GPT-2's byte-to-unicode alphabet). */
function byteId(b: number): number {
  const printable = (x: number) => (x >= 33 && x <= 126) || (x >= 161 && x <= 172) || (x >= 174 && x <= 255);
  let extra = 0;
  let ch = '';
  for (let x = 0; x <= b; x++) ch = String.fromCodePoint(printable(x) ? x : 256 + extra++);
  const id = tok.tokenToId(ch);
  if (id === null) throw new Error(`no token for byte ${b}`);
  return id;
}

function stream(ids: number[], stop: string[]): { deltas: string[]; stopped: boolean; s: TextStream } {
  const s = new TextStream(tok, stop);
  const deltas: string[] = [];
  let stopped = false;
  for (const id of ids) {
    const r = s.push(id);
    deltas.push(r.delta);
    if (r.stopped) {
      stopped = true;
      break;
    }
  }
  if (!stopped) deltas.push(s.finish());
  return { deltas, stopped, s };
}

describe('streamed text', () => {
  it('the deltas add up to the decoded text; a character split over byte tokens is never shown half', () => {
    const text = 'héllo 世界 ok';
    const ids = byteTokens(text);
    expect(tok.decode(ids)).toBe(text);
    const { deltas, s } = stream(ids, []);
    expect(deltas.join('')).toBe(text);
    expect(s.text).toBe(text);
    for (const d of deltas) expect(d, JSON.stringify(deltas)).not.toMatch(/\uFFFD/);
    expect(deltas.filter((d) => d === '').length).toBeGreaterThan(2); // the middle bytes of é, 世, 界 waited
  });

  it('a stop string ends the text before it and is never streamed, even in part', () => {
    const ids = byteTokens('answer: 42\nUser: next');
    const { deltas, stopped, s } = stream(ids, ['\nUser:', 'zzz']);
    expect(stopped).toBe(true);
    expect(s.text).toBe('answer: 42');
    expect(deltas.join('')).toBe('answer: 42');
    // "\nUs" could have been the start of the stop string: it was held back, not shown.
    for (const d of deltas) expect(d).not.toMatch(/\n/);
  });

  it('a held-back prefix of a stop string is released when the text goes another way', () => {
    const ids = byteTokens('a\nUb');
    const { deltas, stopped, s } = stream(ids, ['\nUser:']);
    expect(stopped).toBe(false);
    expect(s.text).toBe('a\nUb');
    expect(deltas.join('')).toBe('a\nUb');
  });

  it('stop strings need a tokenizer', () => {
    expect(() => new TextStream(null, ['x'])).toThrow(/tokenizer\.json/);
    const none = new TextStream(null, []);
    expect(none.push(5)).toEqual({ delta: '', stopped: false });
    expect(none.text).toBe('');
  });
});

describe('EOS ids', () => {
  it('merges generation_config.json (an id or a list), config.json and the tokenizer eos, sorted and distinct', () => {
    expect(eosTokenIds({ generationConfig: { eos_token_id: [151645, 151643] }, modelConfig: { eos_token_id: 151643 }, tokenizerEosId: 151645 })).toEqual([151643, 151645]);
    expect(eosTokenIds({ generationConfig: { eos_token_id: 7 }, modelConfig: { eos_token_id: null }, tokenizerEosId: null })).toEqual([7]);
    expect(eosTokenIds({ modelConfig: { eos_token_id: 3 }, tokenizerEosId: 9 })).toEqual([3, 9]);
    expect(eosTokenIds({ generationConfig: 'not an object', modelConfig: { eos_token_id: ['x', -1, 2.5] } })).toEqual([]);
  });
});

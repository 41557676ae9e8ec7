// parseJsonl (core/data/dataset.ts): the four row formats, loss masks (exact assistant spans with the real Qwen
// tokenizer and Qwen2.5's template), truncation, and every error naming file and line.
import { beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, DataError, FormatError } from '../../core/common/errors';
import { IGNORE_INDEX, assistantSpans, parseJsonl, tokenizeChat, type Example } from '../../core/data/dataset';
import { TextTokenizer, type ChatMessage } from '../../core/data/tokenizer';
import { tinyTokenizer } from '../helpers/tiny-tokenizer';
import { qwen25Tokenizer, qwen3Tokenizer } from '../helpers/qwen-tokenizer';

const FILE = 'data/train.jsonl';

function tiny(opts: Parameters<typeof tinyTokenizer>[0] = {}): TextTokenizer {
  const t = tinyTokenizer(opts);
  return TextTokenizer.fromJson(t.tokenizerJson, t.configJson, { tokenizer: 'm/tokenizer.json', config: 'm/tokenizer_config.json' });
}

const jsonl = (...rows: unknown[]) => rows.map((r) => (typeof r === 'string' ? r : JSON.stringify(r))).join('\n');

/** The maximal runs of labeled positions, as [start, end) token ranges. */
function labeledRuns(ex: { labels: number[] }): Array<[number, number]> {
  const runs: Array<[number, number]> = [];
  ex.labels.forEach((l, t) => {
    if (l === IGNORE_INDEX) return;
    const last = runs[runs.length - 1];
    if (last && last[1] === t) last[1] = t + 1;
    else runs.push([t, t + 1]);
  });
  return runs;
}

function expectLabelsAreIds(ex: { inputIds: number[]; labels: number[] }): void {
  ex.labels.forEach((l, t) => {
    if (l !== IGNORE_INDEX) expect(l, `l ${l} t ${t}`).toBe(ex.inputIds[t]);
  });
}

/** Catches the DataError a call throws. */
function dataError(fn: () => unknown): DataError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(DataError);
    return e as DataError;
  }
  throw new Error('expected a DataError');
}

describe('formats on a tiny byte-level BPE', () => {
  const tok = tiny();
  const eos = tok.eosId!;

  it('{"text"}: loss on every token, eos appended', () => {
    const [ex] = parseJsonl(jsonl({ text: 'hello world' }), FILE, tok);
    expect(ex.inputIds).toEqual([...tok.encode('hello world'), eos]);
    expect(ex.labels).toEqual(ex.inputIds);
    expect(ex).toMatchObject({ line: 1, format: 'text', truncated: false });
    // eos is not doubled when the text already ends with it
    const [ex2] = parseJsonl(jsonl({ text: 'hello<|im_end|>' }), FILE, tok);
    expect(ex2.inputIds).toEqual([...tok.encode('hello'), eos]);
  });

  it('{"prompt","completion"}: loss on the completion and eos only', () => {
    const [ex] = parseJsonl(jsonl({ prompt: 'hello', completion: ' world' }), FILE, tok);
    const p = tok.encode('hello');
    const c = tok.encode(' world');
    expect(ex.inputIds).toEqual([...p, ...c, eos]);
    expect(ex.labels).toEqual([...p.map(() => IGNORE_INDEX), ...c, eos]);
    expect(ex.format).toBe('prompt-completion');
  });

  it('{"prompt","completion"}: a token merged across the boundary is trained (it holds completion text)', () => {
    // "hel" + "lo world": BPE makes one token "hello" that straddles the boundary.
    const [ex] = parseJsonl(jsonl({ prompt: 'hel', completion: 'lo world' }), FILE, tok);
    expect(ex.inputIds).toEqual([tok.tokenToId('hello'), tok.tokenToId('Ġworld'), eos]);
    expect(ex.labels).toEqual(ex.inputIds);
    // a clean boundary inside a word: "hello" + " world"
    const [ex2] = parseJsonl(jsonl({ prompt: 'hello', completion: ' world' }), FILE, tok);
    expect(ex2.labels).toEqual([IGNORE_INDEX, tok.tokenToId('Ġworld'), eos]);
    // an empty prompt trains everything
    const [ex3] = parseJsonl(jsonl({ prompt: '', completion: 'hello world' }), FILE, tok);
    expect(ex3.labels).toEqual(ex3.inputIds);
  });

  it('{"messages"}: loss on assistant contents and their <|im_end|> only', () => {
    const messages = [
      { role: 'system', content: 'be brief' },
      { role: 'user', content: 'hello' },
      { role: 'assistant', content: 'hello world' },
      { role: 'user', content: 'again' },
      { role: 'assistant', content: 'world' },
    ];
    const [ex] = parseJsonl(jsonl({ messages }), FILE, tok);
    expect(tok.decode(ex.inputIds)).toBe(tok.applyChatTemplate(messages));
    expectLabelsAreIds(ex);
    const runs = labeledRuns(ex).map(([a, b]) => tok.decode(ex.inputIds.slice(a, b)));
    expect(runs).toEqual(['hello world<|im_end|>', 'world<|im_end|>']);
  });

  it('{"input_ids","labels"?}: labels default to input_ids; -100 kept', () => {
    const rows = parseJsonl(jsonl({ input_ids: [1, 2, 3] }, { input_ids: [4, 5, 6], labels: [-100, -100, 6] }), FILE, null, { vocabSize: 10 });
    expect(rows[0]).toMatchObject({ inputIds: [1, 2, 3], labels: [1, 2, 3], format: 'input-ids', line: 1 });
    expect(rows[1]).toMatchObject({ inputIds: [4, 5, 6], labels: [-100, -100, 6], line: 2 });
  });

  it('skips blank lines, CRLF and a BOM; line numbers stay those of the file', () => {
    const text = '\uFEFF' + ['', '{"text":"hello"}\r', '   ', '{"text":"world"}', ''].join('\n');
    expect(parseJsonl(text, FILE, tok).map((e) => e.line)).toEqual([2, 4]);
  });

  it('maxRows stops early (later lines are not read)', () => {
    const rows = parseJsonl(jsonl({ text: 'a' }, { text: 'b' }, 'not json'), FILE, tok, { maxRows: 2 });
    expect(rows).toHaveLength(2);
  });

  it('seqLen truncates long rows but refuses a prompt that fills it', () => {
    const [ex] = parseJsonl(jsonl({ text: 'abcdefgh' }), FILE, tok, { seqLen: 4 });
    expect(ex.inputIds).toHaveLength(4);
    expect(ex.labels).toHaveLength(4);
    expect(ex.truncated).toBe(true);
    // prompt/completion whose completion starts inside the window survives
    const [pc] = parseJsonl(jsonl({ prompt: 'abc', completion: 'defgh' }), FILE, tok, { seqLen: 4 });
    expect(pc.labels).toEqual([IGNORE_INDEX, IGNORE_INDEX, IGNORE_INDEX, tok.tokenToId('d')]);
    const e1 = dataError(() => parseJsonl(jsonl({ text: 'x' }, { prompt: 'abcdef', completion: 'g' }), FILE, tok, { seqLen: 4 }));
    expect(e1.line).toBe(2);
    expect(e1.message).toMatch(/^data\/train\.jsonl:2: prompt of 6 tokens is longer than --seq-len 4/);
    const e2 = dataError(() => parseJsonl(jsonl({ prompt: 'abcd', completion: 'efg' }), FILE, tok, { seqLen: 4 }));
    expect(e2.message).toMatch(/prompt of 4 tokens is as long as --seq-len 4/);
    const long = 'hello '.repeat(20);
    const e3 = dataError(() => parseJsonl(jsonl({ messages: [{ role: 'user', content: long }, { role: 'assistant', content: 'x' }] }), FILE, tok, { seqLen: 16 }));
    expect(e3.message).toMatch(/:1: prompt of \d+ tokens is longer than --seq-len 16/);
  });
});

describe('errors name the file and the 1-based line', () => {
  const tok = tiny();
  const cases: Array<[string, string, unknown[], RegExp, TextTokenizer | null, number?]> = [
    ['not JSON (with an excerpt)', 'bad', [{ text: 'ok' }, '{"text": "unterminated'], /:2: not valid JSON .*"\{\\"text\\": \\"unterminated"/, tok],
    ['not an object', 'arr', [[1, 2]], /:1: each line must be one JSON object, found an array/, tok],
    ['a bare string', 'str', ['"hello"'], /:1: each line must be one JSON object, found a string/, tok],
    ['unknown format', 'fmt', [{ instruction: 'a', output: 'b' }], /:1: unknown row format \(keys: instruction, output\)\. Accepted rows: \{"text"/, tok],
    ['mixed formats', 'mix', [{ text: 'a', messages: [] }], /:1: the row mixes formats \(text and messages\)/, tok],
    ['prompt without completion', 'pc', [{ prompt: 'a' }], /:1: the row has "prompt" but no "completion"/, tok],
    ['text not a string', 'type', [{ text: 3 }], /:1: "text" must be a string, found a number/, tok],
    ['empty text', 'empty', [{ text: '' }], /:1: "text" is empty/, tok],
    ['empty completion', 'emptyc', [{ prompt: 'a', completion: '' }], /:1: "completion" is empty/, tok],
    ['messages not a list', 'msgs', [{ messages: 'hi' }], /:1: "messages" must be a list/, tok],
    ['empty messages', 'msgs0', [{ messages: [] }], /:1: "messages" is empty/, tok],
    ['bad role', 'role', [{ messages: [{ role: 'user', content: 'a' }, { role: 'tool', content: 'b' }] }], /:1: message 2 has role "tool"; the accepted roles are system, user, assistant/, tok],
    ['content not a string', 'content', [{ messages: [{ role: 'user', content: null }] }], /:1: message 1 \(user\): "content" must be a string, found null/, tok],
    ['no assistant', 'noasst', [{ messages: [{ role: 'user', content: 'a' }] }], /:1: the conversation has no assistant message/, tok],
    ['text without tokenizer', 'notok', [{ input_ids: [1, 2] }, { text: 'a' }], /:2: text rows need the model's tokenizer/, null],
    ['chat without tokenizer', 'notok2', [{ messages: [{ role: 'assistant', content: 'a' }] }], /:1: messages rows need the model's tokenizer/, null],
    ['id out of vocabulary', 'vocab', [{ input_ids: [1, 99] }], /:1: input_ids\[1\] = 99 is outside the vocabulary \(0\.\.9\)/, null, 10],
    ['negative id', 'neg', [{ input_ids: [-1, 2] }], /:1: input_ids\[0\] = -1 is outside the vocabulary/, null],
    ['non-integer id', 'float', [{ input_ids: [1.5, 2] }], /:1: input_ids\[0\] must be an integer token id, found 1\.5/, null],
    ['empty ids', 'ids0', [{ input_ids: [] }], /:1: "input_ids" is empty/, null],
    ['labels length', 'len', [{ input_ids: [1, 2, 3], labels: [1, 2] }], /:1: "labels" has 2 entries but "input_ids" has 3/, null],
    ['bad label', 'label', [{ input_ids: [1, 2], labels: [1, 50] }], /:1: labels\[1\] = 50 is neither -100 \(masked\) nor a token id \(0\.\.9\)/, null, 10],
    ['all masked', 'masked', [{ input_ids: [1, 2], labels: [-100, -100] }], /:1: no token of this row is trained/, null],
    ['single token', 'one', [{ input_ids: [1] }], /:1: no token of this row is trained/, null],
  ];
  for (const [name, , rows, re, tk, vocab] of cases) {
    it(name, () => {
      const e = dataError(() => parseJsonl(jsonl(...rows), FILE, tk, vocab ? { vocabSize: vocab } : {}));
      expect(e.file, `name ${name}`).toBe(FILE);
      expect(e.message.startsWith(`${FILE}:${e.line}: `), `name ${name}`).toBe(true);
      expect(e.message, `name ${name}`).toMatch(re);
    });
  }

  it('an empty dataset is a DataError at line 0', () => {
    for (const text of ['', '\n\n  \n']) {
      const e = dataError(() => parseJsonl(text, FILE, tok));
      expect(e.line, `text ${text}`).toBe(0);
      expect(e.message, `text ${text}`).toMatch(/^data\/train\.jsonl:0: has no rows/);
    }
  });

  it('bad options are reported', () => {
    expect(() => parseJsonl('{"text":"a"}', FILE, tok, { seqLen: 1 })).toThrow(ConfigError);
    expect(() => parseJsonl('{"text":"a"}', FILE, tok, { seqLen: 1 })).toThrow(/--seq-len must be an integer of at least 2/);
    expect(() => parseJsonl('{"text":"a"}', FILE, tok, { maxRows: 0 })).toThrow(/--max-rows must be a positive integer/);
  });

  it('a chat template that raises is a DataError on that line; a missing template is a FormatError', () => {
    const raising = tiny({ chatTemplate: "{{ raise_exception('Conversation roles must alternate') }}" });
    const row = { messages: [{ role: 'user', content: 'a' }, { role: 'assistant', content: 'b' }] };
    const e = dataError(() => parseJsonl(jsonl(row), FILE, raising));
    expect(e.message).toMatch(/:1: the chat template rejected this conversation: .*roles must alternate/);
    expect(() => parseJsonl(jsonl(row), FILE, tiny({ chatTemplate: null }))).toThrow(FormatError);
  });

  it('deep or huge garbage does not crash', () => {
    const deep = '['.repeat(100_000) + ']'.repeat(100_000);
    expect(dataError(() => parseJsonl(deep, FILE, tok)).line).toBe(1);
    const e = dataError(() => parseJsonl('x'.repeat(1_000_000), FILE, tok));
    expect(e.message.length).toBeLessThan(400);
  });
});

describe('real Qwen tokenizer: masks are exactly the assistant contents + <|im_end|>', () => {
  let q25: TextTokenizer;
  let q3: TextTokenizer;
  beforeAll(() => {
    q25 = qwen25Tokenizer();
    q3 = qwen3Tokenizer();
  });

  const conversations: ChatMessage[][] = [
    [
      { role: 'user', content: 'Hi' },
      { role: 'assistant', content: 'Hello!' },
    ],
    [
      { role: 'system', content: 'You answer in French.' },
      { role: 'user', content: 'What is 2+2?' },
      { role: 'assistant', content: 'Quatre.' },
      { role: 'user', content: 'And 3+3?' },
      { role: 'assistant', content: ' Six, évidemment. 😀\n' },
    ],
    [
      { role: 'user', content: 'Code please' },
      { role: 'assistant', content: '\n\n```py\nprint("hi")\n```' },
      { role: 'user', content: '<|im_end|> is a token' },
      { role: 'assistant', content: '' },
    ],
  ];

  /** The text each labeled run must decode to: every assistant content followed by <|im_end|>. */
  const expectedRuns = (msgs: ChatMessage[]) => msgs.filter((m) => m.role === 'assistant').map((m) => `${m.content}<|im_end|>`);

  it('"Hello" is 9707 and a simple chat gives HF ids and labels', () => {
    const [ex] = parseJsonl(jsonl({ messages: conversations[0] }), FILE, q25);
    // apply_chat_template(tokenize=True) for Qwen2.5-Instruct: ... <|im_start|>assistant\n Hello ! <|im_end|> \n
    expect(ex.inputIds.slice(-7)).toEqual([151644, 77091, 198, 9707, 0, 151645, 198]);
    expect(ex.labels.filter((l) => l !== IGNORE_INDEX)).toEqual([9707, 0, 151645]);
  });

  for (const [k, msgs] of conversations.entries()) {
    it(`conversation ${k + 1} with Qwen2.5's template`, () => {
      const [ex] = parseJsonl(jsonl({ messages: msgs }), FILE, q25);
      expect(ex.inputIds, `k ${k}`).toEqual(q25.encode(q25.applyChatTemplate(msgs), { addSpecialTokens: false }));
      expectLabelsAreIds(ex);
      const runs = labeledRuns(ex).map(([a, b]) => q25.decode(ex.inputIds.slice(a, b)));
      if (k === 2) {
        // The leading "\n\n" of the content merges with the template's "\n" into one token "\n\n\n": that token
        // holds content characters, so it is trained (as HF's assistant mask does); the run reads "\n" + content.
        expect(runs, `k ${k}`).toEqual([`\n${msgs[1].content}<|im_end|>`, '<|im_end|>']);
      } else {
        expect(runs, `k ${k}`).toEqual(expectedRuns(msgs));
      }
    });

    it(`conversation ${k + 1}: the marker and prefix methods agree`, () => {
      const a = tokenizeChat(q25, msgs, { file: FILE, line: 1 }, 'markers');
      const b = tokenizeChat(q25, msgs, { file: FILE, line: 1 }, 'prefixes');
      expect(b, `k ${k}`).toEqual(a);
    });

    it(`conversation ${k + 1} with Qwen3's template (think block of the last turn is not trained)`, () => {
      if (k === 1) {
        // Qwen3's template lstrip('\n')s the last reply; @huggingface/jinja 0.5 strips all whitespace there (Python
        // strips only newlines), so the reply " Six..." is rewritten and the mask cannot be located: a clear DataError.
        expect(() => parseJsonl(jsonl({ messages: msgs }), FILE, q3), `k ${k}`).toThrow(/:1: cannot locate the assistant messages/);
        return;
      }
      const [ex] = parseJsonl(jsonl({ messages: msgs }), FILE, q3);
      expectLabelsAreIds(ex);
      const runs = labeledRuns(ex).map(([a, b]) => q3.decode(ex.inputIds.slice(a, b)));
      expect(runs.join(''), `k ${k}`).not.toContain('<think>');
      if (k === 0) expect(runs, `k ${k}`).toEqual(expectedRuns(msgs));
    });
  }

  /**
   * An independent oracle for the mask: the byte range of every token (a byte-level BPE token string has one
   * character per byte; an added token is its UTF-8 content), and a token is trained iff it overlaps an assistant span.
   */
  function oracleLabels(tok: TextTokenizer, msgs: ChatMessage[]): number[] {
    const { text, spans } = assistantSpans(tok, msgs, { file: FILE, line: 1 });
    const ids = tok.encode(text, { addSpecialTokens: false });
    const added = new Map(tok.addedTokens.map((a) => [a.id, a.content]));
    const bytes = (s: string) => new TextEncoder().encode(s).length;
    const byteSpans = spans.map(([a, b]) => [bytes(text.slice(0, a)), bytes(text.slice(0, b))]);
    let at = 0;
    return ids.map((id) => {
      const len = added.has(id) ? bytes(added.get(id)!) : [...tok.idToToken(id)!].length;
      const [s, e] = [at, at + len];
      at = e;
      return byteSpans.some(([a, b]) => s < b && e > a) ? id : IGNORE_INDEX;
    });
  }

  it('labels equal the byte-range oracle, on short and long conversations', () => {
    const para = 'The quick brown fox jumps over the lazy dog; naïve café, 数据 😀 `x = f(y)`.\n';
    const long: ChatMessage[] = [{ role: 'system', content: 'sys' }];
    for (let i = 0; i < 24; i++) {
      long.push({ role: 'user', content: `Q${i}: ${para}` });
      long.push({ role: 'assistant', content: i % 5 === 0 ? `\n\n${para.repeat(3)}` : para.repeat(1 + (i % 3)) });
    }
    for (const msgs of [...conversations, long]) {
      const [ex] = parseJsonl(jsonl({ messages: msgs }), FILE, q25);
      expect(ex.labels, `conversation ${JSON.stringify(msgs).slice(0, 80)}`).toEqual(oracleLabels(q25, msgs));
    }
    const t0 = performance.now();
    parseJsonl(jsonl(...Array.from({ length: 10 }, () => ({ messages: long }))), FILE, q25);
    expect(performance.now() - t0).toBeLessThan(2000); // linear in the conversation, not quadratic
  });

  it('content holding the marker character falls back to prefixes and stays exact', () => {
    const msgs = [
      { role: 'user', content: 'x' },
      { role: 'assistant', content: 'odd \uE000 char' },
    ];
    const [ex] = parseJsonl(jsonl({ messages: msgs }), FILE, q25);
    const runs = labeledRuns(ex).map(([a, b]) => q25.decode(ex.inputIds.slice(a, b)));
    expect(runs).toEqual(['odd \uE000 char<|im_end|>']);
  });

  it('prompt/completion with the real vocabulary', () => {
    const [ex] = parseJsonl(jsonl({ prompt: 'Say hi:', completion: ' Hello' }), FILE, q25);
    const trained = ex.labels.filter((l) => l !== IGNORE_INDEX);
    expect(q25.decode(trained)).toBe(' Hello<|im_end|>');
  });

  it('a dataset of many rows parses quickly', () => {
    const rows = Array.from({ length: 200 }, (_, i) => ({ messages: [...conversations[1].slice(0, 3), { role: 'user', content: `q${i}` }, { role: 'assistant', content: `answer ${i}` }] }));
    const t0 = performance.now();
    const out: Example[] = parseJsonl(jsonl(...rows), FILE, q25);
    expect(out).toHaveLength(200);
    expect(performance.now() - t0).toBeLessThan(5000);
  });
});

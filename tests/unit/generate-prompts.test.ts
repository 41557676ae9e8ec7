// Prompts to token ids (core/infer/prompts.ts): plain text as tokenizer(text), messages through the chat template
// with the generation prompt, token ids as given; and the sample-prompts jsonl of a training run (a JSON string,
// {"prompt"}, {"messages"} or a bare list of messages a line), with errors naming the file and the line.
import { describe, expect, it } from 'vitest';
import { ConfigError, DataError } from '../../core/common/errors';
import { TextTokenizer } from '../../core/data/tokenizer';
import { parseSamplePrompts, promptIds } from '../../core/infer/prompts';
import { tinyTokenizer } from '../helpers/tiny-tokenizer';

const t = tinyTokenizer();
const tok = TextTokenizer.fromJson(t.tokenizerJson, t.configJson, { tokenizer: 'm/tokenizer.json', config: 'm/tokenizer_config.json' });

describe('prompts', () => {
  it('text, messages and ids', () => {
    expect(promptIds(tok, { prompt: 'hello world' })).toEqual(tok.encode('hello world'));
    const messages = [{ role: 'user', content: 'hello' }];
    const rendered = tok.applyChatTemplate(messages, { addGenerationPrompt: true });
    expect(rendered.endsWith('<|im_start|>assistant\n')).toBe(true);
    expect(promptIds(tok, { messages })).toEqual(tok.encode(rendered, { addSpecialTokens: false }));
    expect(promptIds(null, { promptIds: [4, 5] })).toEqual([4, 5]);
    expect(() => promptIds(null, { prompt: 'x' })).toThrow(ConfigError);
    expect(() => promptIds(null, { prompt: 'x' })).toThrow(/no tokenizer\.json, .*\(--prompt-ids\)/);
  });

  it('a sample-prompts file: four forms, blank lines skipped, each labelled by its text or last user message', () => {
    const text = [
      JSON.stringify('plain text'),
      '',
      JSON.stringify({ prompt: 'a prompt' }),
      JSON.stringify({ messages: [{ role: 'system', content: 's' }, { role: 'user', content: 'question?' }] }),
      JSON.stringify([{ role: 'user', content: 'bare list' }]),
    ].join('\n');
    const p = parseSamplePrompts(text, 'p.jsonl');
    expect(p.map((x) => [x.line, x.label])).toEqual([[1, 'plain text'], [3, 'a prompt'], [4, 'question?'], [5, 'bare list']]);
    expect(p[2].prompt.messages).toHaveLength(2);
  });

  it('bad lines name the file and the line', () => {
    const bad: [string, RegExp][] = [
      ['"ok"\n{"prompt": 1}', /p\.jsonl:2: not a prompt \(prompt: /],
      ['{"prompt": "a", "messages": [{"role": "user", "content": "b"}]}', /p\.jsonl:1: not a prompt \(give "prompt" or "messages", one of them\)/],
      ['{"text": "a"}', /p\.jsonl:1: not a prompt/],
      ['{"messages": [{"role": "user"}]}', /p\.jsonl:1: not a prompt \(messages\.0\.content: /],
      ['not json', /p\.jsonl:1: not valid JSON/],
      ['\n\n', /p\.jsonl:1: holds no prompts/],
    ];
    for (const [text, msg] of bad) {
      const e = (() => { try { parseSamplePrompts(text, 'p.jsonl'); return null; } catch (x) { return x; } })();
      expect(e, text).toBeInstanceOf(DataError);
      expect((e as Error).message, text).toMatch(msg);
    }
  });
});

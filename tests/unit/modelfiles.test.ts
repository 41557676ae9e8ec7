// core/node/modelfiles.ts on tiny generated folders in a temp dir: single file vs shards (same values), bf16/f16
// conversion, and typed errors naming the file for missing/mis-shaped tensors, missing shards, bad JSON.
import { mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { ConfigError, FormatError } from '../../core/common/errors';
import { bf16ToF32, f16ToF32, f32ToBf16, f32ToF16 } from '../../core/common/half';
import { parseSafetensors, readTensorF32, writeSafetensors } from '../../core/common/safetensors';
import { tinyTensorValues, type TinyQwen2Options } from '../../core/model/demo';
import { openModelFolder } from '../../core/node/modelfiles';
import { loadTokenizer } from '../../core/node/loaders';
import { writeTinyModel } from '../../core/node/demo';

const root = mkdtempSync(join(tmpdir(), 'mesp-modelfiles-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const TINY: TinyQwen2Options = { hidden: 32, layers: 2, heads: 4, kvHeads: 2, intermediate: 64, vocab: 300, tied: true, dtype: 'F32', seed: 7 };
let n = 0;
function folder(opts: Partial<TinyQwen2Options> = {}): string {
  const dir = join(root, `m${n++}`);
  writeTinyModel(dir, { ...TINY, ...opts });
  return dir;
}

function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected an error');
}

describe('openModelFolder', () => {
  test('single file: config, names, lazy f32 reads equal the generated values', () => {
    const dir = folder();
    const m = openModelFolder(dir);
    expect(m.config).toMatchObject({ hidden: 32, layers: 2, heads: 4, kvHeads: 2, headDim: 8, vocab: 300, tied: true });
    expect(m.tensorNames).toContain('model.layers.1.mlp.down_proj.weight');
    expect(m.tensorNames).not.toContain('lm_head.weight');
    expect(m.shapeOf('model.layers.0.self_attn.k_proj.weight')).toEqual([16, 32]);
    expect(m.dtypeOf('model.norm.weight')).toBe('F32');
    const name = 'model.layers.1.self_attn.q_proj.weight';
    expect(m.read(name)).toEqual(tinyTensorValues(name, [32, 32], 7));
    expect(m.tokenizerJsonPath).toBeUndefined();
    expect(m.fingerprint()).toMatch(/^[0-9a-f]{64}$/);
    expect(m.sha256Of('config.json')).toMatch(/^[0-9a-f]{64}$/);
  });

  test('sharded folder loads the same tensors as the single file', () => {
    const one = openModelFolder(folder({ tied: false }));
    const dir3 = folder({ tied: false, shards: 3 });
    const three = openModelFolder(dir3);
    expect(three.shardFiles.map((f) => f.slice(dir3.length + 1))).toEqual([
      'model-00001-of-00003.safetensors',
      'model-00002-of-00003.safetensors',
      'model-00003-of-00003.safetensors',
    ]);
    expect(three.tensorNames).toEqual(one.tensorNames);
    expect(three.tensorNames).toContain('lm_head.weight');
    for (const name of one.tensorNames) expect(three.read(name), `name ${name}`).toEqual(one.read(name));
    expect(three.totalBytes).toBe(one.totalBytes);
    const index = JSON.parse(readFileSync(join(dir3, 'model.safetensors.index.json'), 'utf8'));
    expect(index.metadata.total_size).toBe(one.totalBytes);
  });

  test('bf16 and f16 checkpoints read as the rounded f32 values', () => {
    const name = 'model.embed_tokens.weight';
    const want = tinyTensorValues(name, [300, 32], 7);
    // A small chunk size exercises the chunked read-and-convert path (300 rows over many chunks).
    const bf = openModelFolder(folder({ dtype: 'BF16', shards: 2 }), { chunkBytes: 1000 }).read(name);
    const hf = openModelFolder(folder({ dtype: 'F16' }), { chunkBytes: 64 }).read(name);
    expect(openModelFolder(folder(), { chunkBytes: 100 }).read(name)).toEqual(want);
    for (let i = 0; i < want.length; i++) {
      expect(bf[i], `i ${i}`).toBe(bf16ToF32(f32ToBf16(want[i])));
      expect(hf[i], `i ${i}`).toBe(f16ToF32(f32ToF16(want[i])));
    }
  });

  test('a tied checkpoint that still carries lm_head.weight is fine (ignored)', () => {
    const dir = folder();
    const st = join(dir, 'model.safetensors');
    const bytes = readFileSync(st);
    const h = parseSafetensors(bytes, st);
    const tensors = [...h.tensors.values()].map((t) => ({ name: t.name, dtype: 'F32' as const, shape: t.shape, data: readTensorF32(bytes, t, st) }));
    tensors.push({ name: 'lm_head.weight', dtype: 'F32', shape: [300, 32], data: new Float32Array(300 * 32) });
    writeFileSync(st, writeSafetensors(tensors, { format: 'pt' }));
    const m = openModelFolder(dir);
    expect(m.has('lm_head.weight')).toBe(true);
    expect(m.config.tied).toBe(true);
  });

  test('missing tensor: FormatError naming the file and the tensor', () => {
    const dir = folder({ tied: false });
    const st = join(dir, 'model.safetensors');
    const bytes = readFileSync(st);
    const h = parseSafetensors(bytes, st);
    const kept = [...h.tensors.values()].filter((t) => t.name !== 'lm_head.weight');
    writeFileSync(st, writeSafetensors(kept.map((t) => ({ name: t.name, dtype: 'F32' as const, shape: t.shape, data: readTensorF32(bytes, t, st) }))));
    const e = thrown(() => openModelFolder(dir));
    expect(e).toBeInstanceOf(FormatError);
    expect(e.message).toContain(st);
    expect(e.message).toContain('"lm_head.weight"');
    expect(e.message).toContain('tie_word_embeddings');
  });

  test('wrong shape: names the tensor, the expected and the found shape', () => {
    const dir = folder();
    const cfgPath = join(dir, 'config.json');
    const cfg = JSON.parse(readFileSync(cfgPath, 'utf8'));
    writeFileSync(cfgPath, JSON.stringify({ ...cfg, intermediate_size: 48 }));
    const e = thrown(() => openModelFolder(dir));
    expect(e).toBeInstanceOf(FormatError);
    expect(e.message).toContain(join(dir, 'model.safetensors'));
    expect(e.message).toContain('"model.layers.0.mlp.gate_proj.weight" has shape [64, 32], expected [48, 32]');
  });

  test('missing shard, index naming a missing file, bad index', () => {
    const dir = folder({ shards: 2 });
    unlinkSync(join(dir, 'model-00002-of-00002.safetensors'));
    const e = thrown(() => openModelFolder(dir));
    expect(e).toBeInstanceOf(FormatError);
    expect(e.message).toContain(join(dir, 'model.safetensors.index.json'));
    expect(e.message).toContain('model-00002-of-00002.safetensors');

    const dir2 = folder({ shards: 2 });
    const idxPath = join(dir2, 'model.safetensors.index.json');
    const idx = JSON.parse(readFileSync(idxPath, 'utf8'));
    idx.weight_map['model.norm.weight'] = '../elsewhere.safetensors';
    writeFileSync(idxPath, JSON.stringify(idx));
    expect(thrown(() => openModelFolder(dir2)).message).toMatch(/same folder/);
    writeFileSync(idxPath, '{"weight_map": ');
    const bad = thrown(() => openModelFolder(dir2));
    expect(bad).toBeInstanceOf(FormatError);
    expect(bad.message).toContain(idxPath);
    expect(bad.message).toMatch(/not valid JSON/);
  });

  test('truncated shard, no weights, bad config', () => {
    const dir = folder();
    const st = join(dir, 'model.safetensors');
    const bytes = readFileSync(st);
    writeFileSync(st, bytes.subarray(0, bytes.length - 100));
    const e = thrown(() => openModelFolder(dir));
    expect(e).toBeInstanceOf(FormatError);
    expect(e.message).toContain(st);
    unlinkSync(st);
    expect(thrown(() => openModelFolder(dir)).message).toMatch(/neither model.safetensors nor/);
    const cfgPath = join(dir, 'config.json');
    writeFileSync(cfgPath, JSON.stringify({ ...JSON.parse(readFileSync(cfgPath, 'utf8')), model_type: 'llama' }));
    const ce = thrown(() => openModelFolder(dir));
    expect(ce).toBeInstanceOf(ConfigError);
    expect(ce.message).toContain(cfgPath);
    expect(thrown(() => openModelFolder(join(root, 'nope')))).toBeInstanceOf(ConfigError);
  });

  test('tokenizer files: paths found; tokenizer.json that is not JSON gives FormatError naming it', () => {
    const dir = folder({ tokenizer: true, tokenizerVocab: 300 });
    const m = openModelFolder(dir);
    expect(m.tokenizerJsonPath).toBe(join(dir, 'tokenizer.json'));
    expect(m.tokenizerConfigPath).toBe(join(dir, 'tokenizer_config.json'));
    const t = loadTokenizer(dir)!;
    expect(t.vocabSize).toBe(300);
    expect(t.eosToken).toBe('<|im_end|>');
    writeFileSync(join(dir, 'tokenizer.json'), '{"model": {"type": "BPE", ');
    const e = thrown(() => loadTokenizer(dir));
    expect(e).toBeInstanceOf(FormatError);
    expect(e.message).toContain(join(dir, 'tokenizer.json'));
    expect(e.message).toMatch(/not valid JSON/);
    writeFileSync(join(dir, 'tokenizer.json'), '{"version": "1.0"}');
    expect(thrown(() => loadTokenizer(dir)).message).toMatch(/no "model"/);
  });
});

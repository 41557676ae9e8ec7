// GGUF LoRA export (core/export/gguf.ts): our writer and reader round-trip (exactly in f32, within f16/bf16 rounding),
// and an independent parser, @huggingface/gguf, reads our file with the metadata and the tensor list llama.cpp's
// convert_lora_to_gguf.py writes and llama-adapter.cpp checks, stated here explicitly.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { gguf, GGMLQuantizationType, GGUFValueType } from '@huggingface/gguf';
import { FormatError } from '../../core/common/errors';
import { bf16ArrayToF32, f16ArrayToF32, f32ArrayToBf16, f32ArrayToF16 } from '../../core/common/half';
import {
  GgufType, kvF32, kvString, kvU32, parseGguf, readGgufLora, shortestF32, writeGguf, writeGgufLora,
} from '../../core/export/gguf';
import { parseQwen2Config } from '../../core/model/config';
import type { HostAdapter } from '../../core/train/lora';
import { randomAdapter } from '../helpers/runfolder';

const dir = mkdtempSync(join(tmpdir(), 'mesp-gguf-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// hidden 64, 2 layers, 4 heads / 2 kv heads (kv dim 32), intermediate 128: the tiny test shape
const cfg = parseQwen2Config({
  model_type: 'qwen2', hidden_size: 64, intermediate_size: 128, num_hidden_layers: 2, num_attention_heads: 4, num_key_value_heads: 2,
  vocab_size: 1024, rms_norm_eps: 1e-6, rope_theta: 10000, max_position_embeddings: 512, tie_word_embeddings: true,
}, 'config.json');

const rounded = (v: Float32Array, dtype: 'f16' | 'bf16'): Float32Array => (dtype === 'f16' ? f16ArrayToF32(f32ArrayToF16(v)) : bf16ArrayToF32(f32ArrayToBf16(v)));

function expectSameAdapter(got: HostAdapter, want: HostAdapter, round?: 'f16' | 'bf16'): void {
  expect(got.rank).toBe(want.rank);
  expect(got.alpha).toBe(want.alpha);
  expect(got.targets).toEqual(want.targets);
  expect([...got.A.keys()].sort()).toEqual([...want.A.keys()].sort());
  for (const [k, v] of want.A) expect(got.A.get(k), `k ${k}`).toEqual(round ? rounded(v, round) : v);
  for (const [k, v] of want.B) expect(got.B.get(k), `k ${k}`).toEqual(round ? rounded(v, round) : v);
}

describe('GGUF container', () => {
  it('writes and parses every KV type, alignment and tensor offsets', () => {
    const bytes = writeGguf(
      [
        kvString('general.architecture', 'qwen2'), kvU32('a.u32', 7), kvF32('a.f32', 0.5),
        { key: 'a.i64', type: GgufType.INT64, value: -3n }, { key: 'a.bool', type: GgufType.BOOL, value: true },
        { key: 'a.arr', type: GgufType.ARRAY, value: { itemType: GgufType.STRING, items: ['x', 'yz'] } },
      ],
      [
        { name: 't0', ne: [3], type: 'F32', data: new Uint8Array(new Float32Array([1, 2, 3]).buffer) },
        { name: 't1', ne: [2, 1], type: 'F16', data: new Uint8Array(f32ArrayToF16([1, -2]).buffer) },
      ],
    );
    const f = parseGguf(bytes, 'x.gguf');
    expect(f.version).toBe(3);
    expect(f.kvOrder).toEqual(['general.architecture', 'a.u32', 'a.f32', 'a.i64', 'a.bool', 'a.arr']);
    expect(f.kv.get('a.i64')!.value).toBe(-3n);
    expect(f.kv.get('a.arr')!.value).toEqual({ itemType: GgufType.STRING, items: ['x', 'yz'] });
    expect(f.dataOffset % 32).toBe(0);
    expect(f.tensors.map((t) => [t.name, t.offset, t.byteLength])).toEqual([['t0', 0, 12], ['t1', 32, 4]]);
    expect(bytes.length).toBe(f.dataOffset + 64); // each tensor padded to the alignment
  });

  it('refuses what is not a usable GGUF, naming the file', () => {
    expect(() => parseGguf(new TextEncoder().encode('NOPE....'), 'bad.gguf')).toThrow(/bad\.gguf: does not start with the GGUF magic/);
    const good = writeGgufLora(randomAdapter(cfg, { rank: 2, alpha: 4, targets: ['q'] }), { baseModel: 'tiny' });
    expect(() => parseGguf(good.subarray(0, good.length - 40), 't.gguf')).toThrow(FormatError);
    expect(() => parseGguf(good.subarray(0, good.length - 40), 't.gguf')).toThrow(/truncated/);
    const model = writeGguf([kvString('general.architecture', 'qwen2'), kvString('general.type', 'model')], []);
    expect(() => readGgufLora(model, 'm.gguf')).toThrow(/general\.type is "model", not "adapter"/);
    const llama = writeGguf([kvString('general.architecture', 'llama'), kvString('general.type', 'adapter'), kvString('adapter.type', 'lora'), kvF32('adapter.lora.alpha', 8)], []);
    expect(() => readGgufLora(llama, 'l.gguf')).toThrow(/only "qwen2"/);
  });
});

describe('GGUF LoRA adapter', () => {
  const adapter = randomAdapter(cfg, { rank: 4, alpha: 16, targets: ['q', 'k', 'v', 'o', 'gate', 'up', 'down'], seed: 3 });

  it('round-trips exactly in f32 and within f16 / bf16 rounding', () => {
    const f32 = readGgufLora(writeGgufLora(adapter, { baseModel: 'Qwen/Qwen2.5-0.5B' }, 'f32'), 'a.gguf');
    expectSameAdapter(f32, adapter);
    expect(f32.baseModel).toBe('Qwen/Qwen2.5-0.5B');
    expect(f32.dtype).toBe('f32');
    const f16 = readGgufLora(writeGgufLora(adapter, { baseModel: 'x' }, 'f16'), 'a.gguf');
    expectSameAdapter(f16, adapter, 'f16');
    expect(f16.dtype).toBe('f16');
    expectSameAdapter(readGgufLora(writeGgufLora(adapter, { baseModel: 'x' }, 'bf16'), 'a.gguf'), adapter, 'bf16');
  });

  it('alpha comes back as written even when it is not exact in f32', () => {
    const a = { ...adapter, alpha: 0.1 };
    expect(readGgufLora(writeGgufLora(a, { baseModel: 'x' }), 'a.gguf').alpha).toBe(0.1);
    expect(shortestF32(Math.fround(32))).toBe(32);
  });

  it('is what llama.cpp expects, read by @huggingface/gguf', async () => {
    const small = randomAdapter(cfg, { rank: 4, alpha: 16, targets: ['q', 'v', 'down'], seed: 8 });
    for (const dtype of ['f32', 'f16'] as const) {
      const file = join(dir, `adapter-${dtype}.gguf`);
      writeFileSync(file, writeGgufLora(small, { baseModel: 'Qwen/Qwen2.5-0.5B' }, dtype));
      const { metadata, tensorInfos, tensorDataOffset, littleEndian, typedMetadata } = await gguf(file, { allowLocalFile: true, typedMetadata: true });
      expect(littleEndian, `dtype ${dtype}`).toBe(true);
      expect(metadata.version, `dtype ${dtype}`).toBe(3);
      const md = metadata as unknown as Record<string, unknown>;
      // The metadata convert_lora_to_gguf.py writes, and the three keys llama-adapter.cpp requires.
      expect(md['general.architecture'], `dtype ${dtype}`).toBe('qwen2');
      expect(md['general.type'], `dtype ${dtype}`).toBe('adapter');
      expect(md['adapter.type'], `dtype ${dtype}`).toBe('lora');
      expect(md['adapter.lora.alpha'], `dtype ${dtype}`).toBe(16);
      expect(typedMetadata['adapter.lora.alpha'].type, `dtype ${dtype}`).toBe(GGUFValueType.FLOAT32);
      expect(md['general.quantization_version'], `dtype ${dtype}`).toBe(2);
      expect(md['general.file_type'], `dtype ${dtype}`).toBe(dtype === 'f32' ? 0 : 1);
      expect(md['general.base_model.0.name'], `dtype ${dtype}`).toBe('Qwen/Qwen2.5-0.5B');
      expect(md['general.alignment'], `dtype ${dtype}`).toBeUndefined(); // the default, 32
      // The tensors, in order: per layer and projection, lora_a with ne [in, r] then lora_b with ne [r, out].
      const T = dtype === 'f32' ? GGMLQuantizationType.F32 : GGMLQuantizationType.F16;
      const expected: [string, number[]][] = [
        ['blk.0.attn_q.weight.lora_a', [64, 4]], ['blk.0.attn_q.weight.lora_b', [4, 64]],
        ['blk.0.attn_v.weight.lora_a', [64, 4]], ['blk.0.attn_v.weight.lora_b', [4, 32]],
        ['blk.0.ffn_down.weight.lora_a', [128, 4]], ['blk.0.ffn_down.weight.lora_b', [4, 64]],
        ['blk.1.attn_q.weight.lora_a', [64, 4]], ['blk.1.attn_q.weight.lora_b', [4, 64]],
        ['blk.1.attn_v.weight.lora_a', [64, 4]], ['blk.1.attn_v.weight.lora_b', [4, 32]],
        ['blk.1.ffn_down.weight.lora_a', [128, 4]], ['blk.1.ffn_down.weight.lora_b', [4, 64]],
      ];
      expect(tensorInfos.map((t) => [t.name, t.shape.map(Number)]), `dtype ${dtype}`).toEqual(expected);
      expect(tensorInfos.every((t) => t.n_dims === 2 && t.dtype === T), `dtype ${dtype}`).toBe(true);
      expect(tensorInfos.every((t) => Number(t.offset) % 32 === 0), `dtype ${dtype}`).toBe(true);
      expect(Number(tensorDataOffset) % 32, `dtype ${dtype}`).toBe(0);
      // llama-adapter.cpp's checks against the base tensors (ne [in, out]): a.ne[0] = in, b.ne[1] = out, a.ne[1] = b.ne[0].
      const base: Record<string, [number, number]> = { attn_q: [64, 64], attn_v: [64, 32], ffn_down: [128, 64] };
      for (let i = 0; i < tensorInfos.length; i += 2) {
        const [a, b] = [tensorInfos[i], tensorInfos[i + 1]];
        const [inF, outF] = base[a.name.split('.')[2]];
        expect([Number(a.shape[0]), Number(b.shape[1]), Number(a.shape[1])], `dtype ${dtype} i ${i}`).toEqual([inF, outF, Number(b.shape[0])]);
      }
    }
  });
});

// PEFT and MLX adapter files (core/export/peft.ts, core/export/mlx.ts). PEFT: the safetensors header (keys, dtypes,
// shapes, offsets, metadata) and adapter_config.json are exactly what PEFT writes, against a fixture written by hand
// from PEFT's documentation (tests/fixtures/peft). MLX: mlx-lm's keys and transposed shapes, scale = alpha / r, and
// that mlx-lm's arithmetic on our tensors (x @ lora_a @ lora_b · scale) equals PEFT's s·(x·Aᵀ)·Bᵀ. Both round-trip.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bf16ArrayToF32, f16ArrayToF32, f32ArrayToBf16, f32ArrayToF16 } from '../../core/common/half';
import { parseSafetensors, readTensorF32 } from '../../core/common/safetensors';
import { readMlx, writeMlx } from '../../core/export/mlx';
import { readPeft, writePeft } from '../../core/export/peft';
import { parseQwen2Config } from '../../core/model/config';
import type { HostAdapter } from '../../core/train/lora';
import { randomAdapter } from '../helpers/runfolder';

const cfg = parseQwen2Config({
  model_type: 'qwen2', hidden_size: 64, intermediate_size: 128, num_hidden_layers: 2, num_attention_heads: 4, num_key_value_heads: 2,
  vocab_size: 1024, rms_norm_eps: 1e-6, rope_theta: 10000, max_position_embeddings: 512, tie_word_embeddings: true,
}, 'config.json');

const fixture = JSON.parse(readFileSync(join(__dirname, '../fixtures/peft/qwen2-tiny-r4-qv.header.json'), 'utf8')) as {
  header: Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] } | Record<string, string>>;
  adapter_config: Record<string, unknown>;
};

function headerOf(bytes: Uint8Array): { json: Record<string, unknown>; length: number; raw: string } {
  const n = new DataView(bytes.buffer, bytes.byteOffset).getUint32(0, true);
  const raw = new TextDecoder().decode(bytes.subarray(8, 8 + n));
  return { json: JSON.parse(raw) as Record<string, unknown>, length: n, raw };
}

const round = (v: Float32Array, d: 'f16' | 'bf16'): Float32Array => (d === 'f16' ? f16ArrayToF32(f32ArrayToF16(v)) : bf16ArrayToF32(f32ArrayToBf16(v)));

function expectSame(got: HostAdapter, want: HostAdapter, r?: 'f16' | 'bf16'): void {
  expect([got.rank, got.alpha, got.targets]).toEqual([want.rank, want.alpha, want.targets]);
  expect([...got.A.keys()].sort()).toEqual([...want.A.keys()].sort());
  for (const [k, v] of want.A) expect(got.A.get(k), `k ${k}`).toEqual(r ? round(v, r) : v);
  for (const [k, v] of want.B) expect(got.B.get(k), `k ${k}`).toEqual(r ? round(v, r) : v);
}

describe('PEFT adapter files', () => {
  const adapter = randomAdapter(cfg, { rank: 4, alpha: 8, targets: ['q', 'v'], seed: 1 });

  it('has exactly PEFT\'s safetensors header and adapter_config.json (fixture)', () => {
    const { config, weights } = writePeft(adapter, 'Qwen/Qwen2.5-0.5B', 'f32');
    const h = headerOf(weights);
    expect(h.json).toEqual(fixture.header);
    expect(h.length % 8).toBe(0); // padded with spaces to 8 bytes, as the safetensors library does
    expect(h.raw).toMatch(/^\{.*\} *$/s);
    expect(weights.length).toBe(8 + h.length + 7168);
    const cfgJson = JSON.parse(config) as Record<string, unknown>;
    for (const [k, v] of Object.entries(fixture.adapter_config)) expect([k, cfgJson[k]], `k ${k}`).toEqual([k, v]);
  });

  it('writes f16 and bf16 with the same keys and shapes, half the bytes', () => {
    for (const [d, st] of [['f16', 'F16'], ['bf16', 'BF16']] as const) {
      const h = headerOf(writePeft(adapter, 'Qwen/Qwen2.5-0.5B', d).weights).json;
      for (const [k, v] of Object.entries(fixture.header)) {
        if (k === '__metadata__') continue;
        const e = v as { shape: number[]; data_offsets: [number, number] };
        expect(h[k], `d ${JSON.stringify(d)} k ${k}`).toEqual({ dtype: st, shape: e.shape, data_offsets: [e.data_offsets[0] / 2, e.data_offsets[1] / 2] });
      }
    }
  });

  it('round-trips exactly in f32, within rounding in f16 and bf16; never publishes a local path', () => {
    for (const d of ['f32', 'f16', 'bf16'] as const) {
      const { config, weights } = writePeft(adapter, '/home/me/models/Qwen2.5-0.5B', d);
      const back = readPeft(config, weights, { config: 'c.json', weights: 'w.safetensors' });
      expectSame(back, adapter, d === 'f32' ? undefined : d);
      expect(back.baseModel, `d ${JSON.stringify(d)}`).toBe('Qwen2.5-0.5B');
    }
  });
});

describe('MLX adapter files', () => {
  const adapter = randomAdapter(cfg, { rank: 4, alpha: 16, targets: ['q', 'k', 'v', 'o', 'gate', 'up', 'down'], seed: 2 });

  it('uses mlx-lm\'s keys, (in, r) / (r, out) shapes, metadata and adapter_config.json', () => {
    const { config, weights } = writeMlx(adapter, 'Qwen/Qwen2.5-0.5B', cfg.layers, 'f32');
    const st = parseSafetensors(weights, 'adapters.safetensors');
    expect(st.metadata).toEqual({ format: 'mlx' });
    const shapes = Object.fromEntries([...st.tensors].map(([k, t]) => [k, [t.dtype, ...t.shape]]));
    expect(shapes).toMatchObject({
      'model.layers.0.self_attn.q_proj.lora_a': ['F32', 64, 4], 'model.layers.0.self_attn.q_proj.lora_b': ['F32', 4, 64],
      'model.layers.0.self_attn.k_proj.lora_a': ['F32', 64, 4], 'model.layers.0.self_attn.k_proj.lora_b': ['F32', 4, 32],
      'model.layers.1.self_attn.o_proj.lora_a': ['F32', 64, 4], 'model.layers.1.self_attn.o_proj.lora_b': ['F32', 4, 64],
      'model.layers.1.mlp.gate_proj.lora_a': ['F32', 64, 4], 'model.layers.1.mlp.gate_proj.lora_b': ['F32', 4, 128],
      'model.layers.1.mlp.down_proj.lora_a': ['F32', 128, 4], 'model.layers.1.mlp.down_proj.lora_b': ['F32', 4, 64],
    });
    expect(st.tensors.size).toBe(2 * 7 * 2);
    expect(JSON.parse(config)).toEqual({
      fine_tune_type: 'lora', model: 'Qwen/Qwen2.5-0.5B', num_layers: 2,
      lora_parameters: { rank: 4, scale: 4, dropout: 0, keys: ['self_attn.q_proj', 'self_attn.k_proj', 'self_attn.v_proj', 'self_attn.o_proj', 'mlp.gate_proj', 'mlp.up_proj', 'mlp.down_proj'] },
      lora_alpha: 16,
    });
  });

  it('mlx-lm\'s LoRALinear on our tensors computes PEFT\'s update', () => {
    const { config, weights } = writeMlx(adapter, 'q', cfg.layers, 'f32');
    const st = parseSafetensors(weights, 'w');
    const a = readTensorF32(weights, st.tensors.get('model.layers.1.mlp.up_proj.lora_a')!, 'w'); // (in 64, R)
    const b = readTensorF32(weights, st.tensors.get('model.layers.1.mlp.up_proj.lora_b')!, 'w'); // (R, out 128)
    const scale = (JSON.parse(config) as { lora_parameters: { scale: number } }).lora_parameters.scale;
    const A = adapter.A.get('1.up')!; // (R, in)
    const B = adapter.B.get('1.up')!; // (out, R)
    const x = Float64Array.from({ length: 64 }, (_, i) => Math.sin(i));
    const R = 4;
    for (let o = 0; o < 128; o += 17) {
      let mlx = 0; // scale · (x @ lora_a @ lora_b)[o]
      let peft = 0; // (alpha / r) · ((x·Aᵀ)·Bᵀ)[o]
      for (let r = 0; r < R; r++) {
        let xa = 0;
        let xA = 0;
        for (let i = 0; i < 64; i++) {
          xa += x[i] * a[i * R + r];
          xA += x[i] * A[r * 64 + i];
        }
        mlx += xa * b[r * 128 + o];
        peft += xA * B[o * R + r];
      }
      expect(scale * mlx, `o ${JSON.stringify(o)}`).toBeCloseTo((adapter.alpha / adapter.rank) * peft, 12);
    }
  });

  it('round-trips exactly in f32, within rounding in f16 and bf16', () => {
    for (const d of ['f32', 'f16', 'bf16'] as const) {
      const { config, weights } = writeMlx(adapter, 'Qwen/Qwen2.5-0.5B', cfg.layers, d);
      const back = readMlx(config, weights, { config: 'adapter_config.json', weights: 'adapters.safetensors' });
      expectSame(back, adapter, d === 'f32' ? undefined : d);
      expect(back.baseModel, `d ${JSON.stringify(d)}`).toBe('Qwen/Qwen2.5-0.5B');
    }
  });

  it('reads mlx-lm\'s own config (no lora_alpha: alpha = scale · r) and refuses DoRA', () => {
    const { weights } = writeMlx(adapter, 'x', cfg.layers);
    const theirs = JSON.stringify({ fine_tune_type: 'lora', num_layers: 2, lora_parameters: { rank: 4, scale: 20.0, dropout: 0.0 } });
    expect(readMlx(theirs, weights, { config: 'c', weights: 'w' }).alpha).toBe(80);
    const dora = JSON.stringify({ fine_tune_type: 'dora', num_layers: 2, lora_parameters: { rank: 4, scale: 20.0, dropout: 0.0 } });
    expect(() => readMlx(dora, weights, { config: 'c', weights: 'w' })).toThrow(/only "lora" adapters/);
  });

  it('refuses an adapter mlx-lm could not apply (not on the last num_layers blocks)', () => {
    const firstOnly = randomAdapter(cfg, { rank: 2, alpha: 4, targets: ['q'], layers: [0] });
    expect(() => writeMlx(firstOnly, 'x', cfg.layers)).toThrow(/last num_layers/);
    const lastOnly = randomAdapter(cfg, { rank: 2, alpha: 4, targets: ['q'], layers: [1] });
    expect(JSON.parse(writeMlx(lastOnly, 'x', cfg.layers).config).num_layers).toBe(1);
  });
});

// core/model/config.ts, shapes.ts and names.ts: Qwen2 config.json validation (ConfigError naming file and field),
// the real Qwen2.5 shapes and the HF tensor names of a checkpoint.
import { describe, expect, test } from 'vitest';
import { ConfigError } from '../../core/common/errors';
import { CONFIG_LIMITS, parseQwen2Config } from '../../core/model/config';
import { expectedTensors, parameterCount } from '../../core/model/names';
import { QWEN25_CONFIGS, qwen25Config } from '../../core/model/shapes';

const FILE = '/models/x/config.json';
const base = () => ({ ...QWEN25_CONFIGS['qwen2.5-0.5b'] }) as Record<string, unknown>;

function configError(json: unknown): ConfigError {
  try {
    parseQwen2Config(json, FILE);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    expect((e as ConfigError).message).toContain(FILE);
    return e as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('parseQwen2Config', () => {
  test('Qwen2.5-0.5B', () => {
    const c = parseQwen2Config(base(), FILE);
    expect(c).toMatchObject({ hidden: 896, intermediate: 4864, layers: 24, heads: 14, kvHeads: 2, headDim: 64, vocab: 151936, eps: 1e-6, ropeTheta: 1e6, tied: true, maxPositions: 32768 });
  });

  test('unknown fields are allowed; tie_word_embeddings and hidden_act default as in HF', () => {
    const j = base();
    delete j.tie_word_embeddings;
    delete j.hidden_act;
    j.some_future_field = { a: 1 };
    const c = parseQwen2Config(j, FILE);
    expect(c.tied).toBe(false);
    expect((c.raw as Record<string, unknown>).some_future_field).toEqual({ a: 1 });
  });

  test('a missing field is named', () => {
    const j = base();
    delete j.hidden_size;
    const e = configError(j);
    expect(e.field).toBe('hidden_size');
    expect(e.message).toMatch(/"hidden_size" is missing/);
  });

  test('model_type llama is rejected with the accepted value', () => {
    const e = configError({ ...base(), model_type: 'llama', rope_scaling: { rope_type: 'llama3', factor: 8 } });
    expect(e.field).toBe('model_type');
    expect(e.message).toContain('"llama"');
    expect(e.message).toContain('"qwen2"');
  });

  test('rope_scaling, sliding window and other activations are unsupported', () => {
    const r = configError({ ...base(), rope_scaling: { type: 'yarn', factor: 4 } });
    expect(r.field).toBe('rope_scaling');
    expect(r.message).toMatch(/not supported/);
    expect(configError({ ...base(), use_sliding_window: true }).field).toBe('use_sliding_window');
    expect(configError({ ...base(), hidden_act: 'gelu' }).field).toBe('hidden_act');
    expect(parseQwen2Config({ ...base(), rope_scaling: null, use_sliding_window: false }, FILE).hidden).toBe(896);
  });

  test('bad values and inconsistent heads', () => {
    expect(configError({ ...base(), num_hidden_layers: 0 }).field).toBe('num_hidden_layers');
    expect(configError({ ...base(), hidden_size: '896' }).field).toBe('hidden_size');
    expect(configError({ ...base(), num_attention_heads: 5 }).field).toBe('num_attention_heads');
    expect(configError({ ...base(), num_key_value_heads: 4 }).field).toBe('num_key_value_heads');
    expect(configError({ ...base(), head_dim: 128 }).field).toBe('head_dim');
    expect(parseQwen2Config({ ...base(), head_dim: 64 }, FILE).headDim).toBe(64);
    expect(configError([1, 2]).message).toMatch(/JSON object/);
  });
});

describe('size bounds', () => {
  test.each(Object.keys(CONFIG_LIMITS))('%s past its bound (1e9) is refused by name, before anything is sized from it', (field) => {
    const e = configError({ ...base(), [field]: 1e9 });
    expect(e.message).toContain(`field "${field}" is 1000000000`);
    expect(e.message).toContain(`up to ${CONFIG_LIMITS[field as keyof typeof CONFIG_LIMITS]}`);
  });

  test('parameterCount by arithmetic equals the sum over the expected tensors, tied and untied', () => {
    for (const id of ['qwen2.5-0.5b', 'qwen2.5-3b'] as const) {
      for (const tied of [true, false]) {
        const c = { ...qwen25Config(id), tied };
        const listed = expectedTensors(c).reduce((s, t) => s + t.shape.reduce((a, b) => a * b, 1), 0);
        expect(parameterCount(c), `${id} tied ${tied}`).toBe(listed);
      }
    }
  });
});

describe('shapes and names', () => {
  test('the Qwen2.5 shapes have their published parameter counts', () => {
    expect(parameterCount(qwen25Config('qwen2.5-0.5b'))).toBe(494_032_768);
    expect(parameterCount(qwen25Config('qwen2.5-1.5b'))).toBe(1_543_714_304);
    expect(parameterCount(qwen25Config('qwen2.5-3b'))).toBe(3_085_938_688);
    expect(qwen25Config('qwen2.5-3b')).toMatchObject({ hidden: 2048, intermediate: 11008, layers: 36, heads: 16, kvHeads: 2, headDim: 128, tied: true });
    expect(qwen25Config('qwen2.5-1.5b')).toMatchObject({ hidden: 1536, intermediate: 8960, layers: 28, heads: 12, kvHeads: 2, headDim: 128, tied: true });
  });

  test('expected tensors: per-layer names and shapes; lm_head only when untied', () => {
    const c = qwen25Config('qwen2.5-0.5b');
    const t = new Map(expectedTensors(c).map((x) => [x.name, x.shape]));
    expect(t.size).toBe(1 + 24 * 12 + 1);
    expect(t.get('model.embed_tokens.weight')).toEqual([151936, 896]);
    expect(t.get('model.layers.3.self_attn.q_proj.weight')).toEqual([896, 896]);
    expect(t.get('model.layers.3.self_attn.k_proj.weight')).toEqual([128, 896]);
    expect(t.get('model.layers.3.self_attn.v_proj.bias')).toEqual([128]);
    expect(t.get('model.layers.3.self_attn.o_proj.weight')).toEqual([896, 896]);
    expect(t.get('model.layers.23.mlp.down_proj.weight')).toEqual([896, 4864]);
    expect(t.get('model.layers.23.mlp.gate_proj.weight')).toEqual([4864, 896]);
    expect(t.get('model.norm.weight')).toEqual([896]);
    expect(t.has('lm_head.weight')).toBe(false);
    const untied = expectedTensors({ ...c, tied: false });
    expect(untied.at(-1)).toEqual({ name: 'lm_head.weight', shape: [151936, 896] });
  });
});

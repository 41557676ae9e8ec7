// `mesp demo-model --shape`: a model folder of a real shape with deterministic random bf16 weights and the demo
// tokenizer in the shape's vocabulary (core/model/demo.ts demoShapeModel, core/node/demo.ts writeShapeModel). The real
// Qwen2.5 shapes are checked from their plan (nothing is written: 0.5B is 1 GB); a small shape is written through the
// CLI and read back by our loader (the transformers layout), twice, to the same bytes.
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { planHfShards } from '../../core/export/hf-merged';
import { parseQwen2Config } from '../../core/model/config';
import { demoShapeModel } from '../../core/model/demo';
import { expectedTensors, parameterCount } from '../../core/model/names';
import { QWEN25_CONFIGS } from '../../core/model/shapes';
import { main } from '../../core/node/cli/main';
import { openModelFolder } from '../../core/node/modelfiles';

const work = mkdtempSync(join(tmpdir(), 'mesp-demo-shape-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const SMALL_SHAPE = {
  architectures: ['Qwen2ForCausalLM'], model_type: 'qwen2', hidden_size: 128, intermediate_size: 256, num_hidden_layers: 2,
  num_attention_heads: 4, num_key_value_heads: 2, vocab_size: 8192, rms_norm_eps: 1e-6, rope_theta: 1000000.0,
  max_position_embeddings: 2048, tie_word_embeddings: true,
};

describe('demo models of real shapes', () => {
  it('qwen2.5-0.5b / 3b: the real config, bf16 tensors of the real shapes, one file for 0.5B and 2 GB shards for 3B', () => {
    for (const [id, size, files] of [['qwen2.5-0.5b', 494_032_768, 1], ['qwen2.5-3b', 3_085_938_688, 4]] as const) {
      const m = demoShapeModel(QWEN25_CONFIGS[id]);
      const cfg = parseQwen2Config(m.config, id);
      expect({ ...m.config, bos_token_id: 0, eos_token_id: 0 }).toEqual({ ...QWEN25_CONFIGS[id], torch_dtype: 'bfloat16', bos_token_id: 0, eos_token_id: 0 });
      expect(m.tensors.map((t) => [t.name, [...t.shape]])).toEqual(expectedTensors(cfg).map((t) => [t.name, t.shape]));
      expect(m.tensors.every((t) => t.dtype === 'BF16')).toBe(true);
      expect(parameterCount(cfg)).toBe(size);
      expect(planHfShards(m.tensors).length).toBe(files);
      // the demo tokenizer: its ids are the first rows; the rest of the 151936 rows belong to no token
      const tj = JSON.parse(new TextDecoder().decode(m.files.get('tokenizer.json'))) as { model: { vocab: Record<string, number> }; added_tokens: { id: number; content: string }[] };
      const ids = [...Object.values(tj.model.vocab), ...tj.added_tokens.map((a) => a.id)];
      expect(Math.max(...ids)).toBe(ids.length - 1);
      expect(ids.length).toBeLessThan(cfg.vocab);
      expect(m.config.eos_token_id).toBe(tj.added_tokens.find((a) => a.content === '<|im_end|>')!.id);
    }
  });

  it('weights are deterministic per seed, normal with std 0.02 (norms around 1)', () => {
    const a = demoShapeModel(QWEN25_CONFIGS['qwen2.5-0.5b']).tensors;
    const b = demoShapeModel(QWEN25_CONFIGS['qwen2.5-0.5b']).tensors;
    const c = demoShapeModel(QWEN25_CONFIGS['qwen2.5-0.5b'], { seed: 9 }).tensors;
    const k = a.findIndex((t) => t.name === 'model.layers.3.self_attn.k_proj.weight'); // (128, 896)
    const [x, y, z] = [a[k].produce() as Float32Array, b[k].produce() as Float32Array, c[k].produce() as Float32Array];
    expect(x).toEqual(y);
    expect(x).not.toEqual(z);
    const std = Math.sqrt(x.reduce((s, v) => s + v * v, 0) / x.length);
    expect(Math.abs(std - 0.02)).toBeLessThan(0.001);
    const norm = a.find((t) => t.name === 'model.norm.weight')!.produce() as Float32Array;
    expect(Math.abs(norm.reduce((s, v) => s + v, 0) / norm.length - 1)).toBeLessThan(0.01);
  });

  it('mesp demo-model --shape CONFIG.json writes a folder our loader opens, the same bytes every time', async () => {
    const shape = join(work, 'small.json');
    writeFileSync(shape, JSON.stringify(SMALL_SHAPE));
    const sha: string[] = [];
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    try {
      for (const out of ['a', 'b'].map((d) => join(work, d))) {
        expect(await main(['demo-model', '--shape', shape, '--out', out])).toBe(0);
        const folder = openModelFolder(out);
        expect(folder.config).toMatchObject({ hidden: 128, layers: 2, vocab: 8192, tied: true });
        expect(folder.tensorNames.every((n) => folder.dtypeOf(n) === 'BF16')).toBe(true);
        expect(folder.tokenizerJsonPath).toBeDefined();
        sha.push(createHash('sha256').update(readFileSync(join(out, 'model.safetensors'))).digest('hex'));
      }
      expect(sha[0]).toBe(sha[1]);
      expect(await main(['demo-model', '--shape', 'qwen9-7b', '--out', join(work, 'c')])).toBe(5);
    } finally {
      log.mockRestore();
    }
  });
});

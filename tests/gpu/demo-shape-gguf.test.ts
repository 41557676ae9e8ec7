// The path of docs/benchmarks.md's 0.5B deployment run, on a small shape: `mesp demo-model --shape CONFIG.json` (random
// bf16 weights, the demo tokenizer), a short `mesp train` run, `mesp export --format gguf-merged --gguf-type q4_0`
// (through the CLI), and the merged q4_0 GGUF loads and generates in llama.cpp, with the parity `mesp export` measured
// recorded and passing. One llama.cpp instance for the file.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BundleManifestSchema } from '../../core/api/export';
import { closeLlama, llamaDecodeSpeed, openLlama } from '../../core/node/llama';
import { runMain as cli } from '../helpers/cli';

const work = mkdtempSync(join(tmpdir(), 'mesp-demo-shape-gguf-'));
afterAll(async () => {
  await closeLlama();
  rmSync(work, { recursive: true, force: true });
});

const SMALL_SHAPE = {
  architectures: ['Qwen2ForCausalLM'], model_type: 'qwen2', hidden_size: 128, intermediate_size: 256, num_hidden_layers: 2,
  num_attention_heads: 4, num_key_value_heads: 2, vocab_size: 8192, rms_norm_eps: 1e-6, rope_theta: 1000000.0,
  max_position_embeddings: 2048, tie_word_embeddings: true,
};

describe('a demo model of a given shape, trained briefly, exported as merged q4_0 GGUF', () => {
  it('loads and generates in llama.cpp, and the bundle records the parity it measured', async () => {
    const shape = join(work, 'small.json');
    writeFileSync(shape, JSON.stringify(SMALL_SHAPE));
    const model = join(work, 'model');
    const data = join(work, 'data.jsonl');
    const run = join(work, 'run');
    const out = join(work, 'bundle');
    const steps: [string, string[]][] = [
      ['demo-model', ['demo-model', '--shape', shape, '--out', model, '--dataset', data]],
      ['train', ['train', '--model', model, '--data', data, '--method', 'mesp', '--profile', 'phone-6gb', '--out', run, '--steps', '2', '--seq-len', '48', '--targets', 'q,k,v,o,gate,up,down', '--val-fraction', '0.1', '--lr', '0.05']],
      ['export', ['export', '--run', run, '--format', 'gguf-merged', '--gguf-type', 'q4_0', '--out', out, '--parity-rows', '3']],
    ];
    let exportOut = '';
    for (const [name, args] of steps) {
      const r = await cli(args);
      expect([name, r.code, r.err.split('\n').filter((x) => /error|mesp \w+:/i.test(x))]).toEqual([name, 0, []]);
      if (name === 'export') exportOut = r.out;
    }
    expect(exportOut).toMatch(/parity in llama\.cpp .*3 validation rows of data\.jsonl/);
    const m = BundleManifestSchema.parse(JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')));
    const [k] = m.parity!.checks;
    console.log(`[max diff] merged q4_0 GGUF of the small shape in llama.cpp: ${k.maxRelDiff.toExponential(2)} of our engine on its weights (bound ${k.bound}), ${k.maxRelDiffVsF32.toExponential(2)} of the f32 model`);
    expect([m.parity!.status, k.files, k.modelType, k.pass]).toEqual(['measured', ['gguf/merged.gguf'], 'q4_0', true]);
    expect(m.files.find((f) => f.relPath === 'gguf/merged.gguf')!.dtype).toBe('q4_0');

    const rt = await openLlama();
    if ('unavailable' in rt) throw new Error(rt.unavailable);
    const gen = await llamaDecodeSpeed(rt, { model: join(out, 'gguf/merged.gguf') }, [72, 101, 108, 108, 111], 8, 1);
    expect(gen.tokens.length).toBe(8);
    expect(gen.tokens.every((t) => Number.isInteger(t) && t >= 0 && t < 8192)).toBe(true);
    const bench = await cli(['llama-bench', '--gguf', join(out, 'gguf/merged.gguf'), '--tokens', '4', '--threads', '1', '--json']);
    expect(bench.code).toBe(0);
    expect(JSON.parse(bench.out)).toMatchObject({ decodeTokens: 4, threads: 1, promptTokens: 32 });
  }, 300_000);
});

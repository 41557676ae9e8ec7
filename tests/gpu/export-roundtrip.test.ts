// The export round trip on a real run: train a few steps of the demo model (runTrain, the service `mesp train` uses),
// export the run to every format, read each export back with our readers (equal exactly in f32, within f16
// rounding in f16), import each back as a PEFT --init-adapter; and run the merged ONNX model in onnxruntime-web
// (wasm, in Node) on a tokenized prompt: its logits match our engine's forward with the adapter (forwardLogits,
// LoRA unmerged, on the GPU) within 1e-4 relative. forwardLogits itself is checked against forwardNll.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { f16ArrayToF32, f32ArrayToF16 } from '../../core/common/half';
import { readGgufLora } from '../../core/export/gguf';
import { readMlx } from '../../core/export/mlx';
import { readPeft } from '../../core/export/peft';
import { demoDatasetJsonl } from '../../core/model/demo';
import { forwardNll } from '../../core/model/forward';
import { forwardLogits } from '../../core/model/logits';
import { freeModelWeights, loadModelWeights, PROJECTIONS } from '../../core/model/weights';
import { writeDemoModel } from '../../core/node/demo';
import { exportRun, importAdapter } from '../../core/node/export';
import { loadTokenizer } from '../../core/node/loaders';
import { openModelFolder } from '../../core/node/modelfiles';
import { runTrain } from '../../core/node/service/train';
import { freeAdapter, uploadAdapter, type HostAdapter } from '../../core/train/lora';
import { gpu, report } from '../helpers/gpu';
import { ortLogits } from '../helpers/ort';

const work = mkdtempSync(join(tmpdir(), 'mesp-export-gpu-'));
const modelDir = join(work, 'demo-model');
const runDir = join(work, 'run');
let trained: HostAdapter;
afterAll(() => rmSync(work, { recursive: true, force: true }));

function readRunAdapter(): HostAdapter {
  const c = join(runDir, 'adapter', 'adapter_config.json');
  const w = join(runDir, 'adapter', 'adapter_model.safetensors');
  return readPeft(readFileSync(c, 'utf8'), new Uint8Array(readFileSync(w)), { config: c, weights: w });
}

function expectAdapter(got: HostAdapter, want: HostAdapter, f16 = false): void {
  expect([got.rank, got.alpha, got.targets]).toEqual([want.rank, want.alpha, want.targets]);
  expect([...got.A.keys()].sort()).toEqual([...want.A.keys()].sort());
  const r = (v: Float32Array): Float32Array => (f16 ? f16ArrayToF32(f32ArrayToF16(v)) : v);
  for (const [k, v] of want.A) expect(got.A.get(k), `k ${k}`).toEqual(r(v));
  for (const [k, v] of want.B) expect(got.B.get(k), `k ${k}`).toEqual(r(v));
}

beforeAll(async () => {
  writeDemoModel(modelDir);
  const data = join(work, 'data.jsonl');
  writeFileSync(data, demoDatasetJsonl('messages').split('\n').slice(0, 8).join('\n') + '\n');
  await runTrain({
    modelDir, dataPath: data, outDir: runDir, method: 'mesp', steps: 3, batch: 2, seqLen: 48, rank: 4, alpha: 8,
    targets: [...PROJECTIONS], lr: 0.05, seed: 3, profile: 'phone-8gb',
  });
  trained = readRunAdapter();
}, 600_000);

describe('export round trip of a trained run', () => {
  it('the run trained a non-zero adapter', () => {
    let maxB = 0;
    for (const b of trained.B.values()) for (const v of b) maxB = Math.max(maxB, Math.abs(v));
    expect(maxB).toBeGreaterThan(0);
    expect(trained.targets).toEqual([...PROJECTIONS]);
  });

  it('every format reads back exactly in f32 and within f16 rounding in f16, and imports as a PEFT adapter', async () => {
    for (const dtype of ['f32', 'f16'] as const) {
      const out = join(work, `bundle-${dtype}`);
      await exportRun({ runDir, formats: ['peft', 'gguf', 'mlx', 'onnx'], outDir: out, dtype });
      const rd = (f: string): Uint8Array => new Uint8Array(readFileSync(join(out, f)));
      const txt = (f: string): string => readFileSync(join(out, f), 'utf8');
      const f16 = dtype === 'f16';
      expectAdapter(readPeft(txt('peft/adapter_config.json'), rd('peft/adapter_model.safetensors'), { config: 'c', weights: 'w' }), trained, f16);
      expectAdapter(readGgufLora(rd('gguf/adapter.gguf'), 'adapter.gguf'), trained, f16);
      expectAdapter(readMlx(txt('mlx/adapter_config.json'), rd('mlx/adapters.safetensors'), { config: 'c', weights: 'w' }), trained, f16);
      for (const [from, name] of [['peft', 'peft'], ['gguf/adapter.gguf', 'gguf'], ['mlx', 'mlx']] as const) {
        const dest = join(work, `init-${dtype}-${name}`);
        await importAdapter({ from: join(out, from), outDir: dest, modelDir });
        const c = join(dest, 'adapter_config.json');
        const w = join(dest, 'adapter_model.safetensors');
        expectAdapter(readPeft(readFileSync(c, 'utf8'), new Uint8Array(readFileSync(w)), { config: c, weights: w }), trained, f16);
      }
    }
    // an imported adapter continues training: `mesp train --init-adapter` starts from exactly its values
    const losses: number[] = [];
    await runTrain(
      { modelDir, dataPath: join(work, 'data.jsonl'), outDir: join(work, 'run-continued'), initAdapter: join(work, 'init-f32-gguf'), steps: 1, batch: 2, seqLen: 48, rank: 4, alpha: 8, targets: [...PROJECTIONS], lr: 0.05, seed: 3 },
      {},
      (e) => {
        if (e.type === 'step') losses.push(e.loss);
      },
    );
    expect(losses.length).toBe(1);
  }, 300_000);

  it('the merged ONNX model in onnxruntime-web matches our engine\'s logits with the adapter within 1e-4 relative (f32)', async () => {
    const folder = openModelFolder(modelDir);
    const tok = loadTokenizer(modelDir)!;
    const ids = tok.encode('Question: What is the capital of France?\nAnswer: Paris.', { addSpecialTokens: false });
    expect(ids.length).toBeGreaterThan(8);
    const T = ids.length;
    const V = folder.config.vocab;

    const ctx = await gpu();
    const model = loadModelWeights(ctx, folder.config, 'none', (n) => folder.read(n));
    const lora = uploadAdapter(ctx, folder.config, trained);
    const inputIds = Int32Array.from(ids);
    const logits = await forwardLogits(ctx, model, lora, { B: 1, T, inputIds }, 5); // 5 tokens per head chunk
    // forwardLogits against the engine's loss path: nll[t] = logsumexp(logits[t]) − logits[t, ids[t+1]]
    const targets = Int32Array.from(ids.map((_, t) => (t + 1 < T ? ids[t + 1] : -100)));
    const nll = await forwardNll(ctx, model, lora, { B: 1, T, inputIds, targets });
    for (let t = 0; t + 1 < T; t++) {
      const row = logits.subarray(t * V, (t + 1) * V);
      const mx = row.reduce((a, b) => Math.max(a, b), -Infinity);
      const lse = mx + Math.log(row.reduce((s, v) => s + Math.exp(v - mx), 0));
      expect(Math.abs(lse - row[targets[t]] - nll[t]), `t ${t}`).toBeLessThan(1e-4);
    }
    freeAdapter(ctx, lora);
    freeModelWeights(ctx, model);

    const f32 = await ortLogits(new Uint8Array(readFileSync(join(work, 'bundle-f32', 'onnx', 'model.onnx'))), [ids]);
    expect([...f32.dims]).toEqual([1, T, V]);
    const r = report('merged ONNX (f32, onnxruntime-web wasm) vs forwardLogits', f32.logits, logits);
    expect(r.maxRel).toBeLessThan(1e-4);
    const f16 = await ortLogits(new Uint8Array(readFileSync(join(work, 'bundle-f16', 'onnx', 'model.onnx'))), [ids]);
    expect(report('merged ONNX (f16 weights) vs forwardLogits', f16.logits, logits).maxRel).toBeLessThan(1e-2);
  }, 300_000);
});

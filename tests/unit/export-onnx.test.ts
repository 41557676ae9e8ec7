// The merged ONNX export (core/export/onnx.ts) checked independently on the CPU: onnxruntime-web's wasm backend runs
// the graph, and its logits must match the float64 Qwen2 reference (tests/helpers/ref64.ts) run with the adapter
// UNMERGED (y = x·Wᵀ + s·(x·Aᵀ)·Bᵀ), so merging, RoPE, GQA, the mask, RMSNorm, SwiGLU and the head are all checked.
// The GPU test (tests/gpu/export-roundtrip.test.ts) compares with our engine's forwardLogits as well.
import { afterAll, describe, expect, it } from 'vitest';
import onnxProto from 'onnx-proto';
import { buildMergedOnnx, mergeLoraWeight, onnxWeightBytes } from '../../core/export/onnx';
import { parseQwen2Config } from '../../core/model/config';
import { ref64, type Ref64Lora } from '../helpers/ref64';
import { randomAdapter } from '../helpers/runfolder';
import { makeTinyModel, tokenRows, type TinyModel } from '../helpers/tiny';
import { ortLogits } from '../helpers/ort';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const { onnx } = onnxProto;
const models: TinyModel[] = [];
afterAll(() => models.forEach((m) => m.cleanup()));

function setup(opts: Parameters<typeof makeTinyModel>[0] = {}) {
  const m = makeTinyModel(opts);
  models.push(m);
  const cfg = parseQwen2Config(JSON.parse(readFileSync(join(m.dir, 'config.json'), 'utf8')), 'config.json');
  const adapter = randomAdapter(cfg, { rank: 4, alpha: 8, targets: ['q', 'k', 'v', 'o', 'gate', 'up', 'down'], seed: 5, scale: 0.2 });
  const read = (name: string): Float32Array => {
    const w = m.weights.get(name);
    if (!w) throw new Error(`no ${name}`);
    return w;
  };
  const lora: Ref64Lora = {
    rank: adapter.rank, alpha: adapter.alpha,
    A: new Map([...adapter.A].map(([k, v]) => [k, Float64Array.from(v)])),
    B: new Map([...adapter.B].map(([k, v]) => [k, Float64Array.from(v)])),
  };
  return { m, cfg, adapter, read, lora };
}

function relDiff(got: ArrayLike<number>, want: ArrayLike<number>): number {
  let scale = 0;
  let d = 0;
  for (let i = 0; i < want.length; i++) {
    scale = Math.max(scale, Math.abs(want[i]));
    d = Math.max(d, Math.abs(got[i] - want[i]));
  }
  return d / scale;
}

describe('merged ONNX export', () => {
  it('merges W + (alpha/r)·B·A exactly as the definition', () => {
    const W = Float32Array.from([1, 2, 3, 4, 5, 6]); // (2, 3)
    const A = Float32Array.from([1, 0, -1]); // (1, 3)
    const B = Float32Array.from([2, -1]); // (2, 1)
    expect([...mergeLoraWeight(W, A, B, 2, 3, 1, 0.5)]).toEqual([2, 2, 2, 3.5, 5, 6.5]);
  });

  it('is a valid opset-17 model of standard ops, input_ids → logits', () => {
    const { cfg, adapter, read } = setup();
    const { model, external } = buildMergedOnnx(cfg, adapter, read, { dtype: 'f32', baseModel: 'tiny' });
    expect(external).toBeNull();
    const m = onnx.ModelProto.decode(model);
    const graph = m.graph as onnxProto.onnx.GraphProto;
    expect(Number(m.irVersion)).toBe(8);
    expect(m.opsetImport.map((o) => [o.domain, Number(o.version)])).toEqual([['', 17]]);
    const ops = new Set(graph.node.map((n) => n.opType));
    const standard = ['Cast', 'Shape', 'Gather', 'Range', 'Unsqueeze', 'Mul', 'Concat', 'Cos', 'Sin', 'Greater', 'Where', 'Reshape',
      'ReduceMean', 'Add', 'Sqrt', 'Reciprocal', 'Gemm', 'Transpose', 'Split', 'Neg', 'MatMul', 'Softmax', 'Sigmoid'];
    for (const op of ops) expect(standard, `op ${op}`).toContain(op);
    expect(graph.node.every((n) => !n.domain)).toBe(true);
    expect(graph.input.map((i) => i.name)).toEqual(['input_ids']);
    expect(graph.output.map((o) => o.name)).toEqual(['logits']);
    expect((graph.input[0].type as onnxProto.onnx.TypeProto).tensorType!.elemType).toBe(onnx.TensorProto.DataType.INT64);
    const init = new Map(graph.initializer.map((t) => [t.name, t as onnxProto.onnx.TensorProto]));
    expect(init.get('model.layers.0.self_attn.q_proj.weight')!.dims.map(Number)).toEqual([64, 64]);
    expect(init.get('model.layers.1.mlp.down_proj.weight')!.dims.map(Number)).toEqual([64, 128]);
    expect(init.has('lm_head.weight')).toBe(false); // tied: the head reuses the embedding
    const sizes = graph.initializer.filter((t) => !t.name!.startsWith('const.') && !t.name!.startsWith('rope.')).reduce((s, t) => s + t.rawData!.length, 0);
    expect(sizes).toBe(onnxWeightBytes(cfg, 'f32'));
  });

  it('onnxruntime-web (wasm) gives the float64 reference logits within 1e-4 relative (f32)', async () => {
    const { m, cfg, adapter, read, lora } = setup();
    const [row] = tokenRows(cfg.vocab, [12], 9);
    const want = ref64(m.cfg, m.weights, row.ids, row.targets, 1, 12, lora).logits; // (T, V)
    const { model } = buildMergedOnnx(cfg, adapter, read, { dtype: 'f32' });
    const { logits, dims } = await ortLogits(model, [row.ids]);
    expect([...dims]).toEqual([1, 12, cfg.vocab]);
    const rel = relDiff(logits, want);
    console.log(`[max diff] ONNX f32 vs ref64: rel ${rel.toExponential(3)}`);
    expect(rel).toBeLessThan(1e-4);
    // the adapter matters: the base model's logits are far from these
    const base = ref64(m.cfg, m.weights, row.ids, row.targets, 1, 12, null).logits;
    expect(relDiff(base, want)).toBeGreaterThan(1e-2);
  }, 120_000);

  it('runs batches (B = 2), an untied head, and weights in an external data file', async () => {
    const { m, cfg, adapter, read, lora } = setup({ tied: false, seed: 3 });
    const rows = tokenRows(cfg.vocab, [7, 7], 4);
    const { model, external } = buildMergedOnnx(cfg, adapter, read, { dtype: 'f32', externalData: true, externalDataName: 'model.onnx.data' });
    expect(external).not.toBeNull();
    const chunks: Uint8Array[] = [];
    external!.write((c) => chunks.push(c.slice()));
    const data = new Uint8Array(chunks.reduce((s, c) => s + c.length, 0));
    let at = 0;
    for (const c of chunks) {
      data.set(c, at);
      at += c.length;
    }
    expect(data.length).toBe(external!.bytes);
    expect(model.length).toBeLessThan(64 * 1024); // the graph alone
    const { logits, dims } = await ortLogits(model, rows.map((r) => r.ids), [{ path: 'model.onnx.data', data }]);
    expect([...dims]).toEqual([2, 7, cfg.vocab]);
    const want = ref64(m.cfg, m.weights, rows.flatMap((r) => r.ids), rows.flatMap((r) => r.targets), 2, 7, lora).logits;
    const rel = relDiff(logits, want);
    console.log(`[max diff] ONNX f32 external, B=2, untied vs ref64: rel ${rel.toExponential(3)}`);
    expect(rel).toBeLessThan(1e-4);
  }, 120_000);

  it('f16 weights halve the matrices and stay within f16 rounding of the reference', async () => {
    const { m, cfg, adapter, read, lora } = setup();
    const [row] = tokenRows(cfg.vocab, [10], 2);
    const f32 = buildMergedOnnx(cfg, adapter, read, { dtype: 'f32' }).model;
    const f16 = buildMergedOnnx(cfg, adapter, read, { dtype: 'f16' }).model;
    expect(f16.length).toBeLessThan(f32.length * 0.55);
    const dec = onnx.ModelProto.decode(f16);
    const dgraph = dec.graph as onnxProto.onnx.GraphProto;
    const q = dgraph.initializer.find((t) => t.name === 'model.layers.0.self_attn.q_proj.weight')!;
    expect(q.dataType).toBe(onnx.TensorProto.DataType.FLOAT16);
    const norm = dgraph.initializer.find((t) => t.name === 'model.norm.weight')!;
    expect(norm.dataType).toBe(onnx.TensorProto.DataType.FLOAT);
    const want = ref64(m.cfg, m.weights, row.ids, row.targets, 1, 10, lora).logits;
    const { logits } = await ortLogits(f16, [row.ids]);
    const rel = relDiff(logits, want);
    console.log(`[max diff] ONNX f16 weights vs ref64: rel ${rel.toExponential(3)}`);
    expect(rel).toBeLessThan(1e-2);
  }, 120_000);
});

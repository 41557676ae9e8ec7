// `mesp grads` writes one row's exact LoRA gradients under PEFT key names, equal to the float64 reference; its
// --compare table shows the exact methods agreeing; gradient-norm clipping scales the update by clip/‖g‖.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseSafetensors, readTensorF32 } from '../../core/common/safetensors';
import { peftKey, writePeft } from '../../core/export/peft';
import { loadModelWeights, PROJECTIONS } from '../../core/model/weights';
import { openModelFolder } from '../../core/node/modelfiles';
import { DeferredSink, DEFAULT_OPTIMIZER, Optimizer } from '../../core/train/optimizer';
import { exactStep } from '../../core/train/methods';
import { downloadAdapter, initHostAdapter, uploadAdapter, type HostAdapter } from '../../core/train/lora';
import { maxRelDiff } from '../../core/train/grads';
import { gpu } from '../helpers/gpu';
import { refGrads, toRef64 } from '../helpers/lora';
import { ref64 } from '../helpers/ref64';
import { makeTinyModel, tokenRows } from '../helpers/tiny';

const m = makeTinyModel({ seed: 71 });
afterAll(() => m.cleanup());
const cfg = openModelFolder(m.dir).config;
const adapter = initHostAdapter(cfg, { rank: 4, alpha: 8, targets: [...PROJECTIONS], seed: 4 });
let s = 5;
for (const b of adapter.B.values()) for (let i = 0; i < b.length; i++) b[i] = ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 4294967296 - 0.5) * 0.1;
const adapterDir = join(m.dir, 'adapter');
mkdirSync(adapterDir);
const peft = writePeft(adapter, 'tiny', 'f32');
writeFileSync(join(adapterDir, 'adapter_config.json'), peft.config);
writeFileSync(join(adapterDir, 'adapter_model.safetensors'), peft.weights);
const rows = tokenRows(cfg.vocab, [11, 17, 9], 8);
const data = join(m.dir, 'rows.jsonl');
writeFileSync(data, rows.map((r) => JSON.stringify({ input_ids: r.ids })).join('\n') + '\n');

describe('mesp grads', () => {
  it('--method mesp --row 1 writes the row\'s gradients under PEFT keys, equal to the float64 reference', () => {
    const out = join(m.dir, 'g.safetensors');
    execFileSync(process.execPath, ['bin/mesp.js', 'grads', '--model', m.dir, '--data', data, '--adapter', adapterDir, '--method', 'mesp', '--row', '1', '--out', out]);
    const bytes = new Uint8Array(readFileSync(out));
    const st = parseSafetensors(bytes, out);
    expect(st.tensors.size).toBe(cfg.layers * PROJECTIONS.length * 2);
    const want = ref64(m.cfg, m.weights, rows[1].ids, rows[1].targets, 1, rows[1].ids.length, toRef64(adapter), true);
    const got: HostAdapter = { ...adapter, A: new Map(), B: new Map() };
    for (let l = 0; l < cfg.layers; l++) {
      for (const p of PROJECTIONS) {
        const a = st.tensors.get(peftKey(l, p, 'A'))!;
        const b = st.tensors.get(peftKey(l, p, 'B'))!;
        expect(a.shape[0], `l ${l} p ${p}`).toBe(4);
        expect(b.shape[1], `l ${l} p ${p}`).toBe(4);
        got.A.set(`${l}.${p}`, readTensorF32(bytes, a, out));
        got.B.set(`${l}.${p}`, readTensorF32(bytes, b, out));
      }
    }
    const rel = maxRelDiff(got, refGrads(got, want));
    console.log(`[max diff] mesp grads --row 1 vs float64: rel ${rel.toExponential(3)}`);
    expect(rel).toBeLessThan(1e-4);
  });

  it('--compare prints the exact methods agreeing exactly and MeZO\'s cosine against 0.8/√d', () => {
    const out = execFileSync(process.execPath, ['bin/mesp.js', 'grads', '--model', m.dir, '--data', data, '--adapter', adapterDir, '--compare', 'full,mebp,mesp,mezo', '--samples', '8'], { encoding: 'utf8' });
    console.log(out);
    expect(out).toMatch(/\| mebp +\| [\d.]+ +\| 0\.00e\+0/);
    expect(out).toMatch(/\| mesp +\| [\d.]+ +\| 0\.00e\+0/);
    expect(out).toMatch(/\| mezo .*\(8 samples\) \| 0\.\d+/);
  });
});

describe('gradient-norm clipping', () => {
  it('scales every gradient by clip/‖g‖ before the update when ‖g‖ > clip', async () => {
    const ctx = await gpu();
    const folder = openModelFolder(m.dir);
    const model = loadModelWeights(ctx, folder.config, 'none', (n) => folder.read(n));
    const lora = uploadAdapter(ctx, cfg, adapter);
    const batch = { B: 1, T: rows[0].ids.length, inputIds: Int32Array.from(rows[0].ids), targets: Int32Array.from(rows[0].targets) };
    const want = refGrads(adapter, ref64(m.cfg, m.weights, rows[0].ids, rows[0].targets, 1, batch.T, toRef64(adapter), true));
    let norm = 0;
    for (const v of [...want.A.values(), ...want.B.values()]) for (const x of v) norm += x * x;
    norm = Math.sqrt(norm);
    const clip = norm / 4;
    const opt = new Optimizer(ctx, lora, { ...DEFAULT_OPTIMIZER, kind: 'sgd', lr: 1, clipNorm: clip });
    opt.begin(0);
    const sink = new DeferredSink(ctx);
    await exactStep({ ctx, model, lora, grads: sink }, batch, { method: 'mesp' });
    const measured = await sink.apply(opt);
    const after = await downloadAdapter(ctx, lora);
    const moved: HostAdapter = { ...adapter, A: new Map(), B: new Map() };
    const coef = clip / (norm + 1e-6);
    for (const [k, a0] of adapter.A) moved.A.set(k, a0.map((v, i) => (v - after.A.get(k)![i]) / coef));
    for (const [k, b0] of adapter.B) moved.B.set(k, b0.map((v, i) => (v - after.B.get(k)![i]) / coef));
    console.log(`[clip] ‖g‖ = ${norm.toFixed(6)} (engine ${measured?.toFixed(6)}), clipped to ${clip.toFixed(6)}`);
    expect(Math.abs(measured! - norm) / norm).toBeLessThan(1e-4);
    expect(maxRelDiff(moved, want)).toBeLessThan(1e-4);
  });
});

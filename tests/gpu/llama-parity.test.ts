// Deployment parity in the runtimes themselves, on the tiny tied and untied models with a non-zero LoRA adapter:
// - llama.cpp (node-llama-cpp's prebuilt CPU build; F32 KV cache, no flash attention), fed token ids: our GGUF base +
//   our GGUF LoRA, and our merged GGUF, give per-row losses within 1e-5 relative of `mesp eval` (runEval: our engine,
//   f32, LoRA unmerged) in f32, and within the bounds of VS_EVAL below in f16, q8_0 and q4_0, printed;
// - the parity `mesp export` records in manifest.json is measured, and passes PARITY_BOUNDS: llama.cpp against our
//   engine on the very weights of each file, dequantized (what is left is llama.cpp's activation rounding), which for
//   q4_0 is far closer than the f32 model is (so llama.cpp reads our blocks as our dequantizer does);
// - onnxruntime-node runs the merged ONNX to the engine's losses.
// One llama.cpp instance for the file.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PARITY_BOUNDS, type GgufType } from '../../core/api/export';
import { makeBatch } from '../../core/data/batching';
import { demoDatasetJsonl } from '../../core/model/demo';
import { exportRun } from '../../core/node/export';
import { closeLlama, llamaRowLosses, openLlama, type LlamaRuntime, type TokenRow } from '../../core/node/llama';
import { loadDataset, loadTokenizer } from '../../core/node/loaders';
import { openModelFolder } from '../../core/node/modelfiles';
import { runEval } from '../../core/node/service/eval';
import { makeRunFolder, randomAdapter, type RunFolder } from '../helpers/runfolder';
import { makeTinyModel, type TinyModel } from '../helpers/tiny';

/**
 * llama.cpp against `mesp eval` in f32 (the trained model), by the GGUF type of the model: f32 is the same
 * arithmetic; f16 and the block types add the weights' rounding (and llama.cpp's F16 / Q8_0 activations). The
 * quantized bounds hold for these random tiny models (weights of std 0.15, a LoRA of ±0.2); real checkpoints move less.
 */
const VS_EVAL: Record<GgufType, number> = { f32: 1e-5, f16: 1e-3, q8_0: 1e-2, q4_0: 0.1 };
const SEQ = 64;

const work = mkdtempSync(join(tmpdir(), 'mesp-llama-parity-'));
const cleanups: (() => void)[] = [() => rmSync(work, { recursive: true, force: true })];
let rt: LlamaRuntime;

interface Case {
  name: string;
  model: TinyModel;
  run: RunFolder;
  data: string;
  rows: TokenRow[];
  /** `mesp eval` with the run's adapter: per-row mean losses. */
  evalLoss: number[];
}
const cases: Case[] = [];

beforeAll(async () => {
  const r = await openLlama();
  if ('unavailable' in r) throw new Error(r.unavailable); // a dependency of the project: fail, do not skip
  rt = r;
  for (const tied of [true, false]) {
    const model = makeTinyModel({ tokenizer: true, tokenizerVocab: 1024, tied });
    const cfg = openModelFolder(model.dir).config;
    const adapter = randomAdapter(cfg, { rank: 4, alpha: 8, targets: ['q', 'k', 'v', 'o', 'gate', 'up', 'down'], seed: 13, scale: 0.2 });
    const run = makeRunFolder(model.dir, adapter, { seqLen: SEQ });
    const data = join(run.dir, 'data.jsonl');
    writeFileSync(data, demoDatasetJsonl('messages').split('\n').slice(0, 6).join('\n') + '\n');
    const ev = await runEval({ modelDir: model.dir, dataPath: data, adapterDir: join(run.dir, 'adapter'), seqLen: SEQ });
    const examples = loadDataset(data, loadTokenizer(model.dir), { seqLen: SEQ, vocabSize: cfg.vocab });
    const rows = examples.map((e) => {
      const b = makeBatch([e]);
      return { ids: Array.from(b.inputIds), targets: Array.from(b.targets) };
    });
    expect(ev.rows.map((x) => x.line)).toEqual(examples.map((e) => e.line));
    cleanups.push(model.cleanup, run.cleanup);
    cases.push({ name: tied ? 'tied' : 'untied', model, run, data, rows, evalLoss: ev.rows.map((x) => x.loss) });
  }
}, 300_000);
afterAll(async () => {
  await closeLlama();
  cleanups.forEach((c) => c());
});

const rel = (a: number, b: number): number => Math.abs(a - b) / Math.abs(b);
const maxRel = (got: readonly { loss: number }[], want: readonly number[]): number => Math.max(...want.map((w, i) => rel(got[i].loss, w)));

describe('our GGUF files in llama.cpp against `mesp eval`', () => {
  for (const type of ['f32', 'f16', 'q8_0', 'q4_0'] as const) {
    it(`${type}: base + LoRA and merged give mesp eval's per-row losses within ${VS_EVAL[type]} relative; the manifest's parity passes`, async () => {
      for (const c of cases) {
        const out = join(work, `${c.name}-${type}`);
        const r = await exportRun({ runDir: c.run.dir, formats: ['gguf', 'gguf-base', 'gguf-merged'], outDir: out, ggufType: type, parityRows: 4 });
        const lora = await llamaRowLosses(rt, { model: join(out, 'gguf/base.gguf'), lora: { path: join(out, 'gguf/adapter.gguf') } }, c.rows);
        const merged = await llamaRowLosses(rt, { model: join(out, 'gguf/merged.gguf') }, c.rows);
        const dLora = maxRel(lora, c.evalLoss);
        const dMerged = maxRel(merged, c.evalLoss);
        console.log(`[max diff] llama.cpp ${type} vs mesp eval f32, ${c.name}, ${c.rows.length} rows: base+LoRA ${dLora.toExponential(2)}, merged ${dMerged.toExponential(2)} (bound ${VS_EVAL[type]})`);
        expect(dLora, `${c.name} base+LoRA`).toBeLessThan(VS_EVAL[type]);
        expect(dMerged, `${c.name} merged`).toBeLessThan(VS_EVAL[type]);
        expect(lora.map((x) => x.tokens)).toEqual(c.rows.map((row) => row.targets.filter((y, t) => y !== -100 && t + 1 < row.ids.length).length));

        const p = r.manifest.parity!;
        expect([p.status, p.reason, p.data]).toEqual(['measured', null, { file: 'data.jsonl', split: 'train', rows: 4 }]);
        expect(p.checks.map((k) => k.files)).toEqual([['gguf/base.gguf', 'gguf/adapter.gguf'], ['gguf/merged.gguf']]);
        for (const k of p.checks) {
          console.log(`[max diff] manifest parity ${c.name} ${k.files.join('+')} (${type}): vs our engine on the file's weights ${k.maxRelDiff.toExponential(2)} (bound ${k.bound}), vs the f32 model ${k.maxRelDiffVsF32.toExponential(2)}`);
          expect([k.modelType, k.bound, k.pass]).toEqual([type, PARITY_BOUNDS[type], true]);
          // the manifest's rows are the first four of the data, and its runtime losses are the ones measured here
          k.rows.forEach((row, i) => expect(rel(row.runtime, (k.files.length === 2 ? lora : merged)[i].loss), `row ${i}`).toBeLessThan(1e-9));
          if (type === 'f32') expect(k.maxRelDiffVsF32).toBeLessThan(1e-5);
          if (type === 'q4_0') expect(k.maxRelDiff * 4).toBeLessThan(k.maxRelDiffVsF32); // llama.cpp computes what the file holds
        }
      }
    }, 300_000);
  }

  it('an f16 and a bf16 adapter on the f32 base: the manifest\'s parity passes the adapter dtype\'s bound', async () => {
    const c = cases[0];
    for (const dtype of ['f16', 'bf16'] as const) {
      const r = await exportRun({ runDir: c.run.dir, formats: ['gguf', 'gguf-base'], outDir: join(work, `adapter-${dtype}`), ggufType: 'f32', dtype, parityRows: 4 });
      const [k] = r.manifest.parity!.checks;
      console.log(`[max diff] manifest parity f32 base + ${dtype} adapter: ${k.maxRelDiff.toExponential(2)} (bound ${k.bound}), vs the f32 model ${k.maxRelDiffVsF32.toExponential(2)}`);
      expect([k.adapterDType, k.bound, k.pass]).toEqual([dtype, PARITY_BOUNDS[dtype], true]);
    }
  }, 300_000);
});

describe('the merged ONNX in onnxruntime-node', () => {
  it('gives mesp eval\'s per-row losses within 1e-5 relative (f32)', async () => {
    for (const c of cases) {
      const out = join(work, `${c.name}-onnx`);
      await exportRun({ runDir: c.run.dir, formats: ['onnx'], outDir: out, parityRows: 0 });
      const session = await ort.InferenceSession.create(readFileSync(join(out, 'onnx/model.onnx')), { executionProviders: ['cpu'], intraOpNumThreads: 1 });
      try {
        const losses: number[] = [];
        for (const row of c.rows) {
          const T = row.ids.length;
          const res = await session.run({ input_ids: new ort.Tensor('int64', BigInt64Array.from(row.ids.map(BigInt)), [1, T]) });
          const logits = res.logits.data as Float32Array; // (1, T, V)
          const V = logits.length / T;
          let s = 0;
          let n = 0;
          row.targets.forEach((y, t) => {
            if (y === -100) return;
            const l = logits.subarray(t * V, (t + 1) * V);
            const mx = l.reduce((a, b) => Math.max(a, b), -Infinity);
            s += mx + Math.log(l.reduce((a, b) => a + Math.exp(b - mx), 0)) - l[y];
            n++;
          });
          losses.push(s / n);
        }
        const d = Math.max(...losses.map((l, i) => rel(l, c.evalLoss[i])));
        console.log(`[max diff] onnxruntime-node merged ONNX vs mesp eval f32, ${c.name}: ${d.toExponential(2)}`);
        expect(d).toBeLessThan(1e-5);
      } finally {
        await session.release();
      }
    }
  }, 300_000);
});

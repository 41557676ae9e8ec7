// End-to-end checks of the Qwen2 forward and loss: `mesp eval` on tiny HF models written by the test agrees
// with the independent float64 reference (tests/helpers/ref64.ts) within 1e-4 relative — f32 tied (vocab 1024),
// f32 untied (vocab 4096), bf16 — and int8/int4 land within the expected quantization error.
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { dequantizeRows, quantizeRows } from '../../core/common/quant';
import { runEval } from '../../core/node/service/eval';
import { ref64 } from '../helpers/ref64';
import { makeTinyModel, tokenRows, type TinyModel } from '../helpers/tiny';

const made: TinyModel[] = [];
afterAll(() => made.forEach((m) => m.cleanup()));

function withData(m: TinyModel, lengths: number[]): { file: string; rows: { ids: number[]; targets: number[] }[] } {
  const rows = tokenRows(m.cfg.vocab, lengths, 17);
  const file = join(m.dir, 'data.jsonl');
  writeFileSync(file, rows.map((r) => JSON.stringify({ input_ids: r.ids })).join('\n') + '\n');
  return { file, rows };
}

function refMeanLoss(m: TinyModel, rows: { ids: number[]; targets: number[] }[], weights = m.weights): number {
  const losses = rows.map((r) => ref64(m.cfg, weights, r.ids, r.targets, 1, r.ids.length).loss);
  return losses.reduce((a, b) => a + b, 0) / losses.length;
}

/** The model's weights as the engine holds them under a quantization: every matrix through quantize/dequantize. */
function quantizedWeights(m: TinyModel, bits: 4 | 8): Map<string, Float32Array> {
  const out = new Map<string, Float32Array>();
  for (const [name, w] of m.weights) {
    const isMatrix = name.endsWith('_proj.weight') || name === 'model.embed_tokens.weight' || name === 'lm_head.weight';
    if (!isMatrix) {
      out.set(name, w);
      continue;
    }
    const cols = name.includes('down_proj') ? m.cfg.intermediate : m.cfg.hidden;
    out.set(name, dequantizeRows(quantizeRows(w, w.length / cols, cols, bits)));
  }
  return out;
}

describe('mesp eval vs the float64 reference', () => {
  it('f32, tied head, vocab 1024 — through the `mesp eval --json` command', async () => {
    const m = makeTinyModel();
    made.push(m);
    const { file, rows } = withData(m, [9, 16, 23]);
    const out = execFileSync(process.execPath, ['bin/mesp.js', 'eval', '--model', m.dir, '--data', file, '--json'], { encoding: 'utf8' });
    const r = JSON.parse(out) as { rows: { loss: number }[]; meanLoss: number; peakBytes: Record<string, number> };
    const want = refMeanLoss(m, rows);
    const rel = Math.abs(r.meanLoss - want) / want;
    console.log(`[max diff] eval f32 tied: engine ${r.meanLoss.toFixed(7)} vs float64 ${want.toFixed(7)}, rel ${rel.toExponential(3)}`);
    expect(rel).toBeLessThan(1e-4);
    expect(Math.abs(want - Math.log(m.cfg.vocab))).toBeGreaterThan(0.05); // the model is far from uniform: the check bites
    rows.forEach((row, i) => {
      const w = ref64(m.cfg, m.weights, row.ids, row.targets, 1, row.ids.length).loss;
      expect(Math.abs(r.rows[i].loss - w) / w, `row ${row} i ${i}`).toBeLessThan(1e-4);
    });
    expect(Object.keys(r.peakBytes).sort()).toEqual(['activations', 'adapter', 'grads', 'kvcache', 'optimizer', 'total', 'weights', 'workspace']);
  });

  it('f32, untied head, vocab 4096', async () => {
    const m = makeTinyModel({ tied: false, vocab: 4096, seed: 9 });
    made.push(m);
    const { file, rows } = withData(m, [12, 20]);
    const r = await runEval({ modelDir: m.dir, dataPath: file });
    const want = refMeanLoss(m, rows);
    const rel = Math.abs(r.meanLoss - want) / want;
    console.log(`[max diff] eval f32 untied V4096: engine ${r.meanLoss.toFixed(7)} vs float64 ${want.toFixed(7)}, rel ${rel.toExponential(3)}`);
    expect(rel).toBeLessThan(1e-4);
  });

  it('bf16 weights (and two shards)', async () => {
    const m = makeTinyModel({ dtype: 'BF16', seed: 11, shards: 2 });
    made.push(m);
    const { file, rows } = withData(m, [15, 7]);
    const r = await runEval({ modelDir: m.dir, dataPath: file });
    const want = refMeanLoss(m, rows); // the reference reads the same bf16 values
    const rel = Math.abs(r.meanLoss - want) / want;
    console.log(`[max diff] eval bf16: engine ${r.meanLoss.toFixed(7)} vs float64 ${want.toFixed(7)}, rel ${rel.toExponential(3)}`);
    expect(rel).toBeLessThan(1e-4);
  });

  it('int8 and int4 are within the expected quantization error; int4 weights take ≈4.5 bits per parameter', async () => {
    const m = makeTinyModel({ seed: 13, hidden: 128, intermediate: 256 });
    made.push(m);
    const { file, rows } = withData(m, [14, 21]);
    const f32 = await runEval({ modelDir: m.dir, dataPath: file });
    for (const [quant, bits] of [['int8', 8], ['int4', 4]] as const) {
      const r = await runEval({ modelDir: m.dir, dataPath: file, quant });
      // The expected error: the float64 loss with exactly the weights the engine dequantizes, against f32.
      const wantQ = refMeanLoss(m, rows, quantizedWeights(m, bits));
      const quantErr = Math.abs(wantQ - f32.meanLoss);
      const engineErr = Math.abs(r.meanLoss - wantQ) / wantQ;
      console.log(`[max diff] eval ${quant}: loss ${r.meanLoss.toFixed(6)} vs f32 ${f32.meanLoss.toFixed(6)}: quantization error ${quantErr.toExponential(3)}; engine vs float64 on the dequantized weights rel ${engineErr.toExponential(3)}`);
      expect(engineErr, `quant ${quant}`).toBeLessThan(1e-4);
      expect(Math.abs(r.meanLoss - f32.meanLoss), `quant ${quant}`).toBeLessThan(quantErr + 1e-4 * wantQ);
      // Weights in the ledger: matrices at bits + 0.5 bits per parameter, norms and biases in f32.
      let matrixParams = 0;
      let otherParams = 0;
      for (const [name, w] of m.weights) {
        if (name.endsWith('_proj.weight') || name === 'model.embed_tokens.weight') matrixParams += w.length;
        else if (name !== 'lm_head.weight') otherParams += w.length;
      }
      const matrixBits = ((r.peakBytes.weights - otherParams * 4) * 8) / matrixParams;
      console.log(`${quant}: ${matrixBits.toFixed(3)} bits per matrix parameter (${r.peakBytes.weights} weight bytes)`);
      expect(matrixBits, `quant ${quant}`).toBeCloseTo(bits + 0.5, 6);
    }
  });
});

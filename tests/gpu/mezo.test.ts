// MeZO: over 64 samples, `mesp grads --method mezo` reports a mean cosine with the exact gradient within a
// factor of 2 of 0.8/√d, and a MeZO run still lowers the loss on an easy task given enough steps.
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { RunEvent } from '../../core/api/train';
import { writePeft } from '../../core/export/peft';
import { PROJECTIONS } from '../../core/model/weights';
import { openModelFolder } from '../../core/node/modelfiles';
import { runTrain } from '../../core/node/service/train';
import { initHostAdapter } from '../../core/train/lora';
import { makeTinyModel, tokenRows } from '../helpers/tiny';

const m = makeTinyModel({ seed: 41 });
afterAll(() => m.cleanup());

describe('MeZO', () => {
  it('64 samples: mean cosine with the exact gradient within a factor of 2 of 0.8/√d (mesp grads --json)', () => {
    const cfg = openModelFolder(m.dir).config;
    const a = initHostAdapter(cfg, { rank: 4, alpha: 8, targets: [...PROJECTIONS], seed: 3 });
    let s = 77;
    for (const b of a.B.values()) for (let i = 0; i < b.length; i++) b[i] = ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 4294967296 - 0.5) * 0.1;
    const dir = join(m.dir, 'adapter');
    mkdirSync(dir);
    const peft = writePeft(a, 'tiny', 'f32');
    writeFileSync(join(dir, 'adapter_config.json'), peft.config);
    writeFileSync(join(dir, 'adapter_model.safetensors'), peft.weights);
    const data = join(m.dir, 'rows.jsonl');
    writeFileSync(data, tokenRows(cfg.vocab, [24, 18], 5).map((r) => JSON.stringify({ input_ids: r.ids })).join('\n') + '\n');
    const out = execFileSync(process.execPath, [
      'bin/mesp.js', 'grads', '--model', m.dir, '--data', data, '--adapter', dir, '--method', 'mezo', '--samples', '64',
      '--out', join(m.dir, 'ghat.safetensors'), '--json',
    ], { encoding: 'utf8' });
    const r = JSON.parse(out) as { cosines: number[]; meanCosine: number; expected: number; d: number };
    console.log(`[mezo] d = ${r.d}: mean cosine ${r.meanCosine.toExponential(3)} over ${r.cosines.length} samples, expected 0.8/√d = ${r.expected.toExponential(3)}`);
    expect(r.cosines).toHaveLength(64);
    expect(r.expected).toBeCloseTo(0.8 / Math.sqrt(r.d), 12);
    expect(r.meanCosine).toBeGreaterThan(r.expected / 2);
    expect(r.meanCosine).toBeLessThan(r.expected * 2);
  });

  it('a MeZO run lowers the loss on an easy task', async () => {
    const data = join(m.dir, 'easy.jsonl');
    writeFileSync(data, Array.from({ length: 16 }, () => JSON.stringify({ input_ids: [5, 6, 7, 8, 5, 6, 7, 8, 5, 6, 7, 8, 5, 6, 7, 8] })).join('\n') + '\n');
    const losses: number[] = [];
    await runTrain(
      { modelDir: m.dir, dataPath: data, outDir: join(m.dir, 'mezo-run'), method: 'mezo', steps: 300, lr: 3e-2, rank: 4, targets: [...PROJECTIONS], mezoEps: 1e-3, seed: 1 },
      {},
      (e: RunEvent) => {
        if (e.type === 'step') losses.push(e.loss);
      },
    );
    const first = losses.slice(0, 20).reduce((a, b) => a + b, 0) / 20;
    const last = losses.slice(-20).reduce((a, b) => a + b, 0) / 20;
    console.log(`[mezo] 300 steps: mean loss of the first 20 steps ${first.toFixed(4)}, of the last 20 ${last.toFixed(4)}`);
    expect(last).toBeLessThan(first - 0.05);
  });
});

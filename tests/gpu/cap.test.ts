// The hard cap on a real device: a cap one byte below what a forward needs (as the plan says) fails with
// OutOfBudgetError, live bytes never exceed the cap (the ledger's peak), the context stays usable, and a cap exactly
// at the need succeeds.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { OutOfBudgetError } from '../../core/common/errors';
import { GpuContext } from '../../core/gpu/context';
import { forwardNll } from '../../core/model/forward';
import { loadModelWeights } from '../../core/model/weights';
import { dawnProvider } from '../../core/node/dawn';
import { openModelFolder } from '../../core/node/modelfiles';
import { runEval } from '../../core/node/service/eval';
import { planForward } from '../../core/train/plan';
import { makeTinyModel, tokenRows } from '../helpers/tiny';

const m = makeTinyModel({ seed: 61 });
afterAll(() => m.cleanup());

describe('hard cap', () => {
  it('below the need: OutOfBudgetError, never over the cap; at the need: success', async () => {
    const folder = openModelFolder(m.dir);
    const row = tokenRows(m.cfg.vocab, [20], 3)[0];
    const batch = { B: 1, T: 20, inputIds: Int32Array.from(row.ids), targets: Int32Array.from(row.targets) };
    const need = (await planForward({ cfg: folder.config, quant: 'none', seqLen: 20, batch: 1 })).peakBytes;

    const below = await GpuContext.open(dawnProvider, { capBytes: need - 1 });
    try {
      const model = loadModelWeights(below, folder.config, 'none', (n) => folder.read(n));
      let err: unknown = null;
      try {
        await forwardNll(below, model, null, batch);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(OutOfBudgetError);
      const e = err as OutOfBudgetError;
      console.log(`[cap] need ${need} B, cap ${need - 1} B: ${e.message.slice(0, 160)}…`);
      expect(e.overshootBytes).toBe(1);
      expect(below.ledger.snapshot().peakTotal).toBeLessThanOrEqual(need - 1);
      // nothing crashed: the device still works and the weights are still there
      const probe = below.alloc('workspace', 'probe', [4]);
      below.write(probe, Float32Array.of(1, 2, 3, 4));
      expect(Array.from(await below.readF32(probe))).toEqual([1, 2, 3, 4]);
    } finally {
      below.destroy();
    }

    const at = await GpuContext.open(dawnProvider, { capBytes: need });
    try {
      const model = loadModelWeights(at, folder.config, 'none', (n) => folder.read(n));
      const nll = await forwardNll(at, model, null, batch);
      expect(nll.length).toBe(20);
      expect(at.ledger.snapshot().peakTotal).toBe(need);
    } finally {
      at.destroy();
    }
  });

  it('through the eval service: a clear typed error, then success just above', async () => {
    const folder = openModelFolder(m.dir);
    const data = join(m.dir, 'rows.jsonl');
    writeFileSync(data, tokenRows(m.cfg.vocab, [16], 9).map((r) => JSON.stringify({ input_ids: r.ids })).join('\n') + '\n');
    const need = (await planForward({ cfg: folder.config, quant: 'int4', seqLen: 16, batch: 1 })).peakBytes;
    await expect(runEval({ modelDir: m.dir, dataPath: data, quant: 'int4' }, { capBytes: need - 1 })).rejects.toThrow(OutOfBudgetError);
    const ok = await runEval({ modelDir: m.dir, dataPath: data, quant: 'int4' }, { capBytes: need });
    expect(ok.peakBytes.total).toBe(need);
  });
});

// `full`, `mebp` and `mesp` (and MeSP's ablations) give the same LoRA gradients as each other (1e-5 relative)
// and as the independent float64 reference (1e-4), from a random non-zero adapter, on tiny Qwen2 models in f32.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GpuContext } from '../../core/gpu/context';
import type { TokenBatch } from '../../core/model/forward';
import { loadModelWeights, type ModelWeights } from '../../core/model/weights';
import { openModelFolder } from '../../core/node/modelfiles';
import { exactGradients, maxRelDiff } from '../../core/train/grads';
import { uploadAdapter, type HostAdapter } from '../../core/train/lora';
import type { LoraAdapter } from '../../core/model/adapter';
import { gpu } from '../helpers/gpu';
import { randomAdapter, refGrads, toRef64 } from '../helpers/lora';
import { ref64 } from '../helpers/ref64';
import { makeTinyModel, tokenRows, type TinyModel } from '../helpers/tiny';

const MODELS = [
  { name: 'tied head, vocab 1024', opts: { seed: 21 } },
  { name: 'untied head, vocab 4096, MHA 4/4', opts: { seed: 23, tied: false, vocab: 4096, kvHeads: 4 } },
];

for (const variant of MODELS) describe(`exact LoRA gradients (${variant.name}): full = mebp = mesp = float64 reference`, () => {
  let ctx: GpuContext;
  let m: TinyModel;
  let model: ModelWeights;
  let lora: LoraAdapter;
  let host: HostAdapter;
  let batch: TokenBatch;
  let want: { loss: number; gradA: Map<string, Float64Array>; gradB: Map<string, Float64Array> };

  beforeAll(async () => {
    ctx = await gpu();
    m = makeTinyModel(variant.opts);
    const folder = openModelFolder(m.dir);
    model = loadModelWeights(ctx, folder.config, 'none', (n) => folder.read(n));
    host = randomAdapter(m, 4, 8, 99);
    lora = uploadAdapter(ctx, folder.config, host);
    const rows = tokenRows(m.cfg.vocab, [10, 10], 31);
    const targets = [...rows[0].targets, ...rows[1].targets];
    targets[2] = -100; // a masked target inside a row
    targets[13] = -100;
    batch = { B: 2, T: 10, inputIds: Int32Array.from([...rows[0].ids, ...rows[1].ids]), targets: Int32Array.from(targets) };
    want = ref64(m.cfg, m.weights, batch.inputIds, batch.targets, 2, 10, toRef64(host), true);
  });
  afterAll(() => m.cleanup());

  function vsRef(g: HostAdapter): number {
    return maxRelDiff(g, refGrads(g, want));
  }

  it('all three exact methods, and MeSP with --store-h and --no-chunked-head', async () => {
    const runs = {
      full: await exactGradients(ctx, model, lora, batch, { method: 'full' }),
      mebp: await exactGradients(ctx, model, lora, batch, { method: 'mebp' }),
      mesp: await exactGradients(ctx, model, lora, batch, { method: 'mesp', headChunk: 3 }),
      'mesp --store-h': await exactGradients(ctx, model, lora, batch, { method: 'mesp', storeH: true, headChunk: 7 }),
      'mesp --no-chunked-head': await exactGradients(ctx, model, lora, batch, { method: 'mesp', chunkedHead: false }),
    };
    for (const [name, r] of Object.entries(runs)) {
      const relRef = vsRef(r.grads);
      const relFull = maxRelDiff(r.grads, runs.full.grads);
      console.log(`[max diff] ${variant.name}, ${name}: loss ${r.loss.toFixed(7)} (float64 ${want.loss.toFixed(7)}); grads vs float64 rel ${relRef.toExponential(3)}, vs full rel ${relFull.toExponential(3)}`);
      expect(relRef, `variant ${variant} name ${name}`).toBeLessThan(1e-4);
      expect(relFull, `variant ${variant} name ${name}`).toBeLessThan(1e-5);
      expect(Math.abs(r.loss - want.loss) / want.loss, `variant ${variant} name ${name}`).toBeLessThan(1e-5);
    }
    // the gradients are not trivially zero, and B's gradient is non-zero because A is (and vice versa)
    let norm = 0;
    for (const v of runs.mesp.grads.B.values()) for (const x of v) norm += x * x;
    expect(norm, `variant ${variant}`).toBeGreaterThan(1e-8);
  });
});

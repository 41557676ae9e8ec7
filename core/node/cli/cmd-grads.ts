// `mesp grads`: one row's LoRA gradients for a method (written as safetensors under PEFT keys), MeZO's sampled
// cosines against the exact gradient, or a comparison table of methods.
import { GradsRequestSchema } from '../../api/grads';
import { runGrads } from '../service/grads';
import { command } from './flags';
import { table } from './format';
import { z } from 'zod';
import { described } from '../../api/fields';

const GradsOptions = z.object({ json: described(z.boolean().default(false), { label: 'JSON', group: 'options', help: 'print the result as one JSON object' }) });

export const GRADS = command({
  usage: [
    'mesp grads --model DIR --data FILE --adapter DIR --method M --out FILE.safetensors [--row N] [--samples K] [--force]',
    'mesp grads --model DIR --data FILE --adapter DIR --compare full,mebp,mesp,mezo [--samples K] [--row N]',
  ],
  about: 'The LoRA gradients of one row (mean loss over its targets) under PEFT key names. For mezo: the estimate ĝ (the\n' +
    'mean over --samples) and each sample\'s cosine with the exact gradient, against the expected 0.8/√d.',
  shape: [GradsRequestSchema, GradsOptions],
  schema: GradsRequestSchema.and(GradsOptions),
});

export async function cmdGrads(argv: string[]): Promise<number> {
  const { values } = GRADS.parse(argv);
  const { json, method, compare, samples, ...req } = values;
  const r = await runGrads({ ...req, methods: compare ?? [method!], samples: samples ?? (compare ? 16 : 1) });
  if (json) {
    const mezo = r.methods.find((m) => m.method === 'mezo');
    process.stdout.write(JSON.stringify({ ...r, ...(mezo ? { cosines: mezo.cosines, meanCosine: mezo.meanCosine } : {}) }) + '\n');
    return 0;
  }
  console.log(`row ${r.row} (line ${r.line}), ${r.tokens} target tokens, d = ${r.d} trainable parameters`);
  console.log(table(
    ['method', 'loss', 'max rel. diff vs first exact', 'cosine with exact (mean ± sd)', 'expected 0.8/√d'],
    r.methods.map((m) => [
      m.method, m.loss.toFixed(6), m.maxRelDiff !== undefined ? m.maxRelDiff.toExponential(2) : '—',
      m.meanCosine !== undefined ? `${m.meanCosine.toFixed(5)} ± ${m.stdCosine!.toFixed(5)} (${m.cosines!.length} samples)` : '—',
      m.method === 'mezo' ? r.expected.toFixed(5) : '—',
    ]),
  ));
  if (r.out) console.log(`wrote ${r.methods[0].method} gradients to ${r.out}`);
  return 0;
}

// `mesp grads`: one row's LoRA gradients for a method (written as safetensors under PEFT keys), MeZO's sampled
// cosines against the exact gradient, or a comparison table of methods.
import { METHODS, type Method } from '../../train/methods';
import { runGrads } from '../service/grads';
import { UsageError, choiceFlag, intFlag, numFlag, parseFlags, required } from './args';
import { table } from './format';

export const GRADS_HELP = `mesp grads --model DIR --data FILE --adapter DIR --method M [--row N] [--samples K]
           [--quant none|int8|int4] --out FILE.safetensors [--json]
mesp grads --model DIR --data FILE --adapter DIR --compare full,mebp,mesp,mezo [--samples K] [--row N]
  The LoRA gradients of one row (mean loss over its targets) under PEFT key names. For mezo: the estimate ĝ (the
  mean over --samples) and each sample's cosine with the exact gradient, against the expected 0.8/√d.
  --row is 0-based; --profile ID|FILE, --seq-len N, --mezo-eps E and --seed S as for train.`;

export async function cmdGrads(argv: string[]): Promise<number> {
  const v = parseFlags(argv, {
    model: { type: 'string' }, data: { type: 'string' }, adapter: { type: 'string' }, method: { type: 'string' },
    compare: { type: 'string' }, row: { type: 'string' }, samples: { type: 'string' }, quant: { type: 'string' },
    out: { type: 'string' }, json: { type: 'boolean' }, profile: { type: 'string' }, 'seq-len': { type: 'string' },
    'mezo-eps': { type: 'string' }, seed: { type: 'string' },
  }, 'grads');
  let methods: Method[];
  if (typeof v.compare === 'string') {
    methods = v.compare.split(',').map((s) => s.trim()) as Method[];
    for (const m of methods) if (!METHODS.includes(m)) throw new UsageError(`mesp grads: unknown method "${m}" in --compare (use ${METHODS.join(', ')})`);
  } else {
    methods = [choiceFlag(v, 'method', 'grads', METHODS, 'mesp')];
    if (v.method === undefined) throw new UsageError('mesp grads: --method (or --compare) is required');
    if (v.out === undefined) throw new UsageError('mesp grads: --out FILE.safetensors is required with --method');
  }
  const compare = typeof v.compare === 'string';
  const r = await runGrads({
    modelDir: required(v, 'model', 'grads'),
    dataPath: required(v, 'data', 'grads'),
    adapterDir: required(v, 'adapter', 'grads'),
    methods,
    row: intFlag(v, 'row', 'grads', 0, 0),
    samples: intFlag(v, 'samples', 'grads', compare ? 16 : 1),
    quant: choiceFlag(v, 'quant', 'grads', ['none', 'int8', 'int4'] as const, 'none'),
    profile: (v.profile as string | undefined) ?? 'phone-8gb',
    seqLen: intFlag(v, 'seq-len', 'grads', 256, 2),
    mezoEps: numFlag(v, 'mezo-eps', 'grads', 1e-3),
    seed: intFlag(v, 'seed', 'grads', 42, 0),
    out: v.out as string | undefined,
  });
  if (v.json) {
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

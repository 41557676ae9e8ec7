// `mesp eval`, `mesp profiles`, `mesp demo-model` (the embedded demo, or a real shape with --shape) and `mesp demo`.
// Flags from zod objects with field metadata (core/node/cli/flags.ts); eval's are its request's (core/api/eval.ts).
import { existsSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { EvalRequestSchema } from '../../api/eval';
import { described } from '../../api/fields';
import { PROJECTIONS } from '../../api/names';
import { TrainInputsSchema, TrainSpecSchema } from '../../api/train';
import { ConfigError } from '../../common/errors';
import { SHAPE_SEED } from '../../model/demo';
import { QWEN25_IDS } from '../../model/shapes';
import { writeDemoDataset, writeDemoModel, writeShapeModel } from '../demo';
import { listBuiltinProfiles } from '../../profiles/builtin';
import { capBytesOf } from '../../profiles/schema';
import { runEval } from '../service/eval';
import { launchRun } from '../service/lifecycle';
import { command, only } from './flags';
import { mb, peakTable, table } from './format';
import { ProgressBar, stderrIsTty } from './progress';

const json = described(z.boolean().default(false), { label: 'JSON', group: 'options', help: 'print the result as JSON' });
const force = described(z.boolean().default(false), { label: 'Replace', group: 'output', help: 'replace files that are already there' });

export const EVAL = command({
  usage: ['mesp eval --model DIR --data FILE [--quant none|int8|int4] [--profile ID|FILE] [--adapter DIR] [--seq-len N] [--max-rows N] [--json]'],
  about: 'Per-row next-token loss of a jsonl dataset, the mean and the perplexity, and the peak GPU memory by category,\n' +
    'under the profile\'s WebGPU limits and memory cap.',
  shape: [EvalRequestSchema, z.object({ json })],
  schema: EvalRequestSchema.extend({ json }),
});

export async function cmdEval(argv: string[]): Promise<number> {
  const { values } = EVAL.parse(argv);
  const { json, ...req } = values;
  let bar: ProgressBar | null = null;
  const r = await runEval(req, {}, (p) => {
    if (json) return;
    bar ??= new ProgressBar('eval', p.total);
    bar.update(p.done);
  });
  (bar as ProgressBar | null)?.done();
  if (json) {
    process.stdout.write(JSON.stringify(r) + '\n');
    return 0;
  }
  console.log(table(['line', 'tokens', 'loss'], r.rows.map((x) => [x.line, x.tokens, x.tokens ? x.loss.toFixed(6) : '(no targets)'])));
  console.log(`\nmean loss ${r.meanLoss.toFixed(6)}   perplexity ${r.perplexity.toFixed(3)}   (${r.rows.length} rows, ${r.seconds.toFixed(1)} s)`);
  console.log(`profile ${r.profile}, cap ${mb(r.capBytes)}, adapter: ${r.adapter}\n`);
  console.log(peakTable(r.peakBytes));
  console.log(`working set (all but weights) at its peak: ${mb(r.workingSetBytes)}`);
  return 0;
}

export const PROFILES = command({
  usage: ['mesp profiles [--json]'],
  about: 'The built-in device profiles: RAM, the app\'s memory budget (the cap), WebGPU limits and GPU compute.',
  shape: [z.object({ json })],
  schema: z.object({ json }),
});

export function cmdProfiles(argv: string[]): number {
  const v = PROFILES.parse(argv).values;
  const all = listBuiltinProfiles();
  if (v.json) {
    process.stdout.write(JSON.stringify(all) + '\n');
    return 0;
  }
  console.log(table(
    ['id', 'name', 'RAM', 'app budget (cap)', 'max binding', 'GPU', 'f16 peak', 'bandwidth'],
    all.map((p) => [
      p.id, p.name, `${p.ramGB} GB`, mb(capBytesOf(p)), mb(p.webgpu.maxStorageBufferBindingSize),
      p.gpu.name, `${(p.gpu.peakFlopsF16 / 1e12).toFixed(2)} TFLOP/s`, `${p.gpu.bandwidthGBs} GB/s`,
    ]),
  ));
  return 0;
}

const DemoModelSchema = z.object({
  out: described(z.string().min(1), { label: 'Folder', arg: 'DIR', group: 'output', help: 'the model folder to write (new or empty)' }),
  dataset: described(z.string().min(1).optional(), { label: 'Dataset', arg: 'FILE', group: 'output', help: 'also write the demo dataset (jsonl) here' }),
  shape: described(z.string().min(1).optional(), {
    label: 'Shape', arg: 'ID|CONFIG.json', group: 'inputs', help: `a model of this real shape instead: ${QWEN25_IDS.join(' | ')}, or a Qwen2 config.json`,
  }),
  seed: described(TrainSpecSchema.shape.seed.unwrap().default(SHAPE_SEED), { label: 'Seed', arg: 'S', group: 'inputs', help: "the random weights' seed, with --shape" }),
  force,
});

export const DEMO_MODEL = command({
  usage: [
    'mesp demo-model --out DIR [--dataset FILE] [--force]',
    `mesp demo-model --out DIR --shape ${QWEN25_IDS.join('|')}|CONFIG.json [--seed S] [--dataset FILE] [--force]`,
  ],
  about: 'Write the embedded demo model: a small Qwen2-architecture model with deterministic random weights and a real\n' +
    'byte-level BPE tokenizer.json (nothing is downloaded). With --dataset, also write the bundled demo dataset.\n' +
    'With --shape, a model folder of that real shape instead (Qwen2.5\'s config.json, or any Qwen2 config.json): random\n' +
    'bf16 weights from --seed (std 0.02), the demo tokenizer (the BPE of the embedded demo, learned from its corpus) in\n' +
    'the shape\'s vocabulary (151936 rows for Qwen2.5; the rows past the tokenizer\'s belong to no token), safetensors\n' +
    'shards under 2 GB. For benchmarks and deployment tests at real sizes: 0.5B is 1.0 GB, 3B 6.2 GB.\n' +
    'Refuses a non-empty folder or an existing dataset file unless --force.',
  shape: [DemoModelSchema],
  schema: DemoModelSchema,
});

export function cmdDemoModel(argv: string[]): number {
  const { values: v, read } = DEMO_MODEL.parse(argv);
  if (v.shape === undefined) only(read, ['out', 'dataset', 'force'], DEMO_MODEL.table, 'applies only with --shape');
  const out = resolve(v.out);
  const dataset = v.dataset !== undefined ? resolve(v.dataset) : null;
  if (!v.force) {
    if (existsSync(out) && readdirSync(out).length > 0) throw new ConfigError(`${out} is not empty; add --force to write the ${v.shape ?? 'demo'} model into it anyway, or choose another --out`, { field: 'out' });
    if (dataset && existsSync(dataset)) throw new ConfigError(`${dataset} already exists; add --force to replace it, or choose another --dataset`, { field: 'dataset' });
  }
  if (v.shape !== undefined) {
    let bar: ProgressBar | null = null;
    const shape = v.shape;
    const files = writeShapeModel(out, shape, {
      seed: v.seed,
      onProgress: (done, n) => {
        bar ??= new ProgressBar(`writing ${shape}`, n);
        bar.update(done, 'tensors');
      },
    });
    (bar as ProgressBar | null)?.done();
    console.log(`wrote a ${shape} model with random bf16 weights to ${out}: ${files.map((f) => f.split('/').pop()).join(', ')}`);
  } else {
    const files = writeDemoModel(out);
    console.log(`wrote the demo model to ${out}: ${files.map((f) => f.split('/').pop()).join(', ')}`);
  }
  if (dataset) console.log(`wrote the demo dataset to ${writeDemoDataset(dataset)}`);
  return 0;
}

const DemoSchema = z.object({
  dir: described(z.string().min(1).default('runs'), { label: 'Folder', arg: 'DIR', group: 'output', help: 'where the demo model, dataset and run go' }),
  method: TrainSpecSchema.shape.method,
  steps: described(z.number().int().min(1).max(100_000).default(40), { label: 'Steps', arg: 'N', group: 'run', help: 'optimizer steps' }),
  profile: described(TrainInputsSchema.shape.profile.unwrap().default('phone-6gb'), { label: 'Device profile', arg: 'ID|FILE', group: 'inputs', help: 'the profile whose budget is the cap' }),
});

export const DEMO = command({
  usage: ['mesp demo [--dir DIR] [--method M] [--steps N] [--profile ID]'],
  about: 'The first thing to run: writes the embedded demo model and dataset (once) under DIR, evaluates it, fine-tunes a\n' +
    'LoRA adapter with MeSP under the phone profile\'s cap, and evaluates again.',
  shape: [DemoSchema],
  schema: DemoSchema,
});

export async function cmdDemo(argv: string[]): Promise<number> {
  const v = DEMO.parse(argv).values;
  const root = resolve(v.dir);
  const model = join(root, 'demo-model');
  const data = join(model, 'data.jsonl');
  if (!existsSync(join(model, 'config.json'))) {
    writeDemoModel(model);
    writeDemoDataset(data);
    console.log(`wrote the demo model and dataset to ${model}`);
  }
  const { profile, method, steps } = v;
  const before = await runEval({ modelDir: model, dataPath: data, profile, maxRows: 40 });
  console.log(`before: mean loss ${before.meanLoss.toFixed(4)} on 40 rows (peak ${mb(before.peakBytes.total)} under the ${profile} cap of ${mb(before.capBytes)})`);
  const out = join(root, `demo-${method}-${new Date().toISOString().replace(/[:.]/g, '-')}`);
  const bar = new ProgressBar(`train ${method}`, steps);
  let last = 0;
  // The run lifecycle `mesp train` and the app use (core/node/service/lifecycle.ts).
  const run = await launchRun({
    input: { modelDir: model, dataPath: data, outDir: out, method, profile, steps, batch: 4, lr: 0.05, targets: [...PROJECTIONS], seqLen: 128, optimizer: 'sgd' },
    onEvent: (e) => {
      if (e.type !== 'step') return;
      last = e.loss;
      bar.update(e.step, `loss ${e.loss.toFixed(4)}`, e.etaSeconds);
      if (!stderrIsTty() && (e.step === 1 || e.step % 10 === 0)) console.log(`step ${e.step}/${e.steps} loss ${e.loss.toFixed(4)} peak ${mb(e.peakBytes.total)}`);
    },
  });
  const r = await run.outcome;
  bar.done();
  const after = await runEval({ modelDir: model, dataPath: data, profile, maxRows: 40, adapterDir: r.adapterDir });
  console.log(`after ${steps} ${method} steps (last batch loss ${last.toFixed(4)}): mean loss ${after.meanLoss.toFixed(4)} on the same 40 rows`);
  console.log(`run folder: ${r.runDir}  (try: mesp grads --model ${model} --data ${data} --adapter ${r.adapterDir} --compare full,mebp,mesp,mezo)`);
  return 0;
}

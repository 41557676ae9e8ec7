// `mesp eval`, `mesp profiles` and `mesp demo-model`.
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { writeDemoDataset, writeDemoModel, writeShapeModel } from '../demo';
import { listBuiltinProfiles } from '../../profiles/builtin';
import { capBytesOf } from '../../profiles/schema';
import { runEval } from '../service/eval';
import { runTrain } from '../service/train';
import { choiceFlag, intFlag, parseFlags, required } from './args';
import { mb, peakTable, table } from './format';
import { ProgressBar } from './progress';

export const EVAL_HELP = `mesp eval --model DIR --data FILE [--quant none|int8|int4] [--profile ID|FILE] [--adapter DIR]
          [--seq-len N] [--max-rows N] [--json]
  Per-row next-token loss of a jsonl dataset, the mean and the perplexity, and the peak GPU memory by category,
  under the profile's WebGPU limits and memory cap.`;

export async function cmdEval(argv: string[]): Promise<number> {
  const v = parseFlags(argv, {
    model: { type: 'string' }, data: { type: 'string' }, quant: { type: 'string' }, profile: { type: 'string' },
    adapter: { type: 'string' }, 'seq-len': { type: 'string' }, 'max-rows': { type: 'string' }, json: { type: 'boolean' },
  }, 'eval');
  const json = !!v.json;
  let bar: ProgressBar | null = null;
  const r = await runEval({
    modelDir: required(v, 'model', 'eval'),
    dataPath: required(v, 'data', 'eval'),
    quant: choiceFlag(v, 'quant', 'eval', ['none', 'int8', 'int4'] as const, 'none'),
    profile: (v.profile as string | undefined) ?? 'phone-8gb',
    adapterDir: v.adapter as string | undefined,
    seqLen: v['seq-len'] !== undefined ? intFlag(v, 'seq-len', 'eval', 0) : undefined,
    maxRows: v['max-rows'] !== undefined ? intFlag(v, 'max-rows', 'eval', 0) : undefined,
  }, {}, (p) => {
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

export const PROFILES_HELP = `mesp profiles [--json]
  The built-in device profiles: RAM, the app's memory budget (the cap), WebGPU limits and GPU compute.`;

export function cmdProfiles(argv: string[]): number {
  const v = parseFlags(argv, { json: { type: 'boolean' } }, 'profiles');
  const all = listBuiltinProfiles();
  if (v.json) {
    process.stdout.write(JSON.stringify(all) + '\n');
    return 0;
  }
  console.log(table(
    ['id', 'name', 'RAM', 'app budget (cap)', 'max binding', 'GPU', 'f16 peak', 'bandwidth'],
    all.map((p) => [
      p.id, p.name, `${p.ramGB} GB`, mb(capBytesOf(p)), `${p.webgpu.maxStorageBufferBindingSize / 2 ** 20} MiB`,
      p.gpu.name, `${(p.gpu.peakFlopsF16 / 1e12).toFixed(2)} TFLOP/s`, `${p.gpu.bandwidthGBs} GB/s`,
    ]),
  ));
  return 0;
}

export const DEMO_HELP = `mesp demo-model --out DIR [--dataset FILE] [--shape qwen2.5-0.5b|qwen2.5-1.5b|qwen2.5-3b|CONFIG.json [--seed N]]
  Write the embedded demo model: a small Qwen2-architecture model with deterministic random weights and a real
  byte-level BPE tokenizer.json (nothing is downloaded). With --dataset, also write the bundled demo dataset.
  With --shape, a model folder of that real shape instead (Qwen2.5's config.json, or any Qwen2 config.json): random
  bf16 weights from --seed (std 0.02), the demo tokenizer (the BPE of the embedded demo, learned from its corpus) in
  the shape's vocabulary (151936 rows for Qwen2.5; the rows past the tokenizer's belong to no token), safetensors
  shards under 2 GB. For benchmarks and
  deployment tests at real sizes: 0.5B is 1.0 GB, 3B 6.2 GB.`;

export function cmdDemoModel(argv: string[]): number {
  const v = parseFlags(argv, { out: { type: 'string' }, dataset: { type: 'string' }, shape: { type: 'string' }, seed: { type: 'string' } }, 'demo-model');
  const out = resolve(required(v, 'out', 'demo-model'));
  if (typeof v.shape === 'string') {
    let bar: ProgressBar | null = null;
    const shape = v.shape;
    const files = writeShapeModel(out, shape, {
      seed: intFlag(v, 'seed', 'demo-model', 1234, 0),
      onProgress: (done, n) => {
        bar ??= new ProgressBar(`writing ${shape}`, n);
        bar.update(done, 'tensors');
      },
    });
    (bar as ProgressBar | null)?.done();
    console.log(`wrote a ${v.shape} model with random bf16 weights to ${out}: ${files.map((f) => f.split('/').pop()).join(', ')}`);
    if (typeof v.dataset === 'string') console.log(`wrote the demo dataset to ${writeDemoDataset(resolve(v.dataset))}`);
    return 0;
  }
  const files = writeDemoModel(out);
  console.log(`wrote the demo model to ${out}: ${files.map((f) => f.split('/').pop()).join(', ')}`);
  if (typeof v.dataset === 'string') console.log(`wrote the demo dataset to ${writeDemoDataset(resolve(v.dataset))}`);
  return 0;
}

export const DEMO_RUN_HELP = `mesp demo [--dir DIR] [--method M] [--steps N] [--profile ID]
  The first thing to run: writes the embedded demo model and dataset (once) under DIR (default ./runs), evaluates
  it, fine-tunes a LoRA adapter with MeSP under the phone profile's cap, and evaluates again.`;

export async function cmdDemo(argv: string[]): Promise<number> {
  const v = parseFlags(argv, { dir: { type: 'string' }, method: { type: 'string' }, steps: { type: 'string' }, profile: { type: 'string' } }, 'demo');
  const root = resolve((v.dir as string | undefined) ?? 'runs');
  const model = join(root, 'demo-model');
  const data = join(model, 'data.jsonl');
  if (!existsSync(join(model, 'config.json'))) {
    writeDemoModel(model);
    writeDemoDataset(data);
    console.log(`wrote the demo model and dataset to ${model}`);
  }
  const profile = (v.profile as string | undefined) ?? 'phone-6gb';
  const method = choiceFlag(v, 'method', 'demo', ['full', 'mebp', 'mesp', 'mezo'] as const, 'mesp');
  const steps = intFlag(v, 'steps', 'demo', 40);
  const before = await runEval({ modelDir: model, dataPath: data, profile, maxRows: 40 });
  console.log(`before: mean loss ${before.meanLoss.toFixed(4)} on 40 rows (peak ${mb(before.peakBytes.total)} under the ${profile} cap of ${mb(before.capBytes)})`);
  const out = join(root, `demo-${method}-${new Date().toISOString().replace(/[:.]/g, '-')}`);
  const bar = new ProgressBar(`train ${method}`, steps);
  let last = 0;
  const r = await runTrain({ modelDir: model, dataPath: data, outDir: out, method, profile, steps, batch: 4, lr: 0.05, targets: ['q', 'k', 'v', 'o', 'gate', 'up', 'down'], seqLen: 128 }, {}, (e) => {
    if (e.type === 'step') {
      last = e.loss;
      bar.update(e.step, `loss ${e.loss.toFixed(4)}`, e.etaSeconds);
      if (!process.stderr.isTTY && (e.step === 1 || e.step % 10 === 0)) console.log(`step ${e.step}/${e.steps} loss ${e.loss.toFixed(4)} peak ${mb(e.peakBytes.total)}`);
    }
  });
  bar.done();
  const after = await runEval({ modelDir: model, dataPath: data, profile, maxRows: 40, adapterDir: r.adapterDir });
  console.log(`after ${steps} ${method} steps (last batch loss ${last.toFixed(4)}): mean loss ${after.meanLoss.toFixed(4)} on the same 40 rows`);
  console.log(`run folder: ${r.runDir}  (try: mesp grads --model ${model} --data ${data} --adapter ${r.adapterDir} --compare full,mebp,mesp,mezo)`);
  return 0;
}

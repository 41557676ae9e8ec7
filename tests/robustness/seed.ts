// The one seed every robustness case starts from, made once through the real CLI: the embedded demo model
// (`mesp demo-model`, 4 layers, hidden 128, vocab 1024), 8 rows of its dataset, a training run stopped after step 4 of
// 6 with checkpoints at steps 2 and 4 (trained for 4 steps, then its config.json says 6, as a run killed there does),
// and its adapter exported as GGUF and MLX. Cases copy (or hard-link) what they damage; the seed is never changed.
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensureCli, mesp } from './runner';

export interface Seed {
  root: string;
  model: string;
  data: string;
  /** A run stopped after step 4 of 6 (checkpoints step-0000002 and step-0000004). */
  run: string;
  /** Its PEFT adapter folder. */
  peft: string;
  gguf: string;
  mlx: string;
  /** The first losses of an uninterrupted 6-step run of the same settings. */
  trainArgs: string[];
}

/** Settings of the seed run (and of the fault tests' runs). */
export const TRAIN_ARGS = ['--steps', '6', '--checkpoint-every', '2', '--seq-len', '48', '--rank', '4', '--targets', 'q,v', '--lr', '0.01'];

async function ok(args: string[], cwd: string): Promise<string> {
  const r = await mesp(args, { cwd, limitMs: 180_000 });
  if (r.status !== 0) throw new Error(`seed: mesp ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return r.stdout;
}

export async function makeSeed(root: string): Promise<Seed> {
  mkdirSync(root, { recursive: true });
  await ensureCli();
  await ok(['demo-model', '--out', 'model', '--dataset', 'all.jsonl'], root);
  const data = join(root, 'data.jsonl');
  writeFileSync(data, readFileSync(join(root, 'all.jsonl'), 'utf8').split('\n').slice(0, 8).join('\n') + '\n');
  const model = join(root, 'model');
  const run = join(root, 'run');
  const four = TRAIN_ARGS.map((a, i) => (TRAIN_ARGS[i - 1] === '--steps' ? '4' : a));
  await ok(['train', '--model', model, '--data', data, '--out', run, ...four], root);
  // The run as one stopped after step 4 of 6: the same config with 6 steps (the constant schedule makes steps 1–4
  // those of a 6-step run).
  const cfgPath = join(run, 'config.json');
  const cfg = JSON.parse(readFileSync(cfgPath, 'utf8')) as { totalSteps: number; request: { steps: number } };
  cfg.totalSteps = 6;
  cfg.request.steps = 6;
  writeFileSync(cfgPath, JSON.stringify(cfg, null, 2) + '\n');
  await ok(['export', '--run', run, '--format', 'gguf,mlx', '--out', join(root, 'exp'), '--parity-rows', '0'], root);
  const peft = join(root, 'peft');
  cpSync(join(run, 'adapter'), peft, { recursive: true });
  return { root, model, data, run, peft, gguf: join(root, 'exp/gguf/adapter.gguf'), mlx: join(root, 'exp/mlx'), trainArgs: TRAIN_ARGS };
}

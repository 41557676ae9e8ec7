// `mesp train`: a training run on the command line, with a progress bar and ETA on a TTY and one line per step
// otherwise. Exit code 3 when the memory cap is reached (the last checkpoint stays intact).
import type { TrainRequest } from '../../api/train';
import { formatBytes } from '../../common/errors';
import { parseTargets } from '../../train/lora';
import { runTrain } from '../service/train';
import { UsageError, choiceFlag, intFlag, numFlag, parseFlags, required } from './args';
import { mb } from './format';
import { ProgressBar, formatSeconds } from './progress';

export const TRAIN_HELP = `mesp train --model DIR --data FILE --out RUN_DIR [flags]      mesp train --resume RUN_DIR
  Fine-tune a LoRA adapter with one of four methods under a device profile's memory cap.
  --model DIR            HF Qwen2 folder (config.json, model.safetensors[.index.json], tokenizer.json)
  --data FILE            jsonl: {"text"}, {"prompt","completion"}, {"messages":[...]} or {"input_ids"[,"labels"]}
  --val FILE             validation jsonl (else --val-fraction of the data)     --val-fraction F (default 0)
  --method M             full | mebp | mesp | mezo (default mesp)
  --profile ID|FILE      device profile whose budget is the hard cap (default phone-8gb; see \`mesp profiles\`)
  --rank R --alpha A     LoRA rank and alpha (default 8 and 16)
  --targets LIST         any of q,k,v,o,gate,up,down, or all (default q,v)
  --seq-len N            truncate rows to N tokens (default 256)      --batch B (default 1)
  --steps N | --epochs E optimizer steps, or whole passes over the data (default 1 epoch)
  --lr LR                learning rate (default 1e-3)      --optimizer sgd|adamw (default sgd)
  --schedule constant|cosine  --warmup N  --weight-decay W  --clip-norm X (off by default)
  --seed S               init, shuffling and MeZO seed (default 42)
  --quant none|int8|int4 quantize the frozen weights on load (default none)
  --init-adapter DIR     start from a PEFT adapter
  --out RUN_DIR          the run folder: config.json, events.jsonl, checkpoints/, adapter/
  --resume RUN_DIR       continue a stopped run (same curve as an uninterrupted one)
  --checkpoint-every N   also checkpoint every N steps (a checkpoint is always written at the end)
  --val-every N          validation loss every N steps
  --mezo-eps E           MeZO's perturbation (default 1e-3)
  --store-h              MeSP ablation: keep h = x·Aᵀ instead of recomputing it
  --no-chunked-head      MeSP ablation: materialize the (T, V) logits
  --cap-bytes N          a smaller cap than the profile's (bytes)
  --sample-prompts FILE  jsonl of prompts ("text", {"prompt"} or {"messages"}) answered greedily with the live
                         adapter before the first step, at the validation steps and after the last (events.jsonl)
  --sample-every N       answer them every N steps instead
  --json                 one JSON event per line on stdout`;

export async function cmdTrain(argv: string[]): Promise<number> {
  const v = parseFlags(argv, {
    model: { type: 'string' }, data: { type: 'string' }, val: { type: 'string' }, 'val-fraction': { type: 'string' },
    method: { type: 'string' }, profile: { type: 'string' }, rank: { type: 'string' }, alpha: { type: 'string' },
    targets: { type: 'string' }, 'seq-len': { type: 'string' }, batch: { type: 'string' }, steps: { type: 'string' },
    epochs: { type: 'string' }, lr: { type: 'string' }, optimizer: { type: 'string' }, schedule: { type: 'string' },
    warmup: { type: 'string' }, 'weight-decay': { type: 'string' }, 'clip-norm': { type: 'string' }, seed: { type: 'string' },
    quant: { type: 'string' }, 'init-adapter': { type: 'string' }, out: { type: 'string' }, resume: { type: 'string' },
    'checkpoint-every': { type: 'string' }, 'val-every': { type: 'string' }, 'mezo-eps': { type: 'string' },
    'store-h': { type: 'boolean' }, 'no-chunked-head': { type: 'boolean' }, 'head-chunk': { type: 'string' },
    'cap-bytes': { type: 'string' }, json: { type: 'boolean' }, 'sample-prompts': { type: 'string' }, 'sample-every': { type: 'string' },
  }, 'train');
  const json = !!v.json;
  let input: TrainRequest | { resume: string };
  if (typeof v.resume === 'string') {
    const extra = Object.keys(v).filter((k) => !['resume', 'json', 'cap-bytes'].includes(k) && v[k] !== undefined);
    if (extra.length) throw new UsageError(`mesp train --resume takes its settings from the run's config.json; drop --${extra[0]}`);
    input = { resume: v.resume };
  } else {
    if (v.steps !== undefined && v.epochs !== undefined) throw new UsageError('mesp train: give --steps or --epochs, not both');
    input = {
      modelDir: required(v, 'model', 'train'),
      dataPath: required(v, 'data', 'train'),
      outDir: required(v, 'out', 'train'),
      valPath: v.val as string | undefined,
      valFraction: numFlag(v, 'val-fraction', 'train', 0),
      method: choiceFlag(v, 'method', 'train', ['full', 'mebp', 'mesp', 'mezo'] as const, 'mesp'),
      profile: (v.profile as string | undefined) ?? 'phone-8gb',
      rank: v.rank !== undefined ? intFlag(v, 'rank', 'train', 8) : undefined,
      alpha: v.alpha !== undefined ? numFlag(v, 'alpha', 'train', 16) : undefined,
      targets: typeof v.targets === 'string' ? parseTargets(v.targets) : undefined,
      seqLen: intFlag(v, 'seq-len', 'train', 256, 2),
      batch: intFlag(v, 'batch', 'train', 1),
      steps: v.steps !== undefined ? intFlag(v, 'steps', 'train', 1) : undefined,
      epochs: v.epochs !== undefined ? intFlag(v, 'epochs', 'train', 1) : undefined,
      lr: numFlag(v, 'lr', 'train', 1e-3),
      optimizer: choiceFlag(v, 'optimizer', 'train', ['sgd', 'adamw'] as const, 'sgd'),
      schedule: choiceFlag(v, 'schedule', 'train', ['constant', 'cosine'] as const, 'constant'),
      warmupSteps: intFlag(v, 'warmup', 'train', 0, 0),
      weightDecay: numFlag(v, 'weight-decay', 'train', 0.01),
      clipNorm: v['clip-norm'] !== undefined ? numFlag(v, 'clip-norm', 'train', 1) : null,
      seed: intFlag(v, 'seed', 'train', 42, 0),
      quant: choiceFlag(v, 'quant', 'train', ['none', 'int8', 'int4'] as const, 'none'),
      initAdapter: v['init-adapter'] as string | undefined,
      checkpointEvery: intFlag(v, 'checkpoint-every', 'train', 0, 0),
      valEvery: intFlag(v, 'val-every', 'train', 0, 0),
      mezoEps: numFlag(v, 'mezo-eps', 'train', 1e-3),
      storeH: !!v['store-h'],
      chunkedHead: !v['no-chunked-head'],
      headChunk: v['head-chunk'] !== undefined ? intFlag(v, 'head-chunk', 'train', 16) : undefined,
      samplePrompts: v['sample-prompts'] as string | undefined,
      sampleEvery: v['sample-every'] !== undefined ? intFlag(v, 'sample-every', 'train', 1) : undefined,
    };
  }
  const capBytes = v['cap-bytes'] !== undefined ? intFlag(v, 'cap-bytes', 'train', 1) : undefined;
  let bar: ProgressBar | null = null;
  const tty = !json && !!process.stderr.isTTY;
  await runTrain(input, { capBytes }, (e) => {
    if (json) {
      process.stdout.write(JSON.stringify(e) + '\n');
      return;
    }
    switch (e.type) {
      case 'start':
        console.log(`run ${e.runDir}: ${e.method}, ${e.totalSteps} steps${e.startStep ? `, resuming after step ${e.startStep}` : ''} on ${e.adapter}` +
          (e.predictedPeakBytes ? `; planned peak ${mb(e.predictedPeakBytes)}` : ''));
        bar = new ProgressBar('train', e.totalSteps);
        break;
      case 'step': {
        const info = `loss ${e.loss.toFixed(4)} lr ${e.lr.toExponential(2)} ${e.tokensPerSecond.toFixed(0)} tok/s peak ${mb(e.peakBytes.total)}`;
        if (tty) bar?.update(e.step, info, e.etaSeconds);
        else console.log(`step ${e.step}/${e.steps} ${info} elapsed ${formatSeconds(e.elapsedSeconds)} ETA ${formatSeconds(e.etaSeconds)}`);
        break;
      }
      case 'val':
        if (tty) process.stderr.write('\n');
        console.log(`step ${e.step}: validation loss ${e.valLoss.toFixed(4)} (${e.tokens} tokens)`);
        break;
      case 'sample':
        if (tty) process.stderr.write('\n');
        console.log(`step ${e.step} sample: ${JSON.stringify(e.prompt)} → ${JSON.stringify(e.reply)}`);
        break;
      case 'checkpoint':
        if (!tty) console.log(`checkpoint ${e.path}`);
        break;
      case 'done':
        if (tty) bar?.done();
        console.log(`${e.reason === 'done' ? 'finished' : 'stopped'} after step ${e.step}; adapter in ${e.adapterDir}`);
        break;
      case 'error':
        if (tty) bar?.done();
        if (e.budget) console.error(`over budget by ${formatBytes(e.budget.overshootBytes)}; last checkpoint: ${e.lastCheckpoint ?? 'none yet'}`);
        break;
    }
  });
  return 0; // a failure throws: main maps it to its exit code
}

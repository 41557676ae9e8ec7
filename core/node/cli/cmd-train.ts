// `mesp train`: a training run on the command line through the run lifecycle the app uses
// (core/node/service/lifecycle.ts), with a progress bar and ETA on a TTY and one line per step otherwise. Its flags
// are the TrainRequest's fields (core/api/train.ts). Ctrl-C (SIGINT) or SIGTERM finishes the step in flight, writes
// a checkpoint, says how to resume and exits 130. Exit code 3 when the memory cap is reached (the last checkpoint
// stays intact).
import { z } from 'zod';
import { described } from '../../api/fields';
import { TrainRequestSchema, TrainSpecSchema, type RunEvent, type TrainRequest } from '../../api/train';
import { formatBytes } from '../../common/errors';
import { PullCancelled } from '../hub/http';
import { RunStore } from '../runstore';
import { launchRun, RunControl } from '../service/lifecycle';
import { command, givenValues, only, validate } from './flags';
import { mb } from './format';
import { ProgressBar, formatSeconds, stderrIsTty } from './progress';

/** Exit code of a run stopped by a signal (128 + SIGINT), as shells report Ctrl-C. */
export const EXIT_STOPPED = 130;

export const TrainOptionsSchema = z.object({
  resume: described(z.string().min(1).optional(), {
    label: 'Resume', arg: 'RUN_DIR', group: 'options', help: 'continue a stopped run from its newest checkpoint (the same curve as an uninterrupted run)',
  }),
  json: described(z.boolean().default(false), { label: 'JSON', group: 'options', help: 'one JSON event per line on stdout' }),
});

export const TRAIN = command({
  usage: ['mesp train --model DIR --data FILE --out RUN_DIR [flags]      mesp train --resume RUN_DIR [--cap-bytes N]'],
  about: 'Fine-tune a LoRA adapter with one of four methods under a device profile\'s memory cap. Ctrl-C stops after the\n' +
    'step in flight with a checkpoint; --resume continues on the same curve.',
  shape: [TrainRequestSchema, TrainOptionsSchema],
  schema: TrainOptionsSchema,
});

/** What a resume may change: the cap (to retry a refused run with more room) and the output. */
const RESUME_KEYS = ['resume', 'json', 'capBytes'];

function printEvent(e: RunEvent, tty: boolean, bar: { current: ProgressBar | null }): void {
  switch (e.type) {
    case 'start':
      console.log(`run ${e.runDir}: ${e.method}, ${e.totalSteps} steps${e.startStep ? `, resuming after step ${e.startStep}` : ''} on ${e.adapter}` +
        (e.predictedPeakBytes ? `; planned peak ${mb(e.predictedPeakBytes)}` : ''));
      bar.current = new ProgressBar('train', e.totalSteps);
      break;
    case 'step': {
      const info = `loss ${e.loss.toFixed(4)} lr ${e.lr.toExponential(2)} ${e.tokensPerSecond.toFixed(0)} tok/s peak ${mb(e.peakBytes.total)}`;
      if (tty) bar.current?.update(e.step, info, e.etaSeconds);
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
      if (tty) bar.current?.done();
      console.log(`${e.reason === 'done' ? 'finished' : 'stopped'} after step ${e.step}; adapter in ${e.adapterDir}`);
      break;
    case 'error':
      if (tty) bar.current?.done();
      if (e.budget) console.error(`over budget by ${formatBytes(e.budget.overshootBytes)}; last checkpoint: ${e.lastCheckpoint ?? 'none yet'}`);
      break;
  }
}

export async function cmdTrain(argv: string[]): Promise<number> {
  const { values: opts, read } = TRAIN.parse(argv);
  let input: TrainRequest | { resume: string };
  let capBytes: number | undefined;
  if (opts.resume !== undefined) {
    only(read, RESUME_KEYS, TRAIN.table, `cannot be changed on --resume: the run's settings are in ${opts.resume}/config.json`);
    capBytes = validate(TrainSpecSchema.pick({ capBytes: true }), read, TRAIN.table).capBytes;
    const store = new RunStore(opts.resume);
    const config = store.readConfig();
    const ckpt = store.latestCheckpoint();
    if (!ckpt) console.error(`mesp train: ${store.dir} has no checkpoint yet, so the run starts again from step 0.`);
    else if (ckpt.step >= config.totalSteps) {
      console.error(`mesp train: ${store.dir} finished all ${config.totalSteps} steps; nothing to resume (its adapter is in ${store.adapterDir}).`);
      return 0;
    }
    input = { resume: opts.resume };
  } else {
    validate(TrainRequestSchema, read, TRAIN.table);
    input = givenValues(read, TrainOptionsSchema) as TrainRequest; // the service applies the defaults
  }
  const tty = !opts.json && stderrIsTty();
  const bar = { current: null as ProgressBar | null };
  let lastStep = 0;
  let begun = false;
  const control = new RunControl();
  const onSignal = (sig: NodeJS.Signals): void => {
    if (!control.stopRequested) {
      if (tty) process.stderr.write('\n');
      console.error(begun
        ? `mesp train: ${sig}: stopping after step ${lastStep + 1} finishes, with a checkpoint (to abandon the step instead, press Ctrl-\\).`
        : `mesp train: ${sig}: stopping before the first step (a model or dataset being pulled keeps its bytes for the next try).`);
    }
    control.stop();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const run = await launchRun({
      input, control, env: capBytes !== undefined ? { capBytes } : {},
      onEvent: (e) => {
        begun = true;
        if (e.type === 'step') lastStep = e.step;
        if (opts.json) process.stdout.write(JSON.stringify(e) + '\n');
        else printEvent(e, tty, bar);
      },
    });
    const out = await run.outcome;
    if (out.reason === 'stopped') {
      console.error(`stopped at step ${out.stepsDone}; resume with: mesp train --resume ${out.runDir}`);
      return EXIT_STOPPED;
    }
    return 0; // a failure throws: main maps it to its exit code
  } catch (e) {
    if (e instanceof PullCancelled && control.stopRequested) {
      console.error(`mesp train: stopped before the first step: ${e.message}`);
      return EXIT_STOPPED;
    }
    throw e;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

// `mesp train` and the app's Train view: a training run from a request to a run folder (core/node/runstore.ts),
// streaming events (step, val, checkpoint, timeline, done, error) to the caller and to events.jsonl. Resuming reads the
// run's config.json and newest checkpoint and continues on the same batches, so the curve is the uninterrupted one.
import { basename } from 'node:path';
import { TrainRequestSchema, type RunConfig, type RunEvent, type TrainConfig, type TrainRequest } from '../../api/train';
import { errorMessage, ConfigError, MespError, OutOfBudgetError } from '../../common/errors';
import { batchAtStep, batchesPerEpoch, makeBatches, splitValidation } from '../../data/batching';
import type { Example } from '../../data/dataset';
import type { GpuContext } from '../../gpu/context';
import { parameterCount } from '../../model/names';
import type { Projection } from '../../model/weights';
import { capBytesOf } from '../../profiles/schema';
import { initHostAdapter, loraParamCount, uploadAdapter, type HostAdapter } from '../../train/lora';
import { DEFAULT_OPTIMIZER, Optimizer } from '../../train/optimizer';
import { planTrainStep } from '../../train/plan';
import { autotune, autotuneProgressLine } from '../autotune';
import { dawnProvider } from '../dawn';
import { restoreMoments, trainLoop, type LoopResult, type TrainData, type TrainState } from '../../train/trainer';
import { publishableBaseName } from '../../export/peft';
import { loadDataset, loadTokenizer } from '../loaders';
import { RunStore } from '../runstore';
import { loadAdapterFolder } from './adapters';
import { loadModel, loadProfile, openContext, openModelFolder, type JobEnv } from './context';

export type RunControl = () => Promise<'run' | 'stop'> | 'run' | 'stop';

export interface TrainOutcome extends LoopResult {
  runDir: string;
  adapterDir: string;
}

export interface Prepared {
  cfg: TrainConfig;
  lora: { rank: number; alpha: number; targets: Projection[] };
  init: HostAdapter;
  train: Example[];
  val: Example[];
  totalSteps: number;
  padId: number;
}

const MAX_TIMELINE_POINTS = 4000;

/** Tokenize, split and size a run (shared with the Compare view's gradient-cosine check). */
export function prepare(cfg: TrainConfig, folder: ReturnType<typeof openModelFolder>): Prepared {
  const tokenizer = loadTokenizer(folder.dir);
  const rows = loadDataset(cfg.dataPath, tokenizer, { seqLen: cfg.seqLen, vocabSize: folder.config.vocab });
  const validation = cfg.valPath ? loadDataset(cfg.valPath, tokenizer, { seqLen: cfg.seqLen, vocabSize: folder.config.vocab }) : undefined;
  const split = splitValidation(rows, { fraction: cfg.valFraction, seed: cfg.seed, validation });
  if (!split.train.length) throw new ConfigError(`${cfg.dataPath}: no rows left to train on after the validation split`, { file: cfg.dataPath, field: 'valFraction' });
  const perEpoch = batchesPerEpoch(split.train.length, cfg.batch);
  const totalSteps = cfg.steps ?? (cfg.epochs ?? 1) * perEpoch;
  let init: HostAdapter;
  if (cfg.initAdapter) {
    init = loadAdapterFolder(cfg.initAdapter, folder.config);
    if (cfg.rank !== undefined && cfg.rank !== init.rank) {
      throw new ConfigError(`rank mismatch: --init-adapter ${cfg.initAdapter} has r = ${init.rank}, but --rank ${cfg.rank} was asked; drop --rank or use an adapter of rank ${cfg.rank}`, { field: 'rank' });
    }
    if (cfg.targets && [...cfg.targets].sort().join() !== [...init.targets].sort().join()) {
      throw new ConfigError(`--targets ${cfg.targets.join(',')} differ from the --init-adapter's ${init.targets.join(',')}`, { field: 'targets' });
    }
  } else {
    init = initHostAdapter(folder.config, { rank: cfg.rank ?? 8, alpha: cfg.alpha ?? 16, targets: cfg.targets ?? ['q', 'v'], seed: cfg.seed });
  }
  return {
    cfg, lora: { rank: init.rank, alpha: cfg.initAdapter ? init.alpha : cfg.alpha ?? 16, targets: [...init.targets] },
    init, train: split.train, val: split.validation, totalSteps, padId: tokenizer?.padId ?? 0,
  };
}

function errorEvent(e: unknown, step: number, store: RunStore): RunEvent {
  const last = store.latestCheckpoint()?.path ?? null;
  if (e instanceof OutOfBudgetError) {
    return {
      t: Date.now(), type: 'error', step, code: e.code, message: e.message, lastCheckpoint: last,
      budget: { request: e.request, liveByCategory: e.liveByCategory, capBytes: e.capBytes, overshootBytes: e.overshootBytes },
    };
  }
  return { t: Date.now(), type: 'error', step, code: e instanceof MespError ? e.code : 'ERROR', message: errorMessage(e), lastCheckpoint: last };
}

/** Start a new run (request.outDir must not hold one) or, with `resume`, continue the run in that folder. */
export async function runTrain(
  input: TrainRequest | { resume: string }, env: JobEnv = {}, onEvent: (e: RunEvent) => void = () => {}, control?: RunControl,
): Promise<TrainOutcome> {
  const resuming = 'resume' in input;
  const store = new RunStore(resuming ? input.resume : input.outDir);
  let config: RunConfig | null = resuming ? store.readConfig() : null;
  const cfg: TrainConfig = config ? config.request : TrainRequestSchema.parse(input);
  const profile = loadProfile(cfg.profile);
  const folder = openModelFolder(cfg.modelDir);
  const p = prepare(cfg, folder);
  const baseName = publishableBaseName(basename(folder.dir));
  const capBytes = env.capBytes ?? cfg.capBytes ?? capBytesOf(profile);
  if (!config) {
    config = {
      version: 1, createdAt: new Date().toISOString(), request: cfg, totalSteps: p.totalSteps, lora: p.lora,
      model: {
        dir: folder.dir, name: baseName, fingerprint: folder.fingerprint(), layers: folder.config.layers,
        hidden: folder.config.hidden, vocab: folder.config.vocab, parameters: parameterCount(folder.config),
      },
      data: { trainRows: p.train.length, valRows: p.val.length, trainTokens: p.train.reduce((s, r) => s + r.inputIds.length, 0) },
      loraParameters: loraParamCount(folder.config, p.lora.rank, p.lora.targets),
      capBytes, profileId: profile.id,
    };
    store.create(config);
  }
  const latest = resuming ? store.latestCheckpoint() : null;
  const state: TrainState | null = latest ? store.readCheckpoint(latest.path) : null;
  const startStep = state?.step ?? 0;
  const emit = (e: RunEvent): void => {
    store.append(e);
    onEvent(e);
  };

  const optCfg = {
    ...DEFAULT_OPTIMIZER, kind: cfg.optimizer, lr: cfg.lr, schedule: cfg.schedule, warmupSteps: cfg.warmupSteps,
    totalSteps: p.totalSteps, weightDecay: cfg.weightDecay, clipNorm: cfg.clipNorm,
  };
  const spec = {
    method: cfg.method, steps: p.totalSteps, seed: cfg.seed, storeH: cfg.storeH, chunkedHead: cfg.chunkedHead,
    headChunk: cfg.headChunk, mezoEps: cfg.mezoEps, valEvery: cfg.valEvery, checkpointEvery: cfg.checkpointEvery, immediateUpdates: true,
  };
  const longest = p.train.reduce((m, r) => Math.max(m, r.inputIds.length), 1);
  const plan = await planTrainStep({
    cfg: folder.config, quant: cfg.quant, limits: { ...profile.webgpu }, seqLen: longest, batch: Math.min(cfg.batch, p.train.length),
    method: cfg.method, rank: p.lora.rank, alpha: p.lora.alpha, targets: p.lora.targets, optimizer: optCfg,
    storeH: cfg.storeH, chunkedHead: cfg.chunkedHead, headChunk: cfg.headChunk,
  });

  // Kernel variants for the plan's shape classes: measured once per adapter, then read from the cache.
  await autotune(env.provider ?? dawnProvider, plan.tuneRequests, { limits: { ...profile.webgpu }, onProgress: (q) => {
    if (q.type === 'class' || q.todo > 0) console.error(autotuneProgressLine(q));
  } });

  let ctx: GpuContext | null = null;
  let step = startStep;
  try {
    ctx = await openContext(profile, { ...env, capBytes });
    const c = ctx;
    const model = loadModel(c, folder, cfg.quant);
    const lora = uploadAdapter(c, folder.config, state?.adapter ?? p.init);
    const opt = new Optimizer(c, lora, optCfg);
    if (state) restoreMoments(c, opt, state.moments);
    const data: TrainData = {
      batchAt: (k) => batchAtStep(p.train, cfg.batch, cfg.seed, k, { padId: p.padId }),
      val: p.val.length ? makeBatches(p.val, cfg.batch, { padId: p.padId }) : [],
    };
    emit({ t: Date.now(), type: 'start', runDir: store.dir, totalSteps: p.totalSteps, startStep, method: cfg.method, adapter: c.adapter.description, predictedPeakBytes: plan.peakBytes });
    const timelineStep = Math.min(startStep + 1, p.totalSteps - 1);
    const result = await trainLoop(c, model, lora, opt, data, spec, startStep, {
      onStepStart: (k) => {
        if (k === timelineStep) {
          c.ledger.timeline = [];
          c.ledger.recording = true;
          c.ledger.mark(`step ${k + 1}`);
        }
      },
      onEvent: (e) => {
        step = e.step;
        if (e.type === 'step') {
          emit({ t: Date.now(), ...e });
          if (c.ledger.recording) {
            c.ledger.recording = false;
            const tl = c.ledger.timeline;
            const every = Math.max(1, Math.ceil(tl.length / MAX_TIMELINE_POINTS));
            const points = tl.filter((_, i) => i % every === 0 || i === tl.length - 1).map((x) => ({ ms: x.ms, seq: x.seq, name: x.name, kind: x.kind, live: x.live }));
            c.ledger.timeline = [];
            emit({ t: Date.now(), type: 'timeline', step: e.step, points });
          }
        } else emit({ t: Date.now(), ...e });
      },
      checkpoint: async (s) => {
        const path = store.writeCheckpoint(s, baseName);
        emit({ t: Date.now(), type: 'checkpoint', step: s.step, path });
        store.writeAdapter(s.adapter, baseName); // adapter/ always holds the newest checkpoint's adapter
      },
      control,
    });
    emit({ t: Date.now(), type: 'done', step: result.stepsDone, reason: result.reason, adapterDir: store.adapterDir });
    return { ...result, runDir: store.dir, adapterDir: store.adapterDir };
  } catch (e) {
    emit(errorEvent(e, step, store));
    throw e;
  } finally {
    ctx?.destroy();
  }
}

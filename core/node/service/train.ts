// `mesp train` and the app's Train view: a training run from a request to a run folder (core/node/runstore.ts),
// streaming events (step, val, checkpoint, sample, timeline, done, error) to the caller and to events.jsonl. Resuming reads the
// run's config.json and newest checkpoint and continues on the same batches, so the curve is the uninterrupted one.
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseSettings } from '../../api/fields';
import { totalOf } from '../../api/names';
import { TrainRequestSchema, pickSpec, type RunConfig, type RunEvent, type TrainConfig, type TrainRequest } from '../../api/train';
import { errorMessage, ConfigError, FormatError, MespError, OutOfBudgetError } from '../../common/errors';
import { thinKeepingPeaks } from '../../common/series';
import { batchAtStep, batchesPerEpoch, makeBatches, splitValidation } from '../../data/batching';
import type { Example } from '../../data/dataset';
import type { GpuContext } from '../../gpu/context';
import { parameterCount } from '../../model/names';
import { capBytesOf, capOverrideIssue } from '../../profiles/schema';
import { initHostAdapter, loraParamCount, uploadAdapter, type HostAdapter } from '../../train/lora';
import { Optimizer, optimizerOf } from '../../train/optimizer';
import { planTrainStep } from '../../train/plan';
import { adapterPrecision } from '../../train/methods';
import { autotune, autotuneProgressLine } from '../autotune';
import { dawnProvider } from '../dawn';
import { LOOP_SPEC_KEYS, restoreMoments, trainLoop, type LoopResult, type TrainData, type TrainState } from '../../train/trainer';
import { publishableBaseName } from '../../export/peft';
import { loadDataset, loadTokenizer } from '../loaders';
import { cleanLeftovers, newestValidCheckpoint } from '../checkpoint';
import { RunStore } from '../runstore';
import { loadAdapterFolder } from './adapters';
import { loadModel, loadProfile, openContext, openModelFolder, resolveInputs, type JobEnv } from './context';
import { answerSamples, prepareSamples, samplesDue } from './train-samples';

/** Awaited between steps (core/node/service/lifecycle.ts RunControl.gate): 'stop' ends the run cleanly. */
export type RunGate = () => Promise<'run' | 'stop'> | 'run' | 'stop';

export interface TrainOutcome extends LoopResult {
  runDir: string;
  adapterDir: string;
}

export interface Prepared {
  cfg: TrainConfig;
  init: HostAdapter;
  train: Example[];
  val: Example[];
  totalSteps: number;
  padId: number;
}

const MAX_TIMELINE_POINTS = 4000;

/**
 * With --init-adapter the adapter's rank, alpha and targets are the run's (prepare takes them): a value given for one
 * of them that differs is an error, rather than silently ignored.
 */
function checkInitAdapter(dir: string, given: Partial<TrainRequest>, init: HostAdapter): void {
  if (given.rank !== undefined && given.rank !== init.rank) {
    throw new ConfigError(`rank mismatch: --init-adapter ${dir} has r = ${init.rank}, but --rank ${given.rank} was asked; drop --rank or use an adapter of rank ${given.rank}`, { field: 'rank' });
  }
  if (given.alpha !== undefined && given.alpha !== init.alpha) {
    throw new ConfigError(`alpha mismatch: --init-adapter ${dir} has alpha ${init.alpha}, but --alpha ${given.alpha} was asked; drop --alpha`, { field: 'alpha' });
  }
  if (given.targets !== undefined && [...given.targets].sort().join() !== [...init.targets].sort().join()) {
    throw new ConfigError(`--targets ${given.targets.join(',')} differ from the --init-adapter's ${init.targets.join(',')}`, { field: 'targets' });
  }
}

/** Tokenize, split and size a run (shared with the Compare view's gradient-cosine check). */
export async function prepare(cfg: TrainConfig, folder: ReturnType<typeof openModelFolder>): Promise<Prepared> {
  const tokenizer = loadTokenizer(folder.dir);
  const rows = await loadDataset(cfg.dataPath, tokenizer, { seqLen: cfg.seqLen, vocabSize: folder.config.vocab });
  const validation = cfg.valPath ? await loadDataset(cfg.valPath, tokenizer, { seqLen: cfg.seqLen, vocabSize: folder.config.vocab }) : undefined;
  const split = splitValidation(rows, { fraction: cfg.valFraction, seed: cfg.seed, validation });
  if (!split.train.length) throw new ConfigError(`${cfg.dataPath}: no rows left to train on after the validation split`, { file: cfg.dataPath, field: 'valFraction' });
  const perEpoch = batchesPerEpoch(split.train.length, cfg.batch);
  const totalSteps = cfg.steps ?? (cfg.epochs ?? 1) * perEpoch;
  const init = cfg.initAdapter
    ? loadAdapterFolder(cfg.initAdapter, folder.config)
    : initHostAdapter(folder.config, { rank: cfg.rank, alpha: cfg.alpha, targets: cfg.targets, seed: cfg.seed });
  return { cfg: cfg.initAdapter ? { ...cfg, rank: init.rank, alpha: init.alpha, targets: [...init.targets] } : cfg, init, train: split.train, val: split.validation, totalSteps, padId: tokenizer?.padId ?? 0 };
}

/**
 * Before a resume loads anything: what killed writes left is cleaned up, the model folder is the one the run trained
 * (its fingerprint: config.json and the safetensors headers), and the newest checkpoint that validates in full is the
 * one resumed (core/node/checkpoint.ts; newer damaged ones are skipped and reported in the start event).
 */
function checkResume(store: RunStore, config: RunConfig, folder: ReturnType<typeof openModelFolder>): ReturnType<typeof newestValidCheckpoint> {
  cleanLeftovers(store.dir);
  cleanLeftovers(store.checkpointsDir);
  const fp = folder.fingerprint();
  if (fp !== config.model.fingerprint) {
    throw new FormatError(
      join(folder.dir, 'config.json'),
      `is not the base model run ${store.dir} was trained on (fingerprint ${fp.slice(0, 12)}…, the run recorded ${config.model.fingerprint.slice(0, 12)}…): ` +
        'its config.json or weights changed since. Restore the original model folder, or start a new run.',
    );
  }
  return newestValidCheckpoint(store.checkpoints(), { run: config, model: folder.config });
}

/** A new run's folder must be new, empty, or not exist: a run never writes into a folder of other files. */
function checkNewRunFolder(dir: string): void {
  const store = new RunStore(dir);
  if (store.exists()) {
    throw new ConfigError(`${store.dir} already holds a run; use --resume ${store.dir} to continue it, or choose another --out`, { file: store.configPath, field: 'outDir' });
  }
  if (existsSync(store.dir) && readdirSync(store.dir).length > 0) {
    throw new ConfigError(`${store.dir} is a folder with other files in it; give --out a new or empty folder for the run`, { field: 'outDir' });
  }
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

/**
 * Start a new run (request.outDir must be new or empty) or, with `resume`, continue the run in that folder from its
 * newest checkpoint (events of steps after it, from an attempt that died, are dropped, so each step is on disk once).
 * A new run that fails before its first step leaves no folder behind.
 */
export async function runTrain(
  input: TrainRequest | { resume: string }, env: JobEnv = {}, onEvent: (e: RunEvent) => void = () => {}, gate?: RunGate,
): Promise<TrainOutcome> {
  const resuming = 'resume' in input;
  const dir = resolve(resuming ? input.resume : input.outDir);
  const store = new RunStore(dir);
  let config: RunConfig | null = resuming ? store.readConfig() : null;
  if (!resuming) checkNewRunFolder(dir);
  const existed = existsSync(dir);
  // A new run records the resolved paths (a pulled model's snapshot, pinned to its commit), so a resume reads the same files.
  let cfg: TrainConfig = config ? config.request : await resolveInputs(parseSettings(TrainRequestSchema, input), env);
  const profile = loadProfile(cfg.profile);
  const folder = openModelFolder(cfg.modelDir);
  // A resume checks what it resumes before loading anything: the base model is the run's, and the checkpoint is whole.
  const resumed = config ? checkResume(store, config, folder) : null;
  const p = await prepare(cfg, folder);
  if (!resuming && cfg.initAdapter) checkInitAdapter(cfg.initAdapter, input, p.init);
  cfg = p.cfg;
  const samples = await prepareSamples(cfg, folder);
  const baseName = publishableBaseName(folder.name);
  const capBytes = env.capBytes ?? cfg.capBytes ?? capBytesOf(profile);
  const capIssue = capOverrideIssue(capBytes, profile);
  if (capIssue) throw new ConfigError(capIssue, { field: 'capBytes' });
  if (config && config.capBytes !== capBytes) {
    // A resume under another cap: config.json (and so the Runs list) says the cap this run now runs under.
    config = { ...config, capBytes };
    store.rewriteConfig(config);
  }
  let started = false;
  /** Nothing ran: leave no half-made run (a folder that was there empty is emptied again). */
  const discard = (): void => {
    if (resuming) return;
    try {
      if (!existed) rmSync(dir, { recursive: true, force: true });
      else for (const f of readdirSync(dir)) rmSync(join(dir, f), { recursive: true, force: true });
    } catch {
      // nothing to remove where the folder could not be made (a file on its path): the first error is the one to tell
    }
  };
  if (!config) {
    config = {
      version: 1, createdAt: new Date().toISOString(), request: cfg, totalSteps: p.totalSteps, lora: { rank: cfg.rank, alpha: cfg.alpha, targets: [...cfg.targets] },
      model: {
        dir: folder.dir, name: baseName, fingerprint: folder.fingerprint(), layers: folder.config.layers,
        hidden: folder.config.hidden, vocab: folder.config.vocab, parameters: parameterCount(folder.config),
      },
      data: { trainRows: p.train.length, valRows: p.val.length, trainTokens: p.train.reduce((s, r) => s + r.inputIds.length, 0) },
      loraParameters: loraParamCount(folder.config, cfg.rank, cfg.targets),
      capBytes, profileId: profile.id,
    };
    try {
      store.create(config);
    } catch (e) {
      discard(); // a folder that could not take its config.json (a full disk) is not left to block --out
      throw e;
    }
  }
  const state: TrainState | null = resumed?.state ?? null;
  const startStep = state?.step ?? 0;
  if (resuming) store.dropEventsAfter(startStep);
  const emit = (e: RunEvent): void => {
    store.append(e);
    onEvent(e);
  };

  const optCfg = optimizerOf(cfg, p.totalSteps);
  const spec = { ...pickSpec(cfg, LOOP_SPEC_KEYS), method: cfg.method, steps: p.totalSteps, immediateUpdates: true };
  let ctx: GpuContext | null = null;
  let step = startStep;
  try {
    const longest = p.train.reduce((m, r) => Math.max(m, r.inputIds.length), 1);
    const plan = await planTrainStep({
      cfg: folder.config, quant: cfg.quant, limits: { ...profile.webgpu }, seqLen: longest, batch: Math.min(cfg.batch, p.train.length),
      method: cfg.method, rank: cfg.rank, alpha: cfg.alpha, targets: cfg.targets, optimizer: optCfg,
      storeH: cfg.storeH, chunkedHead: cfg.chunkedHead, headChunk: cfg.headChunk, precision: cfg.precision,
    });
    // Kernel variants for the plan's shape classes: measured once per adapter, then read from the cache.
    await autotune(env.provider ?? dawnProvider, plan.tuneRequests, { limits: { ...profile.webgpu }, onProgress: (q) => {
      if (q.type === 'class' || q.todo > 0) console.error(autotuneProgressLine(q));
    } });
    ctx = await openContext(profile, { ...env, capBytes });
    const c = ctx;
    const model = loadModel(c, folder, cfg.quant);
    const lora = uploadAdapter(c, folder.config, state?.adapter ?? p.init, adapterPrecision(cfg.method, cfg.precision));
    const opt = new Optimizer(c, lora, optCfg);
    if (state) restoreMoments(c, opt, state.moments);
    const data: TrainData = {
      batchAt: (k) => batchAtStep(p.train, cfg.batch, cfg.seed, k, { padId: p.padId }),
      val: p.val.length ? makeBatches(p.val, cfg.batch, { padId: p.padId }) : [],
    };
    started = true;
    emit({
      t: Date.now(), type: 'start', runDir: store.dir, totalSteps: p.totalSteps, startStep, method: cfg.method, adapter: c.adapter.description,
      predictedPeakBytes: plan.peakBytes, capBytes, ...(resumed?.skipped.length ? { skippedCheckpoints: resumed.skipped } : {}),
    });
    const sampleAt = async (k: number): Promise<void> => {
      if (!samples || !samplesDue(samples, k, p.totalSteps)) return;
      for (const r of await answerSamples(c, model, lora, samples)) emit({ t: Date.now(), type: 'sample', step: k, ...r });
    };
    if (startStep === 0) await sampleAt(0);
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
            // Thinned keeping the step's peak, so the chart's highest point is the step's measured peak.
            const points = thinKeepingPeaks(tl, MAX_TIMELINE_POINTS, (x) => totalOf(x.live)).map((x) => ({ ms: x.ms, seq: x.seq, name: x.name, kind: x.kind, live: x.live }));
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
      control: gate,
      afterStep: sampleAt,
    });
    emit({ t: Date.now(), type: 'done', step: result.stepsDone, reason: result.reason, adapterDir: store.adapterDir });
    return { ...result, runDir: store.dir, adapterDir: store.adapterDir };
  } catch (e) {
    if (started || resuming) emit(errorEvent(e, step, store));
    else discard();
    throw e;
  } finally {
    ctx?.destroy();
  }
}

// What `train --resume` resumes from: a checkpoint folder (core/node/runstore.ts writes it: adapter_config.json,
// adapter_model.safetensors and optimizer.safetensors in PEFT's and safetensors' formats, state.json) validated in
// full against the run's config.json and the model it trains before any of it reaches the GPU: the step (the folder's
// name, state.json, 1..totalSteps), the adapter's rank, alpha and targets (the run's), every tensor's shape (the
// model's projections, core/train/lora checkAdapterFits), finite values, and AdamW's two moments for every adapter
// tensor (same length, finite, exp_avg_sq ≥ 0). The newest valid checkpoint wins; damaged newer ones are reported
// by name and skipped. Also the clean-up of what a killed atomic write leaves (core/node/atomic.ts's `.tmp-` and
// `.old-` siblings).
import { existsSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { RunConfig } from '../api/train';
import { errorMessage, isJsonObject, FormatError } from '../common/errors';
import { checkFinite } from '../common/finite';
import { parseSafetensors, readTensorF32 } from '../common/safetensors';
import { readPeft } from '../export/peft';
import type { Qwen2Config } from '../model/config';
import { checkAdapterFits } from '../train/lora';
import type { TrainState } from '../train/trainer';

/** What a checkpoint must agree with: the run's config.json and the model folder it trains. */
export interface CheckpointExpect {
  run: RunConfig;
  model: Qwen2Config;
}

/** A checkpoint that was skipped, and why (for the start event and the CLI). */
export interface SkippedCheckpoint {
  path: string;
  reason: string;
}

function readRegular(path: string, what: string): Buffer {
  if (!existsSync(path)) throw new FormatError(path, `is missing: the checkpoint has no ${what}`);
  if (!statSync(path).isFile()) throw new FormatError(path, `is not a regular file: the checkpoint's ${what} must be a file`);
  return readFileSync(path);
}

/**
 * Read and check the checkpoint at `path` (folder step-NNNNNNN of `step`). Throws FormatError naming the file and what
 * is wrong; returns the state only when every check passed.
 */
export function readValidCheckpoint(path: string, step: number, expect: CheckpointExpect): TrainState {
  const { run, model } = expect;
  const stateFile = join(path, 'state.json');
  let state: unknown;
  try {
    state = JSON.parse(readRegular(stateFile, 'state.json').toString('utf8'));
  } catch (e) {
    if (e instanceof FormatError) throw e;
    throw new FormatError(stateFile, `is not valid JSON (${errorMessage(e)})`);
  }
  const s = isJsonObject(state) ? state.step : undefined;
  if (typeof s !== 'number' || !Number.isInteger(s)) throw new FormatError(stateFile, `field "step" must be an integer, got ${JSON.stringify(s)}`);
  if (s !== step) throw new FormatError(stateFile, `field "step" is ${s}, but the folder is the checkpoint of step ${step}`);
  if (s < 1 || s > run.totalSteps) throw new FormatError(stateFile, `field "step" is ${s}, outside the run's 1..${run.totalSteps} steps (config.json totalSteps)`);

  const cfgFile = join(path, 'adapter_config.json');
  const wFile = join(path, 'adapter_model.safetensors');
  const adapter = readPeft(readRegular(cfgFile, 'adapter_config.json').toString('utf8'), new Uint8Array(readRegular(wFile, 'adapter weights')), { config: cfgFile, weights: wFile });
  const want = run.lora;
  if (adapter.rank !== want.rank) throw new FormatError(cfgFile, `"r" is ${adapter.rank}, but the run trains rank ${want.rank} (config.json lora.rank): this checkpoint is from another run`);
  if (adapter.alpha !== want.alpha) throw new FormatError(cfgFile, `"lora_alpha" is ${adapter.alpha}, but the run uses ${want.alpha} (config.json lora.alpha): this checkpoint is from another run`);
  const targets = [...adapter.targets].sort().join(',');
  if (targets !== [...want.targets].sort().join(',')) {
    throw new FormatError(wFile, `holds adapters on ${targets || 'nothing'}, but the run trains ${[...want.targets].sort().join(',')} (config.json lora.targets): this checkpoint is from another run`);
  }
  try {
    checkAdapterFits(model, adapter, path);
  } catch (e) {
    throw new FormatError(wFile, `does not fit the model: ${errorMessage(e)}`);
  }
  for (const [which, m] of [['lora_A', adapter.A], ['lora_B', adapter.B]] as const) {
    for (const [key, values] of m) checkFinite(values, wFile, `layer ${key.replace('.', ' ')}_proj ${which}`, [values.length], 'The checkpoint is damaged or the run diverged.');
  }

  const moments = new Map<string, { m: Float32Array; v: Float32Array }>();
  if (run.request.optimizer === 'adamw') {
    const oFile = join(path, 'optimizer.safetensors');
    const bytes = new Uint8Array(readRegular(oFile, 'optimizer state (AdamW moments)'));
    const st = parseSafetensors(bytes, oFile);
    for (const [which, params] of [['A', adapter.A], ['B', adapter.B]] as const) {
      for (const [k, values] of params) {
        const key = `${k}.${which}`;
        const get = (suffix: string): Float32Array => {
          const info = st.tensors.get(`${key}.${suffix}`);
          if (!info) throw new FormatError(oFile, `has no tensor "${key}.${suffix}": the AdamW state of every adapter tensor must be saved`);
          const t = readTensorF32(bytes, info, oFile);
          if (t.length !== values.length) throw new FormatError(oFile, `tensor "${key}.${suffix}" has ${t.length} values, the adapter tensor it belongs to has ${values.length}`);
          checkFinite(t, oFile, `${key}.${suffix}`, [t.length], 'The checkpoint is damaged.');
          return t;
        };
        const mv = { m: get('exp_avg'), v: get('exp_avg_sq') };
        const neg = mv.v.findIndex((x) => x < 0);
        if (neg >= 0) throw new FormatError(oFile, `tensor "${key}.exp_avg_sq" holds ${mv.v[neg]} at [${neg}]: a second moment is never negative. The checkpoint is damaged.`);
        moments.set(key, mv);
      }
    }
    const extra = [...st.tensors.keys()].find((n) => !moments.has(n.replace(/\.exp_avg(_sq)?$/, '')));
    if (extra !== undefined) throw new FormatError(oFile, `holds tensor "${extra}", which belongs to no adapter tensor of the run`);
  }
  return { step: s, adapter: { rank: adapter.rank, alpha: adapter.alpha, targets: adapter.targets, A: adapter.A, B: adapter.B }, moments };
}

/**
 * The newest checkpoint of `checkpoints` (oldest first) that passes readValidCheckpoint, with the newer ones skipped
 * and why. No checkpoints: null state (the run starts at step 0). Checkpoints, none valid: FormatError naming each.
 */
export function newestValidCheckpoint(
  checkpoints: readonly { step: number; path: string }[], expect: CheckpointExpect,
): { state: TrainState | null; path: string | null; skipped: SkippedCheckpoint[] } {
  const skipped: SkippedCheckpoint[] = [];
  for (let i = checkpoints.length - 1; i >= 0; i--) {
    const c = checkpoints[i];
    try {
      return { state: readValidCheckpoint(c.path, c.step, expect), path: c.path, skipped };
    } catch (e) {
      if (!(e instanceof FormatError) && !(e instanceof Error && 'code' in e)) throw e;
      skipped.push({ path: c.path, reason: errorMessage(e) });
    }
  }
  if (!skipped.length) return { state: null, path: null, skipped };
  throw new FormatError(
    skipped[0].path,
    `no checkpoint of this run can be resumed: ${skipped.map((s) => s.reason).join('; ')}. ` +
      'Start the run again with a new --out (or remove the damaged checkpoints folder to start this run from step 0).',
  );
}

/** core/node/atomic.ts's temporaries: `<name>.tmp-<pid>-<ms>` and `<name>.old-<pid>-<ms>`. */
const LEFTOVER_RE = /^(.+)\.(tmp|old)-\d+-\d+$/;

/**
 * Remove what killed atomic writes left in `dir`: temporaries go; an `.old-` copy whose target is missing (killed
 * between the two renames of a folder swap) is put back. Returns the names handled.
 */
export function cleanLeftovers(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const done: string[] = [];
  for (const name of readdirSync(dir)) {
    const m = LEFTOVER_RE.exec(name);
    if (!m) continue;
    const path = join(dir, name);
    if (m[2] === 'old' && !existsSync(join(dir, m[1]))) renameSync(path, join(dir, m[1]));
    else rmSync(path, { recursive: true, force: true });
    done.push(name);
  }
  return done;
}

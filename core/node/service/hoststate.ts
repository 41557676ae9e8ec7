// What the service's handlers share (core/node/service/host.ts dispatches each request to them): the app-data folder,
// the path policy, the event listeners, the live runs and comparisons, and the one GPU job at a time (a run or a
// comparison: the GPU and the CPU cores are shared). launch() starts a run through the run lifecycle
// (core/node/service/lifecycle.ts, the one `mesp train` uses too) as a run the app can pause, resume and stop;
// everything the run does is in its folder as it happens (core/node/runstore.ts).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  APP_VERSION,
  ContractError,
  type ContractMethod,
  type ParsedParamsOf,
  type ResultOf,
  type RunParams,
  type ServiceError,
  type ServiceEvent,
} from '../../api/contract';
import type { TrainRequest } from '../../api/train';
import { errorMessage, ConfigError, MespError, OutOfBudgetError } from '../../common/errors';
import { parseProfile, type DeviceProfile } from '../../profiles/schema';
import { isBuiltinProfileId, listBuiltinProfiles } from '../../profiles/builtin';
import { RunStore } from '../runstore';
import { AppData } from './appdata';
import { isHubRef } from '../hub/resolve';
import { hubCacheDir, hubSettings, type HubOverrides, type HubSettings } from '../hub/settings';
import type { JobEnv } from './context';
import { PathPolicy } from './paths';
import { launchRun, RunControl } from './lifecycle';
import { isRunId, summarizeRun } from './runs';
import { Uploads } from './uploads';

export interface HostOptions {
  /** The app-data folder (runs, comparisons, profiles, uploads, demo). */
  dataDir: string;
  /** More folders whose files requests may name (browser mode: --root). The app-data folder is always allowed. */
  roots?: string[];
  mode: 'electron' | 'browser' | 'test';
  /** GPU provider and cap overrides (tests). */
  env?: JobEnv;
  version?: string;
  /** The hub and its cache for hub.* (else HF_HUB_CACHE, HF_ENDPOINT, HF_TOKEN, HF_HUB_OFFLINE); its cache folder is readable. */
  hub?: HubOverrides & { freeBytes?: (dir: string) => number };
}

/** A hub pull running in the background (hub.pull); hub.cancel aborts it, and a later pull resumes its bytes. */
export interface LivePull {
  id: string;
  repo: string;
  kind: 'model' | 'dataset';
  file?: string;
  abort: AbortController;
  done: Promise<void>;
}

export interface LiveRun {
  id: string;
  dir: string;
  control: RunControl;
  done: Promise<void>;
}

export interface LiveCompare {
  id: string;
  control: RunControl;
  done: Promise<void>;
}

/** Who calls: a browser-mode page connection (uploads go to its own folder), or the process itself ('local'). */
export interface CallContext {
  client: string;
}
export const LOCAL_CALLER: CallContext = { client: 'local' };

export type Handlers = { [M in ContractMethod]: (p: ParsedParamsOf<M>, ctx: CallContext) => Promise<ResultOf<M>> | ResultOf<M> };

/** An error as the contract carries it: code, message (what, where, what to do), field, budget report. */
export function toServiceError(e: unknown): ServiceError {
  if (e instanceof OutOfBudgetError) {
    return { code: e.code, message: e.message, budget: { request: e.request, liveByCategory: e.liveByCategory, capBytes: e.capBytes, overshootBytes: e.overshootBytes } };
  }
  if (e instanceof ConfigError) return { code: e.code, message: e.message, ...(e.field ? { field: e.field } : {}) };
  if (e instanceof ContractError) return { code: e.code, message: e.message, ...(e.field ? { field: e.field } : {}) };
  if (e instanceof MespError) return { code: e.code, message: e.message };
  return { code: 'ERROR', message: errorMessage(e) };
}

/** The files a run reads, each resolved under the path policy. */
type RunPathKey = 'modelDir' | 'dataPath' | 'valPath' | 'initAdapter' | 'samplePrompts';

/**
 * The training request of a run: the params' settings as they are, with the inputs the host resolved (paths under its
 * policy, the profile's file) and the run folder it chose.
 */
export function trainRequest(p: RunParams & { name?: string }, at: Pick<TrainRequest, RunPathKey | 'profile' | 'outDir'>): TrainRequest {
  const { name: _name, ...settings } = p;
  return { ...settings, ...at };
}

/** A user copy's file name under profiles/. */
export const PROFILE_FILE = /^[a-z0-9]+(?:-[a-z0-9]+)*\.json$/;

export class HostState {
  readonly data: AppData;
  readonly paths: PathPolicy;
  readonly mode: HostOptions['mode'];
  readonly env: JobEnv;
  readonly version: string;
  readonly live = new Map<string, LiveRun>();
  readonly compares = new Map<string, LiveCompare>();
  readonly uploads: Uploads;
  readonly pulls = new Map<string, LivePull>();
  readonly hubOptions: NonNullable<HostOptions['hub']>;
  busy: { kind: 'run' | 'compare'; id: string } | null = null;
  private readonly listeners = new Set<(e: ServiceEvent) => void>();

  constructor(opts: HostOptions) {
    this.mode = opts.mode;
    // Jobs resolve hub ids (resolveInputs) against the same hub and cache as the hub.* requests.
    this.env = { ...(opts.hub ? { hub: opts.hub } : {}), ...opts.env };
    this.version = opts.version ?? APP_VERSION;
    this.data = new AppData(opts.dataDir);
    this.data.ensureDemo();
    this.hubOptions = opts.hub ?? {};
    this.paths = new PathPolicy([this.data.dir, ...(opts.roots ?? []), hubCacheDir(this.hubOptions)]);
    this.uploads = new Uploads(this.data.uploadsDir);
  }

  /** The hub settings now (read per request: a bad HF_TOKEN fails the hub requests, not the service). */
  hub(): HubSettings {
    return hubSettings(this.hubOptions);
  }

  onEvent(listener: (e: ServiceEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  emit(e: ServiceEvent): void {
    for (const l of this.listeners) {
      try {
        l(e);
      } catch {
        // a listener's failure (a closed socket) must not stop a run
      }
    }
  }

  claim(kind: 'run' | 'compare', id: string): void {
    if (this.busy) {
      throw new MespError(
        'BUSY',
        `cannot start ${kind === 'run' ? 'a run' : 'a comparison'}: ${this.busy.kind === 'run' ? 'run' : 'comparison'} ${this.busy.id} is using the GPU. ` +
          `Wait for it to finish, or stop it first.`,
      );
    }
    this.busy = { kind, id };
  }

  release(id: string): void {
    if (this.busy?.id === id) this.busy = null;
  }


  /** A built-in id, or the id of a user copy saved under profiles/ (its file path is what the engine loads). */
  profileRef(id: string): { ref: string; profile: DeviceProfile } {
    if (isBuiltinProfileId(id)) return { ref: id, profile: listBuiltinProfiles().find((p) => p.id === id)! };
    const file = join(this.data.profilesDir, `${id}.json`);
    if (!PROFILE_FILE.test(`${id}.json`) || !existsSync(file)) {
      throw new ConfigError(`unknown device profile "${id}": choose one in Devices (built-in: ${listBuiltinProfiles().map((p) => p.id).join(', ')}), or save a copy first.`, { field: 'profile' });
    }
    return { ref: file, profile: parseProfile(readFileSync(file, 'utf8'), file) };
  }

  runDir(id: string): string {
    if (!isRunId(id)) throw new ConfigError(`"${id}" is not a run id (a folder name under ${this.data.runsDir}).`, { field: 'runId' });
    const dir = join(this.data.runsDir, id);
    if (!new RunStore(dir).exists()) throw new ConfigError(`no run "${id}" in ${this.data.runsDir}: it may have been deleted. Refresh the Runs list.`, { field: 'runId' });
    return dir;
  }

  /**
   * The params' input paths, resolved under the path policy, and the profile's file (what the engine loads). A hub id
   * (model OWNER/NAME[@REV], data hf://datasets/…) stays an id: the job resolves it into the hub cache, an allowed root.
   */
  inputs(p: Pick<TrainRequest, RunPathKey> & { profile: string }): Pick<TrainRequest, RunPathKey | 'profile'> {
    const data = (v: string, field: string): string => (isHubRef(v, 'dataset') ? v : this.paths.require(v, field));
    return {
      modelDir: isHubRef(p.modelDir, 'model') ? p.modelDir : this.paths.require(p.modelDir, 'modelDir'),
      dataPath: data(p.dataPath, 'dataPath'),
      ...(p.valPath ? { valPath: data(p.valPath, 'valPath') } : {}),
      ...(p.initAdapter ? { initAdapter: this.paths.require(p.initAdapter, 'initAdapter') } : {}),
      ...(p.samplePrompts ? { samplePrompts: this.paths.require(p.samplePrompts, 'samplePrompts') } : {}),
      profile: this.profileRef(p.profile).ref,
    };
  }

  /**
   * Start (or resume) run `id` through the run lifecycle, under the one GPU job slot. Resolves once the run has begun
   * so the caller can follow it; a request that fails before the run exists rejects instead.
   */
  async launch(id: string, dir: string, input: TrainRequest | { resume: string }, capBytes?: number): Promise<void> {
    this.claim('run', id);
    const control = new RunControl((status) => this.emit({ type: 'run.status', runId: id, status }));
    const run: LiveRun = { id, dir, control, done: Promise.resolve() };
    this.live.set(id, run);
    this.emit({ type: 'run.status', runId: id, status: 'running' });
    const finish = (): void => {
      this.live.delete(id);
      this.release(id);
      const s = summarizeRun(id, dir, null);
      if (s) this.emit({ type: 'run.status', runId: id, status: s.status });
    };
    let launched;
    try {
      launched = await launchRun({ input, env: { ...this.env, ...(capBytes ? { capBytes } : {}) }, control, onEvent: (e) => this.emit({ type: 'run', runId: id, event: e }) });
    } catch (e) {
      finish();
      throw e;
    }
    run.done = launched.outcome.then(() => undefined, () => undefined).finally(finish);
  }
}

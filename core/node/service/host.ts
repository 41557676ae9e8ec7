// The service behind the app (DESIGN.md §2): implements every method of core/api/contract.ts on top of the training
// service (runTrain), the engine's memory plan (planTrainStep), the run store and the compare service, validating each
// request's params and each result against the contract's zod schemas. Transport-free: Electron's utilityProcess
// (core/node/server/utility.ts), the browser-mode WebSocket server (core/node/server/web.ts) and the tests all wrap
// one ServiceHost. One GPU job (a run or a comparison) at a time: the GPU and the CPU cores are shared.
// Runs survive the app: everything a run does is in its folder as it happens, so a run whose process died shows as
// "interrupted" and resumes from its last checkpoint (runTrain({ resume })).
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import {
  CONTRACT,
  ContractError,
  DeviceProfileSchema,
  parseParams,
  parseRequest,
  type Comparison,
  type ContractMethod,
  type ParsedParamsOf,
  type ProfileEntry,
  type ResponseEnvelope,
  type ResultOf,
  type RunStatus,
  type ServiceError,
  type ServiceEvent,
} from '../../api/contract';
import type { MethodName, RunEvent, TrainRequest } from '../../api/train';
import { ConfigError, MespError, OutOfBudgetError } from '../../common/errors';
import { capBytesOf, parseProfile, type DeviceProfile } from '../../profiles/schema';
import { isBuiltinProfileId, listBuiltinProfiles } from '../../profiles/builtin';
import { AppData } from './appdata';
import { ComparisonStore, listComparisons, methodResult, mezoCosine, openComparison } from './compare';
import type { JobEnv } from './context';
import { exportRun, previewExport } from '../export';
import { inspectDataset, inspectModel, planFit } from './inspect';
import { PathPolicy } from './paths';
import { isRunId, listRuns, newRunId, summarizeRun } from './runs';
import { runTrain } from './train';
import { RunStore } from '../runstore';

export interface HostOptions {
  /** The app-data folder (runs, comparisons, profiles, uploads, demo). */
  dataDir: string;
  /** More folders whose files requests may name (browser mode: --root). The app-data folder is always allowed. */
  roots?: string[];
  mode: 'electron' | 'browser' | 'test';
  /** GPU provider and cap overrides (tests). */
  env?: JobEnv;
  version?: string;
}

interface LiveRun {
  id: string;
  dir: string;
  status: RunStatus;
  paused: boolean;
  stop: boolean;
  wake: (() => void) | null;
  done: Promise<void>;
}

interface LiveCompare {
  id: string;
  stop: boolean;
  current: LiveRun | null;
  done: Promise<void>;
}

type Handlers = { [M in ContractMethod]: (p: ParsedParamsOf<M>) => Promise<ResultOf<M>> | ResultOf<M> };

/** An error as the contract carries it: code, message (what, where, what to do), field, budget report. */
export function toServiceError(e: unknown): ServiceError {
  if (e instanceof OutOfBudgetError) {
    return { code: e.code, message: e.message, budget: { request: e.request, liveByCategory: e.liveByCategory, capBytes: e.capBytes, overshootBytes: e.overshootBytes } };
  }
  if (e instanceof ConfigError) return { code: e.code, message: e.message, ...(e.field ? { field: e.field } : {}) };
  if (e instanceof ContractError) return { code: e.code, message: e.message, ...(e.field ? { field: e.field } : {}) };
  if (e instanceof MespError) return { code: e.code, message: e.message };
  return { code: 'ERROR', message: e instanceof Error ? e.message : String(e) };
}

const PROFILE_FILE = /^[a-z0-9]+(?:-[a-z0-9]+)*\.json$/;

export class ServiceHost {
  readonly data: AppData;
  readonly paths: PathPolicy;
  readonly mode: HostOptions['mode'];
  private readonly env: JobEnv;
  private readonly version: string;
  private readonly listeners = new Set<(e: ServiceEvent) => void>();
  private readonly live = new Map<string, LiveRun>();
  private readonly compares = new Map<string, LiveCompare>();
  private busy: { kind: 'run' | 'compare'; id: string } | null = null;
  private readonly handlers: Handlers;

  constructor(opts: HostOptions) {
    this.mode = opts.mode;
    this.env = opts.env ?? {};
    this.version = opts.version ?? '0.1.0';
    this.data = new AppData(opts.dataDir);
    this.data.ensureDemo();
    const granted = opts.mode === 'electron' ? this.data.readSettings().granted : [];
    this.paths = new PathPolicy([this.data.dir, ...(opts.roots ?? [])], granted);
    this.handlers = this.makeHandlers();
  }

  onEvent(listener: (e: ServiceEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(e: ServiceEvent): void {
    for (const l of this.listeners) {
      try {
        l(e);
      } catch {
        // a listener's failure (a closed socket) must not stop a run
      }
    }
  }

  /** Desktop app only: main grants a path the user picked in a native dialog. */
  grant(path: string): void {
    this.paths.grant(path);
    if (this.mode === 'electron') this.data.grant(resolve(path));
  }

  /** One request envelope in, one response envelope out; never throws. */
  async handle(raw: unknown): Promise<ResponseEnvelope> {
    const id = typeof raw === 'object' && raw !== null && typeof (raw as { id?: unknown }).id === 'number' ? (raw as { id: number }).id : 0;
    try {
      const req = parseRequest(raw);
      const result = await (this.handlers[req.method] as (p: unknown) => unknown)(req.params);
      const checked = CONTRACT[req.method].result.safeParse(result);
      if (!checked.success) throw new ContractError(`${req.method}: internal error, the result breaks the contract: ${checked.error.issues[0]?.message}`);
      return { id, ok: true, result: checked.data };
    } catch (e) {
      return { id, ok: false, error: toServiceError(e) };
    }
  }

  /** In-process call (tests, the CLI): params validated like a request, the error thrown as a typed error. */
  async call<M extends ContractMethod>(method: M, params: unknown): Promise<ResultOf<M>> {
    const p = parseParams(method, params);
    const r = await (this.handlers[method] as (p: unknown) => unknown)(p);
    return CONTRACT[method].result.parse(r) as ResultOf<M>;
  }

  /** Resolves when no run or comparison is in progress. */
  async idle(): Promise<void> {
    for (;;) {
      const waits = [...this.live.values()].map((r) => r.done).concat([...this.compares.values()].map((c) => c.done));
      if (!waits.length) return;
      await Promise.allSettled(waits);
    }
  }

  /** Stop whatever runs (the process is closing); runs end with a checkpoint. */
  async shutdown(): Promise<void> {
    for (const c of this.compares.values()) c.stop = true;
    for (const r of this.live.values()) {
      r.stop = true;
      r.wake?.();
    }
    await this.idle();
  }

  // ------------------------------------------------------------------------------------------------- helpers

  private claim(kind: 'run' | 'compare', id: string): void {
    if (this.busy) {
      throw new MespError(
        'BUSY',
        `cannot start ${kind === 'run' ? 'a run' : 'a comparison'}: ${this.busy.kind === 'run' ? 'run' : 'comparison'} ${this.busy.id} is using the GPU. ` +
          `Wait for it to finish, or stop it first.`,
      );
    }
    this.busy = { kind, id };
  }

  private release(id: string): void {
    if (this.busy?.id === id) this.busy = null;
  }

  private setStatus(run: LiveRun, status: RunStatus): void {
    run.status = status;
    this.emit({ type: 'run.status', runId: run.id, status });
  }

  /** A built-in id, or the id of a user copy saved under profiles/ (its file path is what the engine loads). */
  private profileRef(id: string): { ref: string; profile: DeviceProfile } {
    if (isBuiltinProfileId(id)) return { ref: id, profile: listBuiltinProfiles().find((p) => p.id === id)! };
    const file = join(this.data.profilesDir, `${id}.json`);
    if (!PROFILE_FILE.test(`${id}.json`) || !existsSync(file)) {
      throw new ConfigError(`unknown device profile "${id}": choose one in Devices (built-in: ${listBuiltinProfiles().map((p) => p.id).join(', ')}), or save a copy first.`, { field: 'profile' });
    }
    return { ref: file, profile: parseProfile(readFileSync(file, 'utf8'), file) };
  }

  private userProfiles(): ProfileEntry[] {
    const out: ProfileEntry[] = [];
    for (const name of readdirSync(this.data.profilesDir)) {
      if (!PROFILE_FILE.test(name)) continue;
      const file = join(this.data.profilesDir, name);
      try {
        const p = parseProfile(readFileSync(file, 'utf8'), file);
        out.push({ profile: p, source: 'user', path: file, capBytes: capBytesOf(p) });
      } catch {
        // an invalid hand-edited file is not offered; Devices can re-save a valid copy
      }
    }
    return out;
  }

  private runDir(id: string): string {
    if (!isRunId(id)) throw new ConfigError(`"${id}" is not a run id (a folder name under ${this.data.runsDir}).`, { field: 'runId' });
    const dir = join(this.data.runsDir, id);
    if (!new RunStore(dir).exists()) throw new ConfigError(`no run "${id}" in ${this.data.runsDir}: it may have been deleted. Refresh the Runs list.`, { field: 'runId' });
    return dir;
  }

  /**
   * Start runTrain in the background as run `id`. Resolves once the run has begun (its first event) so the caller can
   * follow it; a request that fails before the run exists (a bad dataset row, a missing file) rejects instead.
   */
  private async launch(id: string, dir: string, input: TrainRequest | { resume: string }, capBytes?: number): Promise<void> {
    this.claim('run', id);
    const run: LiveRun = { id, dir, status: 'running', paused: false, stop: false, wake: null, done: Promise.resolve() };
    this.live.set(id, run);
    this.setStatus(run, 'running');
    let sawEvent = false;
    let begun!: () => void;
    const started = new Promise<void>((r) => (begun = r));
    const control = async (): Promise<'run' | 'stop'> => {
      while (run.paused && !run.stop) {
        if (run.status !== 'paused') this.setStatus(run, 'paused');
        await new Promise<void>((r) => (run.wake = r));
        run.wake = null;
      }
      if (run.stop) return 'stop';
      if (run.status !== 'running') this.setStatus(run, 'running');
      return 'run';
    };
    const onEvent = (e: RunEvent): void => {
      sawEvent = true;
      this.emit({ type: 'run', runId: id, event: e });
      begun();
    };
    const job = runTrain(input, { ...this.env, ...(capBytes ? { capBytes } : {}) }, onEvent, control);
    run.done = job.then(
      () => undefined,
      () => undefined,
    ).finally(() => {
      this.live.delete(id);
      this.release(id);
      const s = summarizeRun(id, dir, null);
      if (s) this.emit({ type: 'run.status', runId: id, status: s.status });
    });
    try {
      await Promise.race([started, job.then(() => undefined)]);
    } catch (e) {
      if (!sawEvent) {
        if (!('resume' in input)) rmSync(dir, { recursive: true, force: true }); // nothing ran: leave no empty run
        throw e;
      }
    }
  }

  // ------------------------------------------------------------------------------------------------- handlers

  private makeHandlers(): Handlers {
    return {
      'app.info': () => {
        const s = this.data.readSettings();
        const activeRun = this.busy?.kind === 'run' ? this.busy.id : null;
        const activeCompare = this.busy?.kind === 'compare' ? this.busy.id : null;
        return {
          version: this.version, mode: this.mode, nativeDialogs: this.mode === 'electron', dataDir: this.data.dir,
          runsDir: this.data.runsDir, comparisonsDir: this.data.comparisonsDir, roots: this.paths.allowedRoots,
          demo: { modelDir: this.data.demoModelDir, dataPath: this.data.demoDataPath },
          recent: { models: s.recentModels.filter((p) => this.paths.allows(p)), datasets: s.recentDatasets.filter((p) => this.paths.allows(p)) },
          activeRunId: activeRun, activeCompareId: activeCompare,
        };
      },

      'files.choose': () => {
        throw new MespError('NO_DIALOG', 'file dialogs exist only in the desktop app: type a path under one of the allowed folders, browse, or upload the file.');
      },
      'files.check': (p) => this.paths.check(p.kind, p.path),
      'files.browse': (p) => {
        const roots = this.paths.allowedRoots;
        if (!p.dir) return { dir: null, parent: null, entries: roots.map((r) => ({ name: r, path: r, kind: 'dir' as const, bytes: 0 })), roots };
        const dir = this.paths.require(p.dir, 'dir');
        if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new ConfigError(`${dir} is not a folder.`, { field: 'dir' });
        const entries = readdirSync(dir, { withFileTypes: true })
          .filter((d) => !d.name.startsWith('.') && (d.isDirectory() || d.isFile()))
          .map((d) => {
            const path = join(dir, d.name);
            return { name: d.name, path, kind: d.isDirectory() ? ('dir' as const) : ('file' as const), bytes: d.isFile() ? statSync(path).size : 0 };
          })
          .sort((a, b) => (a.kind !== b.kind ? (a.kind === 'dir' ? -1 : 1) : a.name.localeCompare(b.name)));
        const parent = dirname(dir);
        return { dir, parent: parent !== dir && this.paths.allows(parent) ? parent : null, entries, roots };
      },
      'files.upload': (p) => {
        const uploadId = p.uploadId ?? `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
        const folder = join(this.data.uploadsDir, uploadId);
        mkdirSync(folder, { recursive: true });
        const file = join(folder, p.name);
        writeFileSync(file, Buffer.from(p.base64, 'base64'));
        return { path: p.kind === 'model' ? folder : file, uploadId };
      },

      'profiles.list': () => ({
        profiles: [
          ...listBuiltinProfiles().map((p) => ({ profile: p, source: 'builtin' as const, path: null, capBytes: capBytesOf(p) })),
          ...this.userProfiles(),
        ],
      }),
      'profiles.validate': (p) => {
        const r = DeviceProfileSchema.safeParse(p.profile);
        const issues = r.success ? [] : r.error.issues.map((i) => ({ path: i.path.map(String).join('.') || '(profile)', message: i.message }));
        if (r.success && isBuiltinProfileId(r.data.id)) {
          issues.push({ path: 'id', message: `"${r.data.id}" is a built-in profile's id: give your copy its own id (e.g. "${r.data.id}-custom")` });
        }
        return { ok: issues.length === 0, issues, capBytes: r.success ? capBytesOf(r.data) : null };
      },
      'profiles.save': (p) => {
        const file = join(this.data.profilesDir, 'profile.json');
        const profile = parseProfile(p.profile, file);
        if (isBuiltinProfileId(profile.id)) {
          throw new ConfigError(`"${profile.id}" is a built-in profile's id: give your copy its own id (e.g. "${profile.id}-custom").`, { field: 'id' });
        }
        const path = join(this.data.profilesDir, `${profile.id}.json`);
        writeFileSync(path, JSON.stringify(profile, null, 2) + '\n');
        return { entry: { profile, source: 'user' as const, path, capBytes: capBytesOf(profile) } };
      },
      'profiles.delete': (p) => {
        if (isBuiltinProfileId(p.id)) throw new ConfigError(`"${p.id}" is built in and cannot be deleted.`, { field: 'id' });
        const file = join(this.data.profilesDir, `${p.id}.json`);
        if (!PROFILE_FILE.test(`${p.id}.json`) || !existsSync(file)) return { deleted: false };
        rmSync(file);
        return { deleted: true };
      },

      'model.inspect': (p) => {
        const dir = this.paths.require(p.modelDir, 'modelDir');
        const info = inspectModel(dir);
        this.data.pushRecent('models', info.dir);
        return info;
      },
      'dataset.inspect': (p) => {
        const data = this.paths.require(p.dataPath, 'dataPath');
        const model = this.paths.require(p.modelDir, 'modelDir');
        const info = inspectDataset(data, model, p.seqLen, p.previewIndex);
        this.data.pushRecent('datasets', data);
        return info;
      },
      'plan.fit': (p) => {
        const { ref } = this.profileRef(p.profile);
        return planFit({
          modelDir: this.paths.require(p.modelDir, 'modelDir'), dataPath: p.dataPath ? this.paths.require(p.dataPath, 'dataPath') : undefined,
          profile: ref, capBytes: p.capBytes, quant: p.quant, seqLen: p.seqLen, batch: p.batch, rank: p.rank, alpha: p.alpha,
          targets: p.targets, optimizer: p.optimizer, methods: p.methods,
        });
      },

      'runs.start': async (p) => {
        const { ref } = this.profileRef(p.profile);
        const id = newRunId(p.method, p.name, (x) => existsSync(join(this.data.runsDir, x)));
        const dir = join(this.data.runsDir, id);
        const req: TrainRequest = {
          modelDir: this.paths.require(p.modelDir, 'modelDir'), dataPath: this.paths.require(p.dataPath, 'dataPath'), outDir: dir,
          method: p.method, profile: ref, quant: p.quant, rank: p.rank, alpha: p.alpha, targets: p.targets, seqLen: p.seqLen,
          batch: p.batch, steps: p.steps, lr: p.lr, optimizer: p.optimizer, seed: p.seed, valFraction: p.valFraction,
          valEvery: p.valEvery, checkpointEvery: p.checkpointEvery, mezoEps: p.mezoEps, capBytes: p.capBytes,
        };
        await this.launch(id, dir, req);
        return { runId: id, runDir: dir };
      },
      'runs.pause': (p) => {
        const run = this.live.get(p.runId);
        if (!run) throw new ConfigError(`run ${p.runId} is not running, so it cannot be paused.`, { field: 'runId' });
        run.paused = true;
        if (run.status === 'running') this.setStatus(run, 'paused');
        return { runId: run.id, status: run.status };
      },
      'runs.resume': async (p) => {
        const run = this.live.get(p.runId);
        if (run) {
          run.paused = false;
          run.wake?.();
          if (run.status === 'paused') this.setStatus(run, 'running');
          return { runId: run.id, status: run.status };
        }
        const dir = this.runDir(p.runId);
        const s = summarizeRun(p.runId, dir, null);
        if (!s?.resumable) {
          throw new ConfigError(`run ${p.runId} is ${s?.status ?? 'unreadable'} at step ${s?.stepsDone ?? 0} of ${s?.totalSteps ?? '?'}: nothing to resume.`, { field: 'runId' });
        }
        await this.launch(p.runId, dir, { resume: dir }, p.capBytes);
        return { runId: p.runId, status: this.live.get(p.runId)?.status ?? summarizeRun(p.runId, dir, null)?.status ?? 'running' };
      },
      'runs.stop': (p) => {
        const run = this.live.get(p.runId);
        if (!run) throw new ConfigError(`run ${p.runId} is not running, so it cannot be stopped.`, { field: 'runId' });
        run.stop = true;
        run.wake?.();
        this.setStatus(run, 'stopping');
        return { runId: run.id, status: run.status };
      },
      'runs.list': () => ({ runs: listRuns(this.data.runsDir, (id) => this.live.get(id)?.status ?? null) }),
      'runs.open': (p) => {
        const dir = this.runDir(p.runId);
        const store = new RunStore(dir);
        const config = store.readConfig();
        const events = store.readEvents();
        const summary = summarizeRun(p.runId, dir, this.live.get(p.runId)?.status ?? null, config, events)!;
        return { summary, config, events };
      },

      'compare.start': (p) => {
        const { ref, profile } = this.profileRef(p.profile);
        const id = newRunId('compare', p.name, (x) => existsSync(join(this.data.comparisonsDir, x)));
        const dir = join(this.data.comparisonsDir, id);
        const modelDir = this.paths.require(p.modelDir, 'modelDir');
        const dataPath = this.paths.require(p.dataPath, 'dataPath');
        this.claim('compare', id);
        mkdirSync(dir, { recursive: true });
        const methods: MethodName[] = [...new Set(p.methods)];
        const cmp: Comparison = {
          version: 1, id, name: p.name || methods.join(' vs '), createdAt: new Date().toISOString(), status: 'running', settings: { ...p, methods },
          profileId: profile.id, capBytes: p.capBytes ?? capBytesOf(profile), modelName: modelDir.split(/[\\/]/).pop() ?? modelDir,
          methods: methods.map((m) => methodResult(m, join(dir, m), [], 'pending')), cosine: null,
        };
        const store = new ComparisonStore(dir);
        store.write(cmp);
        const lc: LiveCompare = { id, stop: false, current: null, done: Promise.resolve() };
        this.compares.set(id, lc);
        const emit = (event: Extract<ServiceEvent, { type: 'compare' }>['event']): void => this.emit({ type: 'compare', compareId: id, event });
        emit({ type: 'start', comparison: cmp });
        const base = (m: MethodName): TrainRequest => ({
          modelDir, dataPath, outDir: join(dir, m), method: m, profile: ref, quant: p.quant, rank: p.rank, alpha: p.alpha,
          targets: p.targets, seqLen: p.seqLen, batch: p.batch, steps: p.steps, lr: p.lr, optimizer: p.optimizer, seed: p.seed,
          valFraction: p.valFraction, valEvery: p.valEvery, checkpointEvery: 0, mezoEps: p.mezoEps, capBytes: p.capBytes,
        });
        const work = async (): Promise<void> => {
          for (const [i, m] of methods.entries()) {
            if (lc.stop) {
              cmp.methods[i] = { ...cmp.methods[i], status: 'stopped' };
              continue;
            }
            cmp.methods[i] = { ...cmp.methods[i], status: 'running' };
            store.write(cmp);
            emit({ type: 'method-start', method: m, index: i });
            const events: RunEvent[] = [];
            let status: 'done' | 'stopped' | 'failed' = 'done';
            try {
              const out = await runTrain(base(m), this.env, (e) => {
                events.push(e);
                emit({ type: 'run', method: m, event: e });
              }, () => (lc.stop ? 'stop' : 'run'));
              status = out.reason === 'stopped' ? 'stopped' : 'done';
            } catch (e) {
              status = 'failed';
              if (!events.some((x) => x.type === 'error')) {
                const err = toServiceError(e);
                events.push({ t: Date.now(), type: 'error', step: 0, code: err.code, message: err.message, lastCheckpoint: null });
              }
            }
            cmp.methods[i] = methodResult(m, join(dir, m), events, status);
            store.write(cmp);
            emit({ type: 'method-done', method: m, result: cmp.methods[i] });
          }
          if (methods.includes('mezo') && !lc.stop) {
            try {
              cmp.cosine = await mezoCosine(base('mesp'), p.cosineSamples, this.env);
            } catch (e) {
              cmp.cosine = { exactMethod: 'mesp', samples: [], mean: 0, meanAbs: 0, parameters: 0, randomBaseline: 0, error: toServiceError(e).message };
            }
            emit({ type: 'cosine', cosine: cmp.cosine });
          }
          cmp.status = lc.stop ? 'stopped' : cmp.methods.every((m) => m.status === 'failed') ? 'failed' : 'done';
          store.write(cmp);
          emit({ type: 'done', comparison: cmp });
        };
        lc.done = work()
          .catch((e) => {
            cmp.status = 'failed';
            store.write(cmp);
            emit({ type: 'done', comparison: cmp });
            void e;
          })
          .finally(() => {
            this.compares.delete(id);
            this.release(id);
          });
        return { compareId: id };
      },
      'compare.stop': (p) => {
        const c = this.compares.get(p.compareId);
        if (!c) return { compareId: p.compareId, stopping: false };
        c.stop = true;
        return { compareId: p.compareId, stopping: true };
      },
      'compare.list': () => ({ comparisons: listComparisons(this.data.comparisonsDir, (id) => this.compares.has(id)) }),
      'compare.open': (p) => {
        if (!isRunId(p.compareId) || !existsSync(join(this.data.comparisonsDir, p.compareId, 'comparison.json'))) {
          throw new ConfigError(`no comparison "${p.compareId}" in ${this.data.comparisonsDir}. Refresh the list.`, { field: 'compareId' });
        }
        return { comparison: openComparison(join(this.data.comparisonsDir, p.compareId), this.compares.has(p.compareId)) };
      },

      // The exporter of core/node/export.ts (PEFT, GGUF LoRA, MLX, merged ONNX + README + manifest.json).
      'export.preview': (p) => {
        const runDir = this.runDir(p.runId);
        const outDir = p.destDir ? this.paths.require(p.destDir, 'destDir') : join(runDir, 'exports');
        return previewExport({ runDir, formats: p.formats, dtype: p.dtype, outDir });
      },
      'export.run': (p) => {
        if (this.live.has(p.runId)) throw new ConfigError(`run ${p.runId} is still training: export it when it has finished or been stopped.`, { field: 'runId' });
        const runDir = this.runDir(p.runId);
        const outDir = p.destDir ? this.paths.require(p.destDir, 'destDir') : join(runDir, 'exports');
        return exportRun({ runDir, formats: p.formats, dtype: p.dtype, outDir, overwrite: p.overwrite });
      },
    };
  }
}

// The run store: a run folder on disk (DESIGN.md §7) — config.json, events.jsonl (one JSON event a line),
// checkpoints/step-NNNNNNN/ (PEFT adapter in f32, optimizer state, state.json), adapter/ (the final PEFT adapter).
// Everything is written atomically (core/node/atomic.ts: a temporary file or folder, then rename), so a run killed at
// any moment leaves its last checkpoint intact and every event before the kill on disk.
import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { RunConfigSchema, RunEventSchema, type RunConfig, type RunEvent } from '../api/train';
import { ConfigError, FormatError } from '../common/errors';
import { parseSafetensors, readTensorF32, writeSafetensors, type TensorToWrite } from '../common/safetensors';
import { readPeft, writePeft } from '../export/peft';
import type { HostAdapter } from '../train/lora';
import type { TrainState } from '../train/trainer';
import { writeFileAtomic, writeFolderAtomic } from './atomic';

const CKPT_RE = /^step-(\d{7})$/;

export class RunStore {
  readonly dir: string;
  constructor(dir: string) {
    this.dir = resolve(dir);
  }

  get configPath(): string {
    return join(this.dir, 'config.json');
  }
  get eventsPath(): string {
    return join(this.dir, 'events.jsonl');
  }
  get checkpointsDir(): string {
    return join(this.dir, 'checkpoints');
  }
  get adapterDir(): string {
    return join(this.dir, 'adapter');
  }

  exists(): boolean {
    return existsSync(this.configPath);
  }

  /** Start a new run folder. Refuses to reuse a folder that already holds a run (use --resume). */
  create(config: RunConfig): void {
    if (this.exists()) {
      throw new ConfigError(`${this.dir} already holds a run; use --resume ${this.dir} to continue it, or choose another --out`, { file: this.configPath, field: 'out' });
    }
    mkdirSync(this.checkpointsDir, { recursive: true });
    writeFileAtomic(this.configPath, JSON.stringify(config, null, 2) + '\n');
  }

  readConfig(): RunConfig {
    if (!this.exists()) throw new ConfigError(`${this.dir} is not a run folder (no config.json)`, { file: this.configPath, field: 'run' });
    let json: unknown;
    try {
      json = JSON.parse(readFileSync(this.configPath, 'utf8'));
    } catch (e) {
      throw new FormatError(this.configPath, `is not valid JSON (${(e as Error).message})`);
    }
    const r = RunConfigSchema.safeParse(json);
    if (!r.success) throw new FormatError(this.configPath, `is not a MeSP run config: ${r.error.issues[0]?.path.join('.')}: ${r.error.issues[0]?.message}`);
    return r.data;
  }

  append(ev: RunEvent): void {
    appendFileSync(this.eventsPath, JSON.stringify(ev) + '\n');
  }

  /**
   * Before a resume from the checkpoint at `step`: drop the events of later steps (an attempt that died after that
   * checkpoint), so that after the resume each step is on disk once. Starts, stops and errors stay as history.
   */
  dropEventsAfter(step: number): void {
    if (!existsSync(this.eventsPath)) return;
    const later = new Set(['step', 'val', 'checkpoint', 'timeline']);
    const keep = readFileSync(this.eventsPath, 'utf8').split('\n').filter((line) => {
      if (!line.trim()) return false;
      try {
        const e = JSON.parse(line) as { type?: string; step?: number };
        return !(later.has(e.type ?? '') && (e.step ?? 0) > step);
      } catch {
        return false; // a torn line from a killed process
      }
    });
    writeFileAtomic(this.eventsPath, keep.map((l) => `${l}\n`).join(''));
  }

  /** Every event on disk. A torn last line (a kill mid-write) is skipped. */
  readEvents(): RunEvent[] {
    if (!existsSync(this.eventsPath)) return [];
    const out: RunEvent[] = [];
    for (const line of readFileSync(this.eventsPath, 'utf8').split('\n')) {
      if (!line.trim()) continue;
      try {
        const r = RunEventSchema.safeParse(JSON.parse(line));
        if (r.success) out.push(r.data);
      } catch {
        // a partial line from a killed process
      }
    }
    return out;
  }

  /** Write a checkpoint folder atomically; keeps the newest `keep` checkpoints. Returns its path. */
  writeCheckpoint(state: TrainState, baseModel: string, keep = 2): string {
    const dir = join(this.checkpointsDir, `step-${String(state.step).padStart(7, '0')}`);
    const peft = writePeft(state.adapter, baseModel, 'f32');
    const opt: TensorToWrite[] = [];
    for (const [k, mv] of state.moments) {
      opt.push({ name: `${k}.exp_avg`, dtype: 'F32', shape: [mv.m.length], data: mv.m });
      opt.push({ name: `${k}.exp_avg_sq`, dtype: 'F32', shape: [mv.v.length], data: mv.v });
    }
    writeFolderAtomic(dir, {
      'adapter_config.json': peft.config,
      'adapter_model.safetensors': peft.weights,
      'optimizer.safetensors': writeSafetensors(opt),
      'state.json': JSON.stringify({ step: state.step }) + '\n',
    });
    const all = this.checkpoints();
    for (const old of all.slice(0, Math.max(0, all.length - keep))) rmSync(old.path, { recursive: true, force: true });
    return dir;
  }

  /** Checkpoints on disk, oldest first. */
  checkpoints(): { step: number; path: string }[] {
    if (!existsSync(this.checkpointsDir)) return [];
    return readdirSync(this.checkpointsDir)
      .map((n) => CKPT_RE.exec(n))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => ({ step: Number(m[1]), path: join(this.checkpointsDir, m[0]) }))
      .sort((a, b) => a.step - b.step);
  }

  latestCheckpoint(): { step: number; path: string } | null {
    const all = this.checkpoints();
    return all.length ? all[all.length - 1] : null;
  }

  readCheckpoint(path: string): TrainState {
    const cfgFile = join(path, 'adapter_config.json');
    const wFile = join(path, 'adapter_model.safetensors');
    const oFile = join(path, 'optimizer.safetensors');
    const adapter: HostAdapter = readPeft(readFileSync(cfgFile, 'utf8'), new Uint8Array(readFileSync(wFile)), { config: cfgFile, weights: wFile });
    const state = JSON.parse(readFileSync(join(path, 'state.json'), 'utf8')) as { step: number };
    const moments = new Map<string, { m: Float32Array; v: Float32Array }>();
    if (existsSync(oFile)) {
      const bytes = new Uint8Array(readFileSync(oFile));
      const st = parseSafetensors(bytes, oFile);
      for (const [name, info] of st.tensors) {
        const key = name.replace(/\.exp_avg(_sq)?$/, '');
        const e = moments.get(key) ?? { m: new Float32Array(0), v: new Float32Array(0) };
        if (name.endsWith('.exp_avg_sq')) e.v = readTensorF32(bytes, info, oFile);
        else e.m = readTensorF32(bytes, info, oFile);
        moments.set(key, e);
      }
    }
    return { step: state.step, adapter: { rank: adapter.rank, alpha: adapter.alpha, targets: adapter.targets, A: adapter.A, B: adapter.B }, moments };
  }

  /** The final adapter, PEFT, f32. */
  writeAdapter(a: HostAdapter, baseModel: string): string {
    const peft = writePeft(a, baseModel, 'f32');
    writeFolderAtomic(this.adapterDir, { 'adapter_config.json': peft.config, 'adapter_model.safetensors': peft.weights });
    return this.adapterDir;
  }

  get name(): string {
    return basename(this.dir);
  }
}

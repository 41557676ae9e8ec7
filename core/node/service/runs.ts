// The Runs list: a run folder (core/node/runstore.ts) summarized from its config.json, events.jsonl and checkpoints —
// where it stopped, its last loss, whether it finished, failed (and why) or was interrupted (the app or the service
// died mid-run: no closing event after the last start), and whether it can be resumed.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RunStatus, RunSummary, ServiceError } from '../../api/contract';
import type { RunConfig, RunEvent } from '../../api/train';
import { RunStore } from '../runstore';

/** A run id is a plain folder name inside the runs folder. */
export function isRunId(id: string): boolean {
  return /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/.test(id) && !id.includes('..');
}

/** Events without the (large) timeline ones, parsed without validation: enough for a summary. */
function lightEvents(store: RunStore): RunEvent[] {
  if (!existsSync(store.eventsPath)) return [];
  const out: RunEvent[] = [];
  for (const line of readFileSync(store.eventsPath, 'utf8').split('\n')) {
    if (!line.trim() || line.includes('"type":"timeline"')) continue;
    try {
      out.push(JSON.parse(line) as RunEvent);
    } catch {
      // a torn last line from a killed process
    }
  }
  return out;
}

export function errorOf(e: Extract<RunEvent, { type: 'error' }>): ServiceError {
  return { code: e.code, message: e.message, ...(e.budget ? { budget: e.budget } : {}) };
}

/** The status a run folder shows on disk, from its events after the last start. */
export function statusOnDisk(events: RunEvent[]): { status: RunStatus; error: ServiceError | null } {
  let lastStart = -1;
  events.forEach((e, i) => {
    if (e.type === 'start') lastStart = i;
  });
  let terminal: RunEvent | null = null;
  for (const e of events.slice(lastStart + 1)) if (e.type === 'done' || e.type === 'error') terminal = e;
  if (terminal?.type === 'done') return { status: terminal.reason === 'done' ? 'done' : 'stopped', error: null };
  if (terminal?.type === 'error') return { status: 'failed', error: errorOf(terminal) };
  return { status: 'interrupted', error: null };
}

export function summarizeRun(id: string, dir: string, live: RunStatus | null, config?: RunConfig, events?: RunEvent[]): RunSummary | null {
  const store = new RunStore(dir);
  if (!store.exists()) return null;
  let cfg: RunConfig;
  try {
    cfg = config ?? store.readConfig();
  } catch {
    return null;
  }
  const evs = events ?? lightEvents(store);
  let stepsDone = 0;
  let lastLoss: number | null = null;
  for (const e of evs) {
    if (e.type === 'step') {
      stepsDone = e.step;
      lastLoss = e.loss;
    }
  }
  const disk = statusOnDisk(evs);
  const status = live ?? disk.status;
  const ckpt = store.latestCheckpoint();
  return {
    id,
    dir: store.dir,
    name: `${cfg.request.method} · ${cfg.model.name}`,
    createdAt: cfg.createdAt,
    method: cfg.request.method,
    profileId: cfg.profileId,
    capBytes: cfg.capBytes,
    modelName: cfg.model.name,
    totalSteps: cfg.totalSteps,
    stepsDone,
    lastLoss,
    status,
    lastCheckpoint: ckpt,
    resumable: live === null && (status === 'stopped' || status === 'failed' || status === 'interrupted') && (ckpt?.step ?? 0) < cfg.totalSteps,
    error: live === null ? disk.error : null,
  };
}

/** Every run folder under `runsDir`, newest first. */
export function listRuns(runsDir: string, liveStatus: (id: string) => RunStatus | null): RunSummary[] {
  if (!existsSync(runsDir)) return [];
  const out: RunSummary[] = [];
  for (const name of readdirSync(runsDir)) {
    if (!isRunId(name)) continue;
    const s = summarizeRun(name, join(runsDir, name), liveStatus(name));
    if (s) out.push(s);
  }
  return out.sort((a, b) => (a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : 0));
}

/** A folder name from the time, the method and an optional label: 20261129-134501-mesp-my-label. */
export function newRunId(method: string, label: string | undefined, exists: (id: string) => boolean, now = new Date()): string {
  const p = (n: number): string => String(n).padStart(2, '0');
  const stamp = `${now.getFullYear()}${p(now.getMonth() + 1)}${p(now.getDate())}-${p(now.getHours())}${p(now.getMinutes())}${p(now.getSeconds())}`;
  const slug = (label ?? '').toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 40);
  const base = [stamp, method, slug].filter(Boolean).join('-');
  let id = base;
  for (let k = 2; exists(id); k++) id = `${base}-${k}`;
  return id;
}

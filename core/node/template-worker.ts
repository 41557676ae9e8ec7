// The Node host's TemplateRunner (core/data/template.ts): chat templates render in a worker thread, never on the
// service's main thread, under three limits: time (a watchdog on the main thread ends the worker when one render runs
// past TEMPLATE_LIMITS.timeoutMs), heap (the worker's resourceLimits: a template that allocates without bound ends the
// worker, not the process) and output (checked in the worker). A broken limit rejects that render with a
// TemplateError, and so do the renders of the same template queued behind it; the others go to a fresh worker. The worker is one per process, started on first
// use, and does not keep the process alive when idle. Its code is a small script run with `eval` that loads
// @huggingface/jinja from this package's node_modules, so it needs no bundle of its own (the CLI's esbuild bundle,
// electron-vite's and vitest's sources all spawn it alike).
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { limitMessage, TEMPLATE_LIMITS, TemplateError, type TemplateContext, type TemplateLimits, type TemplateRunner } from '../data/template';

// The worker's script. slot[0]: id of the render in progress (0: none); slot[1]: when it began (ms since `epoch`).
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { Template } = require(workerData.jinja);
const slot = new Int32Array(workerData.slot);
const cache = new Map();
parentPort.on('message', (m) => {
  Atomics.store(slot, 1, Date.now() - workerData.epoch);
  Atomics.store(slot, 0, m.id);
  let reply;
  try {
    let t = cache.get(m.source);
    if (!t) {
      t = new Template(m.source);
      if (cache.size > 32) cache.clear();
      cache.set(m.source, t);
    }
    const text = t.render(m.context);
    reply = text.length > workerData.maxOutputChars ? { id: m.id, ok: false, kind: 'output' } : { id: m.id, ok: true, text };
  } catch (e) {
    const msg = String((e && e.message) || e);
    const output = e instanceof RangeError && /Invalid (string|array) length/.test(msg);
    reply = { id: m.id, ok: false, kind: output ? 'output' : 'raised', message: msg };
  }
  Atomics.store(slot, 0, 0);
  parentPort.postMessage(reply);
});
`;

interface Pending {
  id: number;
  source: string;
  context: TemplateContext;
  resolve(text: string): void;
  reject(e: TemplateError): void;
}

type Reply = { id: number; ok: true; text: string } | { id: number; ok: false; kind: 'output' | 'raised'; message?: string };

/** Renders in a worker thread with a time, heap and output limit. */
export class WorkerTemplateRunner implements TemplateRunner {
  private worker: Worker | null = null;
  private slot: Int32Array<ArrayBufferLike> = new Int32Array(0);
  private epoch = 0;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private watchdog: NodeJS.Timeout | null = null;

  constructor(private readonly limits: TemplateLimits = TEMPLATE_LIMITS) {}

  render(source: string, context: TemplateContext): Promise<string> {
    return new Promise<string>((resolve, reject) => {
      const p: Pending = { id: this.nextId++, source, context, resolve, reject };
      this.pending.set(p.id, p);
      this.send(p);
    });
  }

  /** End the worker (renders in flight are rejected). */
  close(): void {
    const w = this.worker;
    this.worker = null;
    void w?.terminate();
    for (const p of this.pending.values()) p.reject(new TemplateError('raised', 'the template worker was closed'));
    this.pending.clear();
    this.idle();
  }

  private send(p: Pending): void {
    const w = this.ensureWorker();
    w.ref(); // a render in flight keeps the process alive until it answers
    this.watchdog ??= setInterval(() => this.check(), Math.max(10, Math.min(200, this.limits.timeoutMs / 4)));
    w.postMessage({ id: p.id, source: p.source, context: p.context });
  }

  private ensureWorker(): Worker {
    if (this.worker) return this.worker;
    const shared = new SharedArrayBuffer(8);
    this.slot = new Int32Array(shared);
    this.epoch = Date.now();
    const jinja = createRequire(import.meta.url).resolve('@huggingface/jinja');
    const w = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { jinja, slot: shared, epoch: this.epoch, maxOutputChars: this.limits.maxOutputChars },
      resourceLimits: { maxOldGenerationSizeMb: this.limits.maxHeapMb, maxYoungGenerationSizeMb: 16, stackSizeMb: 4 },
      stdout: false,
      stderr: false,
    });
    w.on('message', (r: Reply) => this.answer(r));
    // Out of heap (ERR_WORKER_OUT_OF_MEMORY) or any other death: the render in progress is to blame.
    w.on('error', () => this.lost(w, 'memory'));
    w.on('exit', () => this.lost(w, 'memory'));
    this.worker = w;
    return w;
  }

  private answer(r: Reply): void {
    const p = this.pending.get(r.id);
    if (!p) return;
    this.pending.delete(r.id);
    if (r.ok) p.resolve(r.text);
    else {
      p.reject(new TemplateError(r.kind, r.kind === 'output' ? limitMessage('output', this.limits) : (r.message ?? 'the template raised an error')));
      if (r.kind === 'output') this.failSame(p.source, 'output');
    }
    if (!this.pending.size) this.idle();
  }

  /**
   * A template that broke a limit is not run again for the renders queued behind it (the rows of the same dataset
   * would each take the whole limit): they fail with the same limit at once. Later calls render afresh.
   */
  private failSame(source: string, kind: 'time' | 'memory' | 'output'): void {
    for (const [id, q] of this.pending) {
      if (q.source !== source) continue;
      this.pending.delete(id);
      q.reject(new TemplateError(kind, limitMessage(kind, this.limits)));
    }
  }

  /** The watchdog: a render past its time ends the worker. */
  private check(): void {
    const w = this.worker;
    if (!w) return;
    const id = Atomics.load(this.slot, 0);
    if (id === 0) return;
    const began = this.epoch + Atomics.load(this.slot, 1);
    if (Date.now() - began > this.limits.timeoutMs) this.lost(w, 'time', id);
  }

  /** The worker `w` ended or must end: reject the render it was on, give the others to a fresh worker. */
  private lost(w: Worker, kind: 'time' | 'memory', culprit?: number): void {
    if (this.worker !== w) return; // already replaced
    const id = culprit ?? Atomics.load(this.slot, 0);
    this.worker = null;
    void w.terminate();
    const first = id || Math.min(...this.pending.keys());
    const p = this.pending.get(first);
    if (p) {
      this.pending.delete(first);
      p.reject(new TemplateError(kind, limitMessage(kind, this.limits)));
      this.failSame(p.source, kind);
    }
    if (this.pending.size) for (const q of [...this.pending.values()].sort((a, b) => a.id - b.id)) this.send(q);
    else this.idle();
  }

  private idle(): void {
    if (this.watchdog) clearInterval(this.watchdog);
    this.watchdog = null;
    this.worker?.unref();
  }
}

let shared: WorkerTemplateRunner | null = null;

/**
 * The process's template runner. Limits: TEMPLATE_LIMITS, with MESP_TEMPLATE_TIMEOUT_MS overriding the time limit
 * (tests use a short one).
 */
export function sharedTemplateRunner(): WorkerTemplateRunner {
  if (shared) return shared;
  const t = Number(process.env.MESP_TEMPLATE_TIMEOUT_MS);
  shared = new WorkerTemplateRunner({ ...TEMPLATE_LIMITS, ...(Number.isFinite(t) && t > 0 ? { timeoutMs: t } : {}) });
  return shared;
}

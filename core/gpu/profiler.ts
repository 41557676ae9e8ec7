// What every dispatch costs and how long it took: the per-kernel counts (FLOPs, bytes moved) that every context,
// real or dry, records for each dispatch (so the memory plan's dry run also gives the roofline projection of
// core/profiles/roofline.ts), and the dispatch timer of `mesp bench --profile`, which times each dispatch with
// WebGPU timestamp queries where the device has the `timestamp-query` feature (each dispatch in its own compute pass
// with beginning- and end-of-pass timestamps, https://www.w3.org/TR/webgpu/#timestamp) and otherwise by queue
// completion (each dispatch its own submit; its time is from the later of its submit and the previous completion to
// its own completion, so it includes the driver's per-submit overhead). Completion callbacks only run when the host
// yields (at an await), so while a step encodes many dispatches in a row their callbacks arrive together and the
// first of them takes the whole interval: queue timing gives the right total and only a coarse split by kernel.
//
// The timer's GPU memory (the query set, the resolve buffer and the readback buffers) is reserved in the ledger as
// `workspace:profile.*` by the context that owns it (core/gpu/context.ts).
import type { Tensor } from './tensor';

/** What one dispatch costs: the numbers of the profile table and of the roofline projection. */
export interface DispatchCost {
  /** Algorithmic FLOPs (a multiply-add is 2; exp, division and the like count 1 each). */
  flops: number;
  /**
   * Compulsory bytes moved: every input read once and every output written once (an accumulated output is read and
   * written). What a kernel re-reads from its caches is not counted: this is the traffic of an ideal cache.
   */
  bytes: number;
  /** The profile row this dispatch is counted under; the kernel's name when absent. */
  kernel?: string;
}

export interface KernelCount {
  kernel: string;
  calls: number;
  flops: number;
  bytes: number;
}

export interface KernelTime extends KernelCount {
  /** Summed device time of the calls. */
  seconds: number;
}

export type TimingMode = 'timestamps' | 'queue';

export interface KernelProfile {
  /** How the dispatches were timed: GPU timestamps, or queue completion (right totals, a coarse split by kernel). */
  timing: TimingMode;
  /** One row per kernel, the most time first. */
  kernels: KernelTime[];
  /** Sum of the kernels' time. */
  seconds: number;
  /** Wall time from the profile's start to its end (includes host work and idle gaps). */
  wallSeconds: number;
}

/** Counts of calls, FLOPs and bytes per kernel name. */
export class KernelCounter {
  private readonly rows = new Map<string, KernelCount>();

  add(kernel: string, flops: number, bytes: number): void {
    const r = this.rows.get(kernel);
    if (r) {
      r.calls++;
      r.flops += flops;
      r.bytes += bytes;
    } else {
      this.rows.set(kernel, { kernel, calls: 1, flops, bytes });
    }
  }

  /** Copies of the rows, the most FLOPs first. */
  snapshot(): KernelCount[] {
    return [...this.rows.values()].map((r) => ({ ...r })).sort((a, b) => b.flops - a.flops || a.kernel.localeCompare(b.kernel));
  }

  get flops(): number {
    let s = 0;
    for (const r of this.rows.values()) s += r.flops;
    return s;
  }

  get bytes(): number {
    let s = 0;
    for (const r of this.rows.values()) s += r.bytes;
    return s;
  }

  reset(): void {
    this.rows.clear();
  }
}

/** Sum kernel rows by name (e.g. several steps' counts). */
export function sumCounts(lists: readonly (readonly KernelCount[])[]): KernelCount[] {
  const rows = new Map<string, KernelCount>();
  for (const list of lists) {
    for (const r of list) {
      const x = rows.get(r.kernel);
      if (x) {
        x.calls += r.calls;
        x.flops += r.flops;
        x.bytes += r.bytes;
      } else rows.set(r.kernel, { ...r });
    }
  }
  return [...rows.values()].sort((a, b) => b.flops - a.flops || a.kernel.localeCompare(b.kernel));
}

/** What the timer needs from its context: ledger-counted buffers. */
export interface TimerHost {
  readonly device: GPUDevice;
  /** A buffer counted in the ledger as workspace:`name`. */
  allocBuffer(name: string, bytes: number, usage: number): Tensor;
  free(t: Tensor): void;
  /** Reserve / release ledger bytes for a non-buffer GPU object (the query set). */
  reserve(name: string, bytes: number): number;
  release(handle: number): void;
}

/** Dispatches timed per query-set batch: 2 timestamps each. */
export const TIMER_BATCH = 256;
const QUERY_RESOLVE = 0x200;
const COPY_SRC = 0x4;
const MAP_READ_COPY_DST = 0x1 | 0x8;

const now = (): number => performance.now();

/** Times each dispatch of a context while profiling (core/gpu/context.ts drives it). */
export class DispatchTimer {
  readonly mode: TimingMode;
  private readonly counts = new KernelCounter();
  private readonly seconds = new Map<string, number>();
  private readonly pending: Promise<void>[] = [];
  private readonly t0 = now();
  // timestamps
  private querySet: GPUQuerySet | null = null;
  private queryHandle = -1;
  private resolveBuf: Tensor | null = null;
  private readonly pool: Tensor[] = [];
  private readonly all: Tensor[] = [];
  private names: string[] = [];
  // queue completion
  private lastDone = 0;

  constructor(private readonly host: TimerHost, mode: TimingMode) {
    this.mode = mode;
    if (mode === 'timestamps') {
      const bytes = TIMER_BATCH * 2 * 8;
      this.queryHandle = host.reserve('profile.queries', bytes);
      this.querySet = host.device.createQuerySet({ type: 'timestamp', count: TIMER_BATCH * 2, label: 'profile.queries' });
      this.resolveBuf = host.allocBuffer('profile.resolve', bytes, QUERY_RESOLVE | COPY_SRC);
    }
    this.lastDone = this.t0;
  }

  /** Count a dispatch under `kernel`. */
  count(kernel: string, flops: number, bytes: number): void {
    this.counts.add(kernel, flops, bytes);
  }

  /** True when the query set is full: the context must flush before the next timed dispatch. */
  get full(): boolean {
    return this.names.length >= TIMER_BATCH;
  }

  /** The pass descriptor with the timestamp writes of the next dispatch (timestamps mode). */
  passFor(kernel: string): GPUComputePassDescriptor {
    const i = this.names.length;
    this.names.push(kernel);
    return { timestampWrites: { querySet: this.querySet!, beginningOfPassWriteIndex: 2 * i, endOfPassWriteIndex: 2 * i + 1 } };
  }

  /** Before the encoder is finished: resolve this batch's timestamps into a readback buffer. Returns what to do after the submit. */
  beforeSubmit(encoder: GPUCommandEncoder): (() => void) | null {
    if (this.mode !== 'timestamps' || this.names.length === 0) return null;
    const n = this.names.length;
    const names = this.names;
    this.names = [];
    const rb = this.pool.pop() ?? this.newReadback();
    encoder.resolveQuerySet(this.querySet!, 0, 2 * n, this.resolveBuf!.buffer!, 0);
    encoder.copyBufferToBuffer(this.resolveBuf!.buffer!, 0, rb.buffer!, 0, 2 * n * 8);
    return () => {
      this.pending.push(
        rb.buffer!.mapAsync(1 /* READ */, 0, 2 * n * 8).then(() => {
          const t = new BigInt64Array(rb.buffer!.getMappedRange(0, 2 * n * 8).slice(0));
          rb.buffer!.unmap();
          this.pool.push(rb);
          for (let i = 0; i < n; i++) {
            const d = Number(t[2 * i + 1] - t[2 * i]) / 1e9;
            this.seconds.set(names[i], (this.seconds.get(names[i]) ?? 0) + Math.max(0, d));
          }
        }),
      );
    };
  }

  /** Queue mode: the dispatch of `kernel` was just submitted alone. */
  submitted(kernel: string): void {
    const at = now();
    this.pending.push(
      this.host.device.queue.onSubmittedWorkDone().then(() => {
        const t = now();
        const d = (t - Math.max(at, this.lastDone)) / 1000;
        this.lastDone = t;
        this.seconds.set(kernel, (this.seconds.get(kernel) ?? 0) + Math.max(0, d));
      }),
    );
  }

  /** Wait for every readback (the context has submitted and waited already), then free the timer's memory. */
  async finish(): Promise<KernelProfile> {
    await Promise.all(this.pending);
    const wallSeconds = (now() - this.t0) / 1000;
    for (const t of this.all) this.host.free(t);
    if (this.resolveBuf) this.host.free(this.resolveBuf);
    if (this.querySet) {
      this.querySet.destroy();
      this.host.release(this.queryHandle);
    }
    const kernels: KernelTime[] = this.counts.snapshot().map((c) => ({ ...c, seconds: this.seconds.get(c.kernel) ?? 0 }));
    kernels.sort((a, b) => b.seconds - a.seconds || a.kernel.localeCompare(b.kernel));
    return { timing: this.mode, kernels, seconds: kernels.reduce((s, k) => s + k.seconds, 0), wallSeconds };
  }

  private newReadback(): Tensor {
    const t = this.host.allocBuffer(`profile.readback${this.all.length}`, TIMER_BATCH * 2 * 8, MAP_READ_COPY_DST);
    this.all.push(t);
    return t;
  }
}

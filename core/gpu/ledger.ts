// The memory ledger (DESIGN.md §3): the only bookkeeper of GPU bytes. Every buffer is reserved here, with a category
// and a name, before it is created; the hard cap refuses a reservation that would take live bytes over `capBytes`
// with an OutOfBudgetError, so the cap is never exceeded, not by one byte.
// The categories are core/api/names.ts's list (one line adds one).
import { CATEGORIES, zeroByCategory, type ByCategory, type CategoryName } from '../api/names';
import { OutOfBudgetError } from '../common/errors';

export { CATEGORIES, zeroByCategory, type ByCategory };
export type Category = CategoryName;

/** Working set = everything but the frozen weights (the paper's figures count this). */
export function workingSet(b: ByCategory): number {
  return CATEGORIES.reduce((s, c) => (c === 'weights' ? s : s + b[c]), 0);
}

export interface TimelineEvent {
  /** Sequence number of the event since the ledger was made (a logical clock: allocation order). */
  seq: number;
  /** Milliseconds since the ledger was made. */
  ms: number;
  kind: 'alloc' | 'free' | 'mark';
  category: Category | null;
  name: string;
  bytes: number;
  /** Live bytes by category after this event. */
  live: ByCategory;
}

export interface LedgerSnapshot {
  capBytes: number;
  live: ByCategory;
  liveTotal: number;
  /** The highest live bytes each category reached on its own. */
  peakByCategory: ByCategory;
  /** The highest total live bytes reached. */
  peakTotal: number;
  /** The live bytes by category at the moment the total peaked. */
  atPeak: ByCategory;
  /** The highest working set (all but weights) reached. */
  peakWorkingSet: number;
}

interface Entry {
  category: Category;
  name: string;
  bytes: number;
}

const now = (): number => (typeof performance !== 'undefined' ? performance.now() : Date.now());

export class MemoryLedger {
  capBytes: number;
  private readonly entries = new Map<number, Entry>();
  private nextId = 1;
  private seq = 0;
  private readonly t0 = now();
  private live = zeroByCategory();
  private liveTotal = 0;
  private peakCat = zeroByCategory();
  private peakTotal = 0;
  private atPeak = zeroByCategory();
  private peakWs = 0;
  /** Timeline recording is off by default (a long run makes millions of events); turn it on around a step. */
  recording = false;
  timeline: TimelineEvent[] = [];

  constructor(capBytes = Number.POSITIVE_INFINITY) {
    this.capBytes = capBytes;
  }

  /** Reserve bytes; throws OutOfBudgetError, changing nothing, if the cap would be exceeded. Returns a handle. */
  reserve(category: Category, name: string, bytes: number): number {
    if (!Number.isFinite(bytes) || bytes < 0) throw new RangeError(`ledger: bad size ${bytes} for ${category}:${name}`);
    if (this.liveTotal + bytes > this.capBytes) {
      throw new OutOfBudgetError({ name, category, bytes }, { ...this.live }, this.capBytes);
    }
    const id = this.nextId++;
    this.entries.set(id, { category, name, bytes });
    this.live[category] += bytes;
    this.liveTotal += bytes;
    if (this.live[category] > this.peakCat[category]) this.peakCat[category] = this.live[category];
    if (this.liveTotal > this.peakTotal) {
      this.peakTotal = this.liveTotal;
      this.atPeak = { ...this.live };
    }
    const ws = this.liveTotal - this.live.weights;
    if (ws > this.peakWs) this.peakWs = ws;
    this.record('alloc', category, name, bytes);
    return id;
  }

  release(id: number): void {
    const e = this.entries.get(id);
    if (!e) throw new Error(`ledger: release of unknown or already released handle ${id}`);
    this.entries.delete(id);
    this.live[e.category] -= e.bytes;
    this.liveTotal -= e.bytes;
    this.record('free', e.category, e.name, e.bytes);
  }

  /** A named point in the timeline (e.g. "step 3 backward"). */
  mark(name: string): void {
    this.record('mark', null, name, 0);
  }

  private record(kind: TimelineEvent['kind'], category: Category | null, name: string, bytes: number): void {
    this.seq++;
    if (!this.recording) return;
    this.timeline.push({ seq: this.seq, ms: now() - this.t0, kind, category, name, bytes, live: { ...this.live } });
  }

  get liveBytes(): number {
    return this.liveTotal;
  }

  liveByCategory(): ByCategory {
    return { ...this.live };
  }

  /** Live allocations (category, name, bytes), largest first: what holds memory right now. */
  liveEntries(): Entry[] {
    return [...this.entries.values()].sort((a, b) => b.bytes - a.bytes);
  }

  /** Restart peak tracking from the current live bytes (e.g. at the start of a step). */
  resetPeak(): void {
    this.peakCat = { ...this.live };
    this.peakTotal = this.liveTotal;
    this.atPeak = { ...this.live };
    this.peakWs = this.liveTotal - this.live.weights;
  }

  snapshot(): LedgerSnapshot {
    return {
      capBytes: this.capBytes,
      live: { ...this.live },
      liveTotal: this.liveTotal,
      peakByCategory: { ...this.peakCat },
      peakTotal: this.peakTotal,
      atPeak: { ...this.atPeak },
      peakWorkingSet: this.peakWs,
    };
  }
}

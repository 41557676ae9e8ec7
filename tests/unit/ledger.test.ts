// The memory ledger and the hard cap (DESIGN.md §3), without a GPU: counting, peaks, the timeline, and refusals
// that change nothing and name the request, the live bytes by category and the overshoot.
import { describe, expect, it } from 'vitest';
import { OutOfBudgetError } from '../../core/common/errors';
import { GpuContext } from '../../core/gpu/context';
import { MemoryLedger, workingSet } from '../../core/gpu/ledger';

describe('MemoryLedger', () => {
  it('counts live bytes and per-category peaks', () => {
    const l = new MemoryLedger();
    const a = l.reserve('weights', 'w', 1000);
    const b = l.reserve('activations', 'x', 300);
    l.release(b);
    const c = l.reserve('workspace', 'tmp', 200);
    const s = l.snapshot();
    expect(s.live).toMatchObject({ weights: 1000, activations: 0, workspace: 200 });
    expect(s.peakByCategory).toMatchObject({ weights: 1000, activations: 300, workspace: 200 });
    expect(s.peakTotal).toBe(1300);
    expect(s.atPeak).toMatchObject({ weights: 1000, activations: 300, workspace: 0 });
    expect(s.peakWorkingSet).toBe(300);
    l.release(a);
    l.release(c);
    expect(l.liveBytes).toBe(0);
    expect(() => l.release(c)).toThrow(/unknown or already released/);
  });

  it('refuses an allocation over the cap before making it, and names request, live bytes and overshoot', () => {
    const l = new MemoryLedger(1000);
    l.reserve('weights', 'embed', 600);
    l.reserve('activations', 'layer0.x', 300);
    let err: unknown;
    try {
      l.reserve('workspace', 'logits', 150);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(OutOfBudgetError);
    const e = err as OutOfBudgetError;
    expect(e.overshootBytes).toBe(50);
    expect(e.request).toEqual({ name: 'logits', category: 'workspace', bytes: 150 });
    expect(e.liveByCategory).toMatchObject({ weights: 600, activations: 300 });
    expect(e.message).toMatch(/workspace:logits/);
    expect(e.message).toMatch(/weights 600 B, activations 300 B/);
    expect(e.message).toMatch(/by 50 B/);
    // Nothing changed, and an allocation that fits exactly still succeeds.
    expect(l.liveBytes).toBe(900);
    l.reserve('workspace', 'fits', 100);
    expect(l.liveBytes).toBe(1000);
    expect(l.snapshot().peakTotal).toBe(1000);
  });

  it('records a timeline only while recording', () => {
    const l = new MemoryLedger();
    const a = l.reserve('adapter', 'A', 64);
    l.recording = true;
    l.mark('step 1');
    const b = l.reserve('grads', 'dA', 64);
    l.release(b);
    l.recording = false;
    l.release(a);
    expect(l.timeline.map((e) => [e.kind, e.name])).toEqual([
      ['mark', 'step 1'],
      ['alloc', 'dA'],
      ['free', 'dA'],
    ]);
    expect(l.timeline[1].live.grads).toBe(64);
    expect(workingSet(l.timeline[1].live)).toBe(128);
  });
});

describe('dry GpuContext (the memory plan)', () => {
  it('allocates through the same ledger with no device', async () => {
    const ctx = GpuContext.dry({ capBytes: 1 << 20 });
    const base = ctx.ledger.liveBytes; // the uniform ring and the dummy binding
    expect(base).toBeGreaterThan(0);
    const t = ctx.alloc('activations', 'x', [16, 4]);
    expect(t.bytes).toBe(256);
    expect(ctx.ledger.liveBytes).toBe(base + 256);
    expect(new Float32Array(await ctx.read(t))).toEqual(new Float32Array(64));
    ctx.free(t);
    expect(() => ctx.free(t)).toThrow(/double free/);
    expect(() => ctx.alloc('activations', 'big', [1 << 20])).toThrow(OutOfBudgetError);
    expect(ctx.ledger.liveBytes).toBe(base);
  });
});

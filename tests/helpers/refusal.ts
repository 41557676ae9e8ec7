// The refusal-cleanup check, for any unit of work on a context (a training step, an eval batch, a generation): with a
// cap halfway between what is live now and the work's planned peak, the work must be refused mid-way by the ledger
// (OutOfBudgetError), and afterwards the ledger must hold exactly what it held before — the same bytes, the same
// named tensors — so the same context can run the next request. The cap is put back to what it was.
import { expect } from 'vitest';
import { OutOfBudgetError } from '../../core/common/errors';
import type { GpuContext } from '../../core/gpu/context';

/** Live tensors as "category:name bytes", sorted (what the ledger holds). */
export function liveNames(ctx: GpuContext): string[] {
  return ctx.ledger.liveEntries().map((e) => `${e.category}:${e.name} ${e.bytes}`).sort();
}

/**
 * Run `work` under a cap halfway between the live bytes and `peakBytes` (the work's planned peak). Checks that it is
 * refused after it has allocated something, and that the ledger is back at its baseline. Returns the refusal.
 */
export async function expectCleanRefusal(ctx: GpuContext, peakBytes: number, work: () => Promise<unknown>, label: string): Promise<OutOfBudgetError> {
  const before = liveNames(ctx);
  const baseline = ctx.ledger.liveBytes;
  expect(peakBytes, `${label}: the planned peak is above what is live`).toBeGreaterThan(baseline + 1);
  const cap = ctx.ledger.capBytes;
  ctx.ledger.capBytes = baseline + Math.floor((peakBytes - baseline) / 2);
  ctx.ledger.resetPeak();
  let err: unknown = null;
  try {
    await work();
  } catch (e) {
    err = e;
  } finally {
    ctx.ledger.capBytes = cap;
  }
  expect(err, `${label}: refused by the cap`).toBeInstanceOf(OutOfBudgetError);
  expect(ctx.ledger.snapshot().peakTotal, `${label}: it had allocated something before the refusal`).toBeGreaterThan(baseline);
  expect(ctx.ledger.liveBytes, `${label}: live bytes after the refusal`).toBe(baseline);
  expect(liveNames(ctx), `${label}: live tensors after the refusal`).toEqual(before);
  return err as OutOfBudgetError;
}

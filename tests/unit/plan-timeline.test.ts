// "Will it fit?" on real Qwen2.5 shapes with a phone's settings (core/api/contract/plan.ts PHONE_PLAN): each method's
// planned peak, the place in the step where it happens (layer and tensor) and the step's timeline, from the engine's
// dry run (core/node/service/inspect.ts planFit); a cap above the phone's RAM is refused; the chart thinning keeps the peak.
import { describe, expect, it } from 'vitest';
import { FIT_SPEC_KEYS, PHONE_PLAN, tensorPlace } from '../../core/api/contract/plan';
import { totalOf } from '../../core/api/names';
import { TRAIN_DEFAULTS, pickSpec } from '../../core/api/train';
import { peakIndex, thinKeepingPeaks } from '../../core/common/series';
import { planFit } from '../../core/node/service/inspect';
import { capOverrideIssue } from '../../core/profiles/schema';

describe('plan-only comparison of real shapes', () => {
  it('plans Qwen2.5-3B int4 / seq 256 / rank 8 on the 6 GB phone: MeSP fits, full backprop does not, with the peak placed', async () => {
    const r = await planFit({ ...pickSpec(TRAIN_DEFAULTS, FIT_SPEC_KEYS), ...PHONE_PLAN, profile: 'phone-6gb', methods: ['full', 'mebp', 'mesp', 'mezo'], timeline: true });
    for (const m of r.methods) {
      console.log(`${m.method}: peak ${(m.peakBytes / 1e6).toFixed(1)} MB of ${(r.capBytes / 1e6).toFixed(0)} MB, fits=${m.fits}, at ${m.peakAt?.part} ${m.peakAt?.category}:${m.peakAt?.name}, ${m.events} events → ${m.timeline.length} points`);
      expect(m.error, m.method).toBeNull();
      expect(m.peakAt, m.method).not.toBeNull();
      expect(m.timeline.length, m.method).toBeGreaterThan(10);
      expect(m.timeline.length, m.method).toBeLessThanOrEqual(700);
      // The thinned timeline keeps the step's peak: its highest point is the planned peak (the step's high-water mark).
      const top = Math.max(...m.timeline.map((p) => totalOf(p.live)));
      expect(top, m.method).toBe(m.peakBytes);
    }
    const by = Object.fromEntries(r.methods.map((m) => [m.method, m]));
    expect(r.model).toBe('qwen2.5-3b');
    expect(r.seqLen).toBe(256);
    expect(by.mesp.fits).toBe(true);
    expect(by.full.fits).toBe(false);
    expect(by.mesp.peakBytes).toBeLessThan(by.full.peakBytes);
  });

  it('names where a tensor lives from its ledger name', () => {
    expect(tensorPlace('l12.qr')).toEqual({ layer: 12, part: 'layer 12' });
    expect(tensorPlace('head.logits').part).toBe('the LM head and loss');
    expect(tensorPlace('embed.x').part).toBe('the embedding');
  });

  it('refuses a cap above the phone RAM and allows one below it', async () => {
    const p = { ramGB: 6, name: '6 GB phone' };
    expect(capOverrideIssue(7e9, p)).toMatch(/above the RAM of 6 GB phone \(6 GB = 6442 MB\).*at most 6442 MB/);
    expect(capOverrideIssue(5e9, p)).toBeNull();
    expect(capOverrideIssue(undefined, p)).toBeNull();
    await expect(planFit({ ...pickSpec(TRAIN_DEFAULTS, FIT_SPEC_KEYS), ...PHONE_PLAN, capBytes: 9e9, profile: 'phone-6gb', methods: ['mesp'] })).rejects.toThrow(/above the RAM/);
  });

  it('thins a series keeping its highest point, its first and its last', () => {
    const xs = Array.from({ length: 10_000 }, (_, i) => (i === 7_777 ? 1e9 : Math.sin(i / 50) * 100));
    const thin = thinKeepingPeaks(xs, 200, (v) => v);
    expect(thin.length).toBeLessThanOrEqual(202);
    expect(Math.max(...thin)).toBe(1e9);
    expect(thin[0]).toBe(xs[0]);
    expect(thin[thin.length - 1]).toBe(xs[xs.length - 1]);
    expect(peakIndex(xs, (v) => v)).toBe(7_777);
    expect(peakIndex([], (v: number) => v)).toBe(-1);
  });
});

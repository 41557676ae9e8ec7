// The autotune of the matmul-family kernels (core/node/autotune.ts): the shape classes of a schedule come from a dry
// run; the first autotune measures each class once and writes the cache file; a second one (a new process: nothing
// in memory) reads every choice from the file and measures nothing; contexts on the adapter then run the chosen
// variants, and every chosen variant reproduced reg's bits.
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GpuContext } from '../../core/gpu/context';
import { forgetTuning, variantId } from '../../core/gpu/tuning';
import { qlinearTile, qlinearTileT } from '../../core/kernels/linear';
import { matmul } from '../../core/kernels/matmul';
import { chooseVariant } from '../../core/kernels/variants';
import { allocWeight } from '../../core/kernels/weight';
import { autotune, loadTuning } from '../../core/node/autotune';
import { dawnProvider } from '../../core/node/dawn';

let saved: string | undefined;
beforeAll(() => {
  saved = process.env.MESP_AUTOTUNE;
  delete process.env.MESP_AUTOTUNE; // the gpu project turns it off for the other tests
});
afterAll(() => {
  if (saved !== undefined) process.env.MESP_AUTOTUNE = saved;
  forgetTuning();
});

/** The classes of a small schedule: an int4 projection forward and backward and a LoRA product, from a dry run. */
function requests() {
  const dry = GpuContext.dry();
  const W = allocWeight(dry, 'weights', 'w', 256, 128, 'int4'); // (out 256, in 128)
  const x = dry.alloc('workspace', 'x', [32, 128]); // (T, in)
  const y = dry.alloc('workspace', 'y', [32, 256]); // (T, out)
  const a = dry.alloc('workspace', 'a', [8, 128]); // LoRA A (r, in)
  const h = dry.alloc('workspace', 'h', [32, 8]); // (T, r)
  qlinearTile(dry, y, x, W, W.tiles[0], 32, { ldy: 256, ycol: 0, yrow0: 0, xrow0: 0 });
  qlinearTileT(dry, x, y, W, W.tiles[0], 32, { ldg: 256, gcol: 0, grow0: 0, dxrow0: 0 });
  matmul(dry, h, x, a, { M: 32, N: 8, K: 128 }, { transB: true });
  return [...dry.tuning.requests.values()];
}

describe('autotune', () => {
  it('measures each shape class once, then a second run reads every choice from the cache file', async () => {
    const cache = join(mkdtempSync(join(tmpdir(), 'mesp-autotune-')), 'autotune.json');
    const reqs = requests();
    expect(reqs.map((r) => r.key)).toEqual(['qlinear.int4 M32 N256 K128', 'qlinear_t.int4 M32 N128 K256', 'matmul.f32.nt.vec4 M32 N8 K128']);

    forgetTuning();
    const first = await autotune(dawnProvider, reqs, { cachePath: cache });
    expect(first.enabled).toBe(true);
    expect(first.measured).toBe(3);
    expect(first.reused).toBe(0);
    for (const [key, rec] of first.records) {
      console.log(`${key}: chose ${variantId(rec.choice)}; ${rec.measured.map((m) => `${m.variant} ${m.seconds !== null ? `${(m.seconds * 1e3).toFixed(3)} ms` : m.note ?? 'not timed'}`).join(', ')}`);
      const chosen = rec.measured.find((m) => m.variant === variantId(rec.choice));
      expect(chosen?.exact, `${key}: the chosen variant reproduces reg's bits`).toBe(true);
    }
    const file1 = readFileSync(cache, 'utf8');
    const mtime1 = statSync(cache).mtimeMs;
    expect(Object.keys(JSON.parse(file1).adapters[first.adapterKey])).toHaveLength(3);

    forgetTuning(); // a new process: no choices in memory
    const second = await autotune(dawnProvider, reqs, { cachePath: cache });
    console.log(`second run: ${second.measured} measured, ${second.reused} from ${cache}`);
    expect(second.measured).toBe(0);
    expect(second.reused).toBe(3);
    expect(second.records).toEqual(first.records); // the same records, measurements and times included
    expect(readFileSync(cache, 'utf8')).toBe(file1);
    expect(statSync(cache).mtimeMs).toBe(mtime1); // not rewritten

    // A run's context on this adapter runs the cached choices.
    forgetTuning();
    const ctx = await GpuContext.open(dawnProvider);
    try {
      expect(loadTuning(ctx.tuning, cache)).toBe(3);
      for (const r of reqs) {
        const rec = first.records.find(([k]) => k === r.key)![1];
        expect(variantId(chooseVariant(ctx, r.cls.family, r.cls.layout, r.dims)), r.key).toBe(variantId(rec.choice));
      }
    } finally {
      ctx.destroy();
    }
  });

  it('is skipped with MESP_AUTOTUNE=off', async () => {
    process.env.MESP_AUTOTUNE = 'off';
    try {
      const r = await autotune(dawnProvider, requests(), { cachePath: null });
      expect(r).toMatchObject({ enabled: false, measured: 0, reused: 0 });
    } finally {
      delete process.env.MESP_AUTOTUNE;
    }
  });
});

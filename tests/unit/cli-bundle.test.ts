// bin/mesp.js builds its bundle (out/cli/mesp.mjs) once and swaps it in atomically: with its sources changed, 60
// `mesp` commands started at the same time all run (none imports half a bundle: "main is not a function"), and so do
// 20 started where there was no bundle yet, and with nothing changed a start does not rebuild it (bin/bundle.js).
import { existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { APP_VERSION } from '../../core/api/names';
import { ROOT, runMesp } from '../helpers/cli';

const BUNDLE = join(ROOT, 'out/cli/mesp.mjs');
const STAMP = `${BUNDLE}.inputs.json`;

const mesp = (...args: string[]) => runMesp(args);

describe('the mesp bundle', () => {
  for (const [before, n] of [['an old bundle', 60], ['no bundle', 20]] as const) {
    it(`${n} concurrent starts while it is rebuilt, with ${before}: every one runs`, async () => {
      await mesp('--version'); // a bundle exists
      rmSync(STAMP, { force: true }); // as after a source change: a start rebuilds
      if (before === 'no bundle') rmSync(BUNDLE, { force: true });
      const runs = await Promise.all(Array.from({ length: n }, () => mesp('--version')));
      const bad = runs.map((r, i) => ({ i, ...r })).filter((r) => r.status !== 0 || r.stdout.trim() !== `mesp ${APP_VERSION}`);
      console.log(`[bundle] ${before}, ${n} concurrent starts: ${n - bad.length} ran, ${bad.length} failed${bad.length ? `: ${bad[0].stderr.slice(0, 200)}` : ''}`);
      expect(bad, `${before}: starts that did not run`).toEqual([]);
      expect(existsSync(STAMP), `${before}: the inputs are recorded again`).toBe(true);
      expect(readdirSync(join(ROOT, 'out/cli')).filter((f) => f.endsWith('.tmp') || f.endsWith('.lock')), `${before}: no temporary or lock left`).toEqual([]);
    }, 300_000);
  }

  it('with nothing changed, a start does not rebuild it', async () => {
    await mesp('--version');
    const before = statSync(BUNDLE).mtimeMs;
    const r = await mesp('--version');
    expect(r.status).toBe(0);
    expect(statSync(BUNDLE).mtimeMs, 'the bundle\'s time').toBe(before);
  }, 120_000);
});

// The robustness corpus (corpus.ts) through the real CLI: every case in a child process with a time limit, several at
// once, then one test per case asserting its exit code, that the message names the thing, that the outputs it names
// are absent and that no temporary file is left in its folder. Prints the number of cases per family and the time.
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CORPUS, FAMILIES, type Case, type Invocation } from './corpus';
import { leftovers } from './damage';
import { mesp, pool, type Outcome } from './runner';
import { makeSeed } from './seed';

const root = mkdtempSync(join(tmpdir(), 'mesp-corpus-'));
const results = new Map<Case, { inv: Invocation; out: Outcome; dir: string } | { error: string }>();
const WIDTH = Number(process.env.MESP_CORPUS_JOBS ?? 4);
/** MESP_CORPUS_ONLY=REGEX runs only the cases whose family/name matches (while working on one family). */
const ONLY = process.env.MESP_CORPUS_ONLY ? new RegExp(process.env.MESP_CORPUS_ONLY) : null;
const RUN = ONLY ? CORPUS.filter((c) => ONLY.test(`${c.family}/${c.name}`)) : CORPUS;

beforeAll(async () => {
  const t0 = Date.now();
  const seed = await makeSeed(join(root, 'seed'));
  const t1 = Date.now();
  await pool(RUN, WIDTH, async (c, i) => {
    const dir = join(root, 'cases', String(i));
    try {
      mkdirSync(dir, { recursive: true });
      const inv = c.make(dir, seed);
      const out = await mesp(inv.args, { cwd: dir, env: inv.env, limitMs: 60_000 });
      results.set(c, { inv, out, dir });
    } catch (e) {
      results.set(c, { error: String((e as Error).stack ?? e) });
    }
  });
  const counts = FAMILIES.map((f) => `${f} ${CORPUS.filter((c) => c.family === f).length}`).join(', ');
  const slow = [...results].flatMap(([c, r]) => ('out' in r ? [[c.name, r.out.ms] as const] : [])).sort((a, b) => b[1] - a[1]).slice(0, 5);
  console.log(`slowest: ${slow.map(([n, ms]) => `${n} ${(ms / 1000).toFixed(1)} s`).join('; ')}`);
  console.log(`robustness corpus: ${RUN.length} of ${CORPUS.length} cases (${counts}); seed ${((t1 - t0) / 1000).toFixed(1)} s, cases ${((Date.now() - t1) / 1000).toFixed(1)} s with ${WIDTH} at a time`);
}, 1_800_000); // all cases, several at a time: minutes on 2 cores, more when the machine is shared

afterAll(() => rmSync(root, { recursive: true, force: true }));

describe.each(FAMILIES.map((f) => [f]))('%s', (family) => {
  const mine = RUN.filter((c) => c.family === family);
  it('has cases', () => expect(CORPUS.filter((c) => c.family === family).length).toBeGreaterThan(0));
  it.each(mine.map((c) => [c.name, c]))('%s', (name, c) => {
    const r = results.get(c as Case)!;
    if ('error' in r) throw new Error(`${name}: the case could not be built: ${r.error}`);
    const { inv, out, dir } = r;
    const said = `${name}: mesp ${inv.args.join(' ')}\nexit ${out.status} ${out.signal ?? ''}\nstderr: ${out.stderr.slice(0, 1500)}`;
    expect(out.timedOut, `${said}\n(killed after the time limit)`).toBe(false);
    expect(out.status, said).toBe(inv.code);
    for (const n of inv.names) {
      if (typeof n === 'string') expect(out.stderr.toLowerCase(), `${said}\n(the message must name ${n})`).toContain(n.toLowerCase());
      else expect(out.stderr, `${said}\n(the message must match ${n})`).toMatch(n);
    }
    if (inv.code !== 0) expect(out.stderr, `${said}\n(no stack trace or raw error)`).not.toMatch(/\n\s+at .+:\d+:\d+\)?$|Cannot read properties|is not a function/m);
    for (const a of inv.absent ?? []) {
      expect(existsSync(join(dir, a)), `${said}\n(${a} must not be left behind)`).toBe(false);
    }
    expect(leftovers(dir), `${said}\n(temporaries left behind)`).toEqual([]);
    const problem = inv.check?.(dir, out) ?? null;
    expect(problem, said).toBeNull();
  });
});

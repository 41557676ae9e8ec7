// Fault tests through the real CLI: `mesp train` killed with SIGKILL at seeded random moments (and while a checkpoint
// is being written), then `--resume`d until done, must reach the uninterrupted run's loss curve step for step; a full
// and a read-only disk (a small tmpfs, mounted where the tests run as root; skipped with the reason printed where
// mounting is not allowed) give their exit code with the path and leave nothing behind; and the memory cap swept
// around each method's measured peak: exit 3 one byte below, 0 at the peak, and the peak never above the cap.
import { execFileSync } from 'node:child_process';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, watch } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/cli';
import { leftovers } from './damage';
import { ensureCli, mesp } from './runner';
import { TRAIN_ARGS } from './seed';

const root = mkdtempSync(join(tmpdir(), 'mesp-faults-'));
let model = '';
let data = '';

beforeAll(async () => {
  await ensureCli();
  const r = await mesp(['demo-model', '--out', 'model', '--dataset', 'all.jsonl'], { cwd: root });
  expect(r.status, r.stderr).toBe(0);
  model = join(root, 'model');
  data = join(root, 'data.jsonl');
  const { writeFileSync } = await import('node:fs');
  writeFileSync(data, readFileSync(join(root, 'all.jsonl'), 'utf8').split('\n').slice(0, 8).join('\n') + '\n');
}, 300_000);

afterAll(() => rmSync(root, { recursive: true, force: true }));

/** mulberry32: the seeded moments of the kills. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Step losses of a run folder's events.jsonl, by step (each step must be there once). */
function curve(run: string): Map<number, number> {
  const out = new Map<number, number>();
  for (const line of readFileSync(join(run, 'events.jsonl'), 'utf8').split('\n')) {
    if (!line.trim()) continue;
    const e = JSON.parse(line) as { type: string; step: number; loss?: number };
    if (e.type !== 'step') continue;
    expect(out.has(e.step), `${run}: step ${e.step} is on disk twice`).toBe(false);
    out.set(e.step, e.loss!);
  }
  return out;
}

/**
 * `mesp train` that is killed with SIGKILL by `when`: after `afterStep`'s event and `delayMs` more, or as soon as a
 * checkpoint's temporary folder appears. Resolves with whether it was killed.
 */
function trainKilled(args: string[], run: string, when: { afterStep: number; delayMs: number } | 'checkpoint-write'): Promise<{ killed: boolean; sawTemp: boolean }> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [join(ROOT, 'bin/child.js'), join(ROOT, 'out/cli/mesp.mjs'), 'main', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let killed = false;
    let sawTemp = false;
    const kill = (): void => {
      if (!killed) {
        killed = true;
        p.kill('SIGKILL');
      }
    };
    let watcher: ReturnType<typeof watch> | null = null;
    let buf = '';
    p.stdout.on('data', (d: Buffer) => {
      buf += d.toString();
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        let e: { type?: string; step?: number };
        try {
          e = JSON.parse(line) as typeof e;
        } catch {
          continue;
        }
        if (e.type === 'start' && when === 'checkpoint-write' && !watcher) {
          watcher = watch(join(run, 'checkpoints'), (_ev, name) => {
            if (name && name.includes('.tmp-')) {
              sawTemp = true;
              kill();
            }
          });
        }
        if (when !== 'checkpoint-write' && e.type === 'step' && e.step === when.afterStep) setTimeout(kill, when.delayMs);
      }
    });
    p.stderr.resume();
    p.on('error', reject);
    p.on('close', () => {
      watcher?.close();
      resolve({ killed, sawTemp });
    });
  });
}

describe('kill -9 at random moments, then --resume: the uninterrupted curve', () => {
  it('reaches the same loss at every step, with each step on disk once', async () => {
    const ref = join(root, 'ref');
    const r = await mesp(['train', '--model', model, '--data', data, '--out', ref, ...TRAIN_ARGS, '--json'], { cwd: root, limitMs: 300_000 });
    expect(r.status, r.stderr).toBe(0);
    const want = curve(ref);
    expect(want.size).toBe(6);
    const next = rng(20260602);
    const trials: ({ afterStep: number; delayMs: number } | 'checkpoint-write')[] = [
      { afterStep: 1 + Math.floor(next() * 5), delayMs: Math.floor(next() * 300) },
      { afterStep: 1 + Math.floor(next() * 5), delayMs: Math.floor(next() * 300) },
      'checkpoint-write',
    ];
    for (const [i, when] of trials.entries()) {
      const run = join(root, `killed-${i}`);
      const k = await trainKilled(['train', '--model', model, '--data', data, '--out', run, ...TRAIN_ARGS, '--json'], run, when);
      console.log(`kill trial ${i} (${JSON.stringify(when)}): killed ${k.killed}, during a checkpoint write ${k.sawTemp}; checkpoints ${existsSync(join(run, 'checkpoints')) ? readdirSync(join(run, 'checkpoints')).join(' ') : 'none'}`);
      for (let attempt = 0; attempt < 3 && existsSync(join(run, 'config.json')); attempt++) {
        const done = readFileSync(join(run, 'events.jsonl'), 'utf8').includes('"type":"done"');
        if (done) break;
        const res = await mesp(['train', '--resume', run, '--json'], { cwd: root, limitMs: 300_000 });
        expect(res.status, `trial ${i}: resume: ${res.stderr}`).toBe(0);
      }
      if (!existsSync(join(run, 'config.json'))) {
        // killed before the run folder was written: a new run from scratch is the whole curve
        const res = await mesp(['train', '--model', model, '--data', data, '--out', run, ...TRAIN_ARGS, '--json'], { cwd: root, limitMs: 300_000 });
        expect(res.status, res.stderr).toBe(0);
      }
      const got = curve(run);
      for (const [step, loss] of want) {
        expect(got.get(step), `trial ${i} (${JSON.stringify(when)}): loss at step ${step}`).toBeCloseTo(loss, 5);
      }
      expect(leftovers(run), `trial ${i}: temporaries left after the resume`).toEqual([]);
    }
  });
});

/** Mount a tmpfs of `size` at `dir`, or the reason it cannot be done here. */
function mountTmpfs(dir: string, size: string): string | null {
  if (process.getuid?.() !== 0) return 'not root: a tmpfs cannot be mounted';
  mkdirSync(dir, { recursive: true });
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], { stdio: 'pipe' });
    return null;
  } catch (e) {
    return `mount -t tmpfs failed here: ${String((e as { stderr?: Buffer }).stderr ?? e).trim()}`;
  }
}
const umount = (dir: string): void => void execFileSync('umount', [dir], { stdio: 'pipe' });

describe('a full or read-only disk', () => {
  it('demo-model, grads and export on a full disk: exit 1, the path, nothing left', async (ctx) => {
    const disk = join(root, 'full');
    const why = mountTmpfs(disk, '256k');
    if (why) {
      console.log(`skipped: the full-disk test needs a tmpfs: ${why}`);
      ctx.skip();
      return;
    }
    try {
      const dm = await mesp(['demo-model', '--out', join(disk, 'm')], { cwd: root });
      expect(dm.status, dm.stderr).toBe(1);
      expect(dm.stderr).toMatch(/disk is full/);
      expect(dm.stderr).toContain(disk);
      expect(readdirSync(disk), 'demo-model left files on the full disk').toEqual([]);

      // the adapter to take gradients of: a one-step run elsewhere
      const run = join(root, 'grads-run');
      const t = await mesp(['train', '--model', model, '--data', data, '--out', run, '--steps', '1', '--rank', '64', '--targets', 'all', '--seq-len', '32'], { cwd: root });
      expect(t.status, t.stderr).toBe(0);
      const g = await mesp(['grads', '--model', model, '--data', data, '--adapter', join(run, 'adapter'), '--method', 'mesp', '--seq-len', '32', '--out', join(disk, 'g.safetensors')], { cwd: root });
      expect(g.status, g.stderr).toBe(1);
      expect(g.stderr).toMatch(/disk is full/);
      expect(readdirSync(disk), 'grads left a truncated file').toEqual([]);

      const ex = await mesp(['export', '--run', run, '--format', 'peft,mlx', '--out', join(disk, 'exp'), '--parity-rows', '0'], { cwd: root });
      expect(ex.status, ex.stderr).toBe(1);
      expect(ex.stderr).toMatch(/full/);
      expect(readdirSync(disk), 'export left files').toEqual([]);
    } finally {
      umount(disk);
    }
  });

  it('a new run whose checkpoint fills the disk: exit 1 saying the disk is full, no temporaries left', async (ctx) => {
    const disk = join(root, 'full2');
    const why = mountTmpfs(disk, '64k');
    if (why) {
      console.log(`skipped: the full-disk run test needs a tmpfs: ${why}`);
      ctx.skip();
      return;
    }
    try {
      const r = await mesp(['train', '--model', model, '--data', data, '--out', join(disk, 'run'), '--steps', '2', '--rank', '64', '--targets', 'all', '--seq-len', '32'], { cwd: root });
      expect(r.status, r.stderr).toBe(1);
      expect(r.stderr).toMatch(/disk is full/);
      expect(leftovers(disk), 'temporaries left on the full disk').toEqual([]);
    } finally {
      umount(disk);
    }
  });

  it('a read-only disk: exit 5 naming the path and saying so', async (ctx) => {
    const disk = join(root, 'ro');
    const why = mountTmpfs(disk, '1m');
    if (why) {
      console.log(`skipped: the read-only test needs a tmpfs: ${why}`);
      ctx.skip();
      return;
    }
    try {
      execFileSync('mount', ['-o', 'remount,ro', disk], { stdio: 'pipe' });
      const dm = await mesp(['demo-model', '--out', join(disk, 'm')], { cwd: root });
      expect(dm.status, dm.stderr).toBe(5);
      expect(dm.stderr).toMatch(/read-only/);
      expect(dm.stderr).toContain(disk);
    } finally {
      umount(disk);
    }
  });
});

describe('the cap swept around the measured peak', () => {
  it.each([['full'], ['mebp'], ['mesp'], ['mezo']])('%s: exit 3 one byte below the peak, 0 at it, never a byte over', async (method) => {
    const base = ['train', '--model', model, '--data', data, '--steps', '1', '--checkpoint-every', '0', '--seq-len', '32', '--method', method, '--json'];
    const peakOf = (stdout: string): number => {
      const steps = stdout.split('\n').filter((l) => l.includes('"type":"step"')).map((l) => JSON.parse(l) as { peakBytes: { total: number } });
      return Math.max(...steps.map((s) => s.peakBytes.total));
    };
    const free = await mesp([...base, '--out', join(root, `cap-${method}-free`)], { cwd: root });
    expect(free.status, free.stderr).toBe(0);
    const peak = peakOf(free.stdout);
    const at = await mesp([...base, '--out', join(root, `cap-${method}-at`), '--cap-bytes', String(peak)], { cwd: root });
    expect(at.status, `${method}: at the peak ${peak}: ${at.stderr}`).toBe(0);
    expect(peakOf(at.stdout), `${method}: measured peak under --cap-bytes ${peak}`).toBeLessThanOrEqual(peak);
    const below = await mesp([...base, '--out', join(root, `cap-${method}-below`), '--cap-bytes', String(peak - 1)], { cwd: root });
    expect(below.status, `${method}: one byte below the peak ${peak}: ${below.stderr}`).toBe(3);
    expect(below.stderr).toMatch(/budget|cap/i);
    console.log(`${method}: peak ${peak} bytes: cap ${peak} exit 0, cap ${peak - 1} exit 3`);
  });
});

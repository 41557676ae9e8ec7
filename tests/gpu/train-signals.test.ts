// `mesp train` as a user stops it, as real processes with real signals (bin/mesp.js, Dawn on lavapipe): Ctrl-C
// (SIGINT) at about step 20 of 60 with the default checkpointing finishes the step, writes a checkpoint, says how to
// resume and exits 130, and `--resume` then gives the uninterrupted run's loss curve exactly, with each step once in
// events.jsonl. SIGTERM does the same. A run killed outright (SIGKILL) resumes from its newest checkpoint, or from
// step 0 when it has none (and says so), and its events.jsonl still has each step once.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { RunEvent } from '../../core/api/train';
import { RunStore } from '../../core/node/runstore';
import { runTrain } from '../../core/node/service/train';
import { runMesp } from '../helpers/cli';
import { makeTinyModel, tokenRows } from '../helpers/tiny';

const m = makeTinyModel({ seed: 95, hidden: 32, intermediate: 64, layers: 1, vocab: 256 });
afterAll(() => m.cleanup());
const data = join(m.dir, 'rows.jsonl');
writeFileSync(data, tokenRows(256, Array.from({ length: 48 }, (_, i) => 6 + (i % 5)), 17).map((r) => JSON.stringify({ input_ids: r.ids })).join('\n') + '\n');

/** The settings of every run here (AdamW with a cosine schedule, so the curve depends on the state restored). */
const settings = (steps: number): string[] => [
  '--model', m.dir, '--data', data, '--steps', String(steps), '--batch', '2', '--lr', '0.01', '--optimizer', 'adamw',
  '--schedule', 'cosine', '--warmup', '2', '--rank', '2', '--targets', 'q,v,up', '--seed', '5', '--seq-len', '16',
];

interface Proc {
  status: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
  losses: number[];
}

/** Run `mesp train ...args --json`, sending `at.signal` once, as soon as step `at.step` is reported. */
async function train(args: string[], at?: { step: number; signal: NodeJS.Signals }): Promise<Proc> {
  const losses: number[] = [];
  let sent = false;
  const r = await runMesp(['train', ...args, '--json'], (line, kill) => {
    const e = JSON.parse(line) as RunEvent;
    if (e.type !== 'step') return;
    losses.push(e.loss);
    if (at && !sent && e.step >= at.step) {
      sent = true;
      kill(at.signal);
    }
  });
  return { status: r.status, signal: r.signal, stderr: r.stderr, losses };
}

/** Processes whose command line names `text` (the command's child outlives a SIGKILL of its parent by a moment). */
function processesWith(text: string): number[] {
  const out: number[] = [];
  for (const pid of readdirSync('/proc').filter((x) => /^\d+$/.test(x))) {
    try {
      if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(text)) out.push(Number(pid));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

async function gone(text: string): Promise<void> {
  while (processesWith(text).length) await new Promise((r) => setTimeout(r, 50));
}

async function uninterrupted(steps: number, outDir: string): Promise<number[]> {
  const losses: number[] = [];
  await runTrain({ // the same settings as settings(steps), through the service in this process
    modelDir: m.dir, dataPath: data, outDir, steps, batch: 2, lr: 0.01, optimizer: 'adamw', schedule: 'cosine', warmupSteps: 2,
    rank: 2, targets: ['q', 'v', 'up'], seed: 5, seqLen: 16,
  }, {}, (e) => e.type === 'step' && losses.push(e.loss));
  expect(losses, 'the uninterrupted run').toHaveLength(steps);
  return losses;
}

const stepsOnDisk = (dir: string): number[] => new RunStore(dir).readEvents().flatMap((e) => (e.type === 'step' ? [e.step] : []));
const oneToN = (n: number): number[] => Array.from({ length: n }, (_, i) => i + 1);

describe('mesp train and signals', () => {
  it('SIGINT at step ~20 of 60: the step finishes, a checkpoint, exit 130; --resume gives the uninterrupted curve exactly', async () => {
    const whole = await uninterrupted(60, join(m.dir, 'whole'));
    const dir = join(m.dir, 'interrupted');
    const first = await train([...settings(60), '--out', dir], { step: 20, signal: 'SIGINT' });
    const stoppedAt = first.losses.length;
    console.log(`[signals] SIGINT after step 20: exit ${first.status}, ${stoppedAt} steps; stderr: ${first.stderr.trim().split('\n').join(' | ')}`);
    expect(first.status, first.stderr).toBe(130);
    expect(first.stderr).toMatch(/SIGINT: stopping after step \d+ finishes, with a checkpoint/);
    expect(first.stderr).toContain(`stopped at step ${stoppedAt}; resume with: mesp train --resume ${dir}`);
    expect(stoppedAt, 'steps done before the stop').toBeGreaterThanOrEqual(20);
    expect(stoppedAt, 'steps done before the stop').toBeLessThan(60);
    expect(new RunStore(dir).latestCheckpoint()?.step, 'the checkpoint written on the stop').toBe(stoppedAt);
    const rest = await train(['--resume', dir]);
    expect(rest.status, rest.stderr).toBe(0);
    const parts = [...first.losses, ...rest.losses];
    console.log(`[signals] uninterrupted: ${whole.slice(stoppedAt - 2, stoppedAt + 2).map((l) => l.toFixed(6)).join(' ')} …`);
    console.log(`[signals] stop + resume: ${parts.slice(stoppedAt - 2, stoppedAt + 2).map((l) => l.toFixed(6)).join(' ')} …`);
    expect(parts, 'the loss curve of stop + resume').toEqual(whole);
    expect(stepsOnDisk(dir), 'steps in events.jsonl').toEqual(oneToN(60));
  });

  it('SIGTERM stops the same way', async () => {
    const dir = join(m.dir, 'terminated');
    const r = await train([...settings(30), '--out', dir], { step: 3, signal: 'SIGTERM' });
    expect(r.status, r.stderr).toBe(130);
    expect(r.stderr).toContain(`stopped at step ${r.losses.length}; resume with: mesp train --resume ${dir}`);
    expect(new RunStore(dir).latestCheckpoint()?.step).toBe(r.losses.length);
  });

  it('killed outright after a checkpoint: --resume continues from it, each step once on disk, the same curve', async () => {
    const whole = await uninterrupted(16, join(m.dir, 'whole-16'));
    const dir = join(m.dir, 'killed');
    const first = await train([...settings(16), '--checkpoint-every', '4', '--out', dir], { step: 6, signal: 'SIGKILL' });
    expect(first.signal).toBe('SIGKILL');
    await gone(dir);
    const ckpt = new RunStore(dir).latestCheckpoint()!.step;
    expect(ckpt % 4, 'the newest checkpoint is a periodic one').toBe(0);
    expect(stepsOnDisk(dir).length, 'steps on disk past the checkpoint before the resume').toBeGreaterThan(ckpt);
    const rest = await train(['--resume', dir]);
    expect(rest.status, rest.stderr).toBe(0);
    expect(stepsOnDisk(dir), 'steps in events.jsonl after the resume').toEqual(oneToN(16));
    expect([...first.losses.slice(0, ckpt), ...rest.losses], 'the loss curve').toEqual(whole);
  });

  it('killed before any checkpoint: --resume says so and starts again from step 0', async () => {
    const dir = join(m.dir, 'killed-early');
    const first = await train([...settings(8), '--out', dir], { step: 2, signal: 'SIGKILL' });
    expect(first.signal).toBe('SIGKILL');
    await gone(dir);
    expect(new RunStore(dir).latestCheckpoint()).toBeNull();
    const rest = await train(['--resume', dir]);
    expect(rest.status, rest.stderr).toBe(0);
    expect(rest.stderr).toContain(`${dir} has no checkpoint yet, so the run starts again from step 0`);
    expect(stepsOnDisk(dir), 'steps in events.jsonl').toEqual(oneToN(8));
  });
});

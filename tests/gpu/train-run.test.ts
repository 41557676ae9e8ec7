// Runs as a user drives them: a stopped run resumed with --resume gives the uninterrupted run's curve; a run that
// reaches the memory cap stops with the OutOfBudgetError message and exit code 3, and its last checkpoint stays
// intact; checkpoints and the final adapter are PEFT folders.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { RunEvent, TrainRequest } from '../../core/api/train';
import { openModelFolder } from '../../core/node/modelfiles';
import { RunStore } from '../../core/node/runstore';
import { runTrain } from '../../core/node/service/train';
import { planTrainStep } from '../../core/train/plan';
import { makeTinyModel, tokenRows } from '../helpers/tiny';

const m = makeTinyModel({ seed: 51 });
afterAll(() => m.cleanup());
const data = join(m.dir, 'rows.jsonl');
writeFileSync(data, tokenRows(1024, [10, 12, 9, 14, 11, 8, 13], 61).map((r) => JSON.stringify({ input_ids: r.ids })).join('\n') + '\n');

const base = (outDir: string): TrainRequest => ({
  modelDir: m.dir, dataPath: data, outDir, method: 'mesp', steps: 12, batch: 2, lr: 0.01, optimizer: 'adamw',
  schedule: 'cosine', warmupSteps: 2, rank: 4, targets: ['q', 'k', 'v', 'o', 'up'], seed: 3, valFraction: 0.15, valEvery: 4,
});

describe('runs', () => {
  it('stopping and --resume give the same loss curve as an uninterrupted run (AdamW, cosine schedule)', async () => {
    const whole: number[] = [];
    await runTrain(base(join(m.dir, 'whole')), {}, (e) => e.type === 'step' && whole.push(e.loss));
    const parts: number[] = [];
    let seen = 0;
    const stopped = await runTrain(base(join(m.dir, 'parts')), {}, (e) => {
      if (e.type === 'step') {
        parts.push(e.loss);
        seen = e.step;
      }
    }, () => (seen >= 5 ? 'stop' : 'run'));
    expect(stopped.reason).toBe('stopped');
    expect(stopped.stepsDone).toBe(5);
    const store = new RunStore(join(m.dir, 'parts'));
    expect(store.latestCheckpoint()?.step).toBe(5);
    // a stopped run has an adapter/ already (the newest checkpoint's), so it can be exported or evaluated
    expect(existsSync(join(store.adapterDir, 'adapter_model.safetensors'))).toBe(true);
    // resume through the CLI, as a user would
    const out = execFileSync(process.execPath, ['bin/mesp.js', 'train', '--resume', store.dir, '--json'], { encoding: 'utf8' });
    for (const line of out.trim().split('\n')) {
      const e = JSON.parse(line) as RunEvent;
      if (e.type === 'step') parts.push(e.loss);
    }
    console.log(`[resume] uninterrupted: ${whole.map((l) => l.toFixed(4)).join(' ')}`);
    console.log(`[resume] stop at 5 + resume: ${parts.map((l) => l.toFixed(4)).join(' ')}`);
    expect(parts).toEqual(whole);
    const events = store.readEvents();
    expect(events.filter((e) => e.type === 'start')).toHaveLength(2);
    expect(events.filter((e) => e.type === 'val').length).toBeGreaterThanOrEqual(2);
  });

  it('a run that reaches the cap stops with the budget message, exit code 3, and its last checkpoint intact', async () => {
    const dir = join(m.dir, 'capped');
    let seen = 0;
    await runTrain(base(dir), {}, (e) => e.type === 'step' && (seen = e.step), () => (seen >= 3 ? 'stop' : 'run'));
    const store = new RunStore(dir);
    const ckpt = store.latestCheckpoint()!;
    const before = Object.fromEntries(readdirSync(ckpt.path).map((f) => [f, readFileSync(join(ckpt.path, f))]));
    const cfg = openModelFolder(m.dir).config;
    const plan = await planTrainStep({ cfg, quant: 'none', seqLen: 14, batch: 2, method: 'mesp', rank: 4, alpha: 16, targets: ['q', 'k', 'v', 'o', 'up'], optimizer: { kind: 'adamw' } });
    const cap = plan.peakBytes - 4096; // enough to load, not enough for a step
    const r = spawnSync(process.execPath, ['bin/mesp.js', 'train', '--resume', dir, '--cap-bytes', String(cap)], { encoding: 'utf8' });
    console.log(`[cap] exit ${r.status}: ${r.stderr.split('\n').filter((l) => l.startsWith('mesp') || l.startsWith('over')).join(' | ')}`);
    expect(r.status).toBe(3);
    expect(r.stderr).toMatch(/Out of memory budget: allocating \w+:\S+ \(/);
    expect(r.stderr).toMatch(/over the cap of .* by /);
    const after = Object.fromEntries(readdirSync(ckpt.path).map((f) => [f, readFileSync(join(ckpt.path, f))]));
    expect(Object.keys(after).sort()).toEqual(Object.keys(before).sort());
    for (const f of Object.keys(before)) expect(after[f].equals(before[f]), `f ${f}`).toBe(true);
    expect(store.latestCheckpoint()).toEqual(ckpt);
    const err = store.readEvents().filter((e) => e.type === 'error').pop();
    expect(err && err.type === 'error' && err.code).toBe('OUT_OF_BUDGET');
    if (err?.type === 'error') {
      expect(err.lastCheckpoint).toBe(ckpt.path);
      expect(err.budget!.overshootBytes).toBeGreaterThan(0);
      expect(err.budget!.capBytes).toBe(cap);
    }
  });
});

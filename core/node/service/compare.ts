// The Compare view's service: the chosen methods run one after another on the same model, data, seed and profile, as
// one comparison saved under comparisons/<id>/ — comparison.json (written after each method, so a comparison cut short
// keeps what it measured) and one run folder per method (comparisons/<id>/<method>/, a normal run folder). Each method
// contributes its measured peak by category, one step's memory timeline, loss against step and time, and step time.
// MeZO's gradient estimate is set against the exact gradient (MeSP's, equal to full and MeBP's) on the first batch:
// the cosine of ĝ = ((L₊ − L₋)/2ε)·z with ∇L, for several directions z (core/train/grads.ts).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CATEGORIES, ComparisonSchema, type Comparison, type CompareMethod, type CompareSummary, type CosineResult, type TimelinePoint } from '../../api/contract';
import { TrainRequestSchema, type RunEvent, type TrainRequest } from '../../api/train';
import { batchAtStep } from '../../data/batching';
import { exactGradients, gradientCosine, gradientSize, mezoGradient } from '../../train/grads';
import { uploadAdapter } from '../../train/lora';
import { mezoStepSeed } from '../../train/mezo';
import { writeFileAtomic } from '../atomic';
import { loadModel, loadProfile, openContext, openModelFolder, resolveInputs, type JobEnv } from './context';
import { errorOf, isRunId } from './runs';
import { prepare } from './train';

const MAX_TIMELINE = 400;

function median(xs: number[]): number | null {
  if (!xs.length) return null;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

const sumLive = (l: TimelinePoint['live']): number => CATEGORIES.reduce((s, c) => s + l[c], 0);

/** What one method's run measured, from its events. */
export function methodResult(method: CompareMethod['method'], runDir: string, events: RunEvent[], status: CompareMethod['status']): CompareMethod {
  let predicted: number | null = null;
  let peak: number | null = null;
  let ws: number | null = null;
  let lastPeak: CompareMethod['atPeak'] = null;
  let timeline: TimelinePoint[] = [];
  let error: CompareMethod['error'] = null;
  const loss: CompareMethod['loss'] = [];
  const stepSeconds: number[] = [];
  const tps: number[] = [];
  for (const e of events) {
    if (e.type === 'start') predicted = e.predictedPeakBytes ?? predicted;
    else if (e.type === 'step') {
      peak = Math.max(peak ?? 0, e.peakBytes.total);
      ws = Math.max(ws ?? 0, e.workingSetBytes);
      const { total: _t, ...byCat } = e.peakBytes;
      lastPeak = byCat;
      loss.push({ step: e.step, loss: e.loss, seconds: e.elapsedSeconds });
      stepSeconds.push(e.stepSeconds);
      tps.push(e.tokensPerSecond);
    } else if (e.type === 'timeline' && e.points.length) {
      const every = Math.max(1, Math.ceil(e.points.length / MAX_TIMELINE));
      const t0 = e.points[0].ms;
      timeline = e.points.filter((_, i) => i % every === 0 || i === e.points.length - 1).map((p) => ({ ms: p.ms - t0, live: { ...p.live } }));
    } else if (e.type === 'error') error = errorOf(e);
  }
  // The category split at the peak of the recorded step (its points add up to the live total).
  let atPeak = lastPeak;
  if (timeline.length) {
    let best = timeline[0];
    for (const p of timeline) if (sumLive(p.live) > sumLive(best.live)) best = p;
    atPeak = best.live;
  }
  const skipFirst = <T>(xs: T[]): T[] => (xs.length > 1 ? xs.slice(1) : xs);
  return {
    method, status, runDir, predictedPeakBytes: predicted, peakBytes: peak, atPeak, workingSetBytes: ws, timeline, loss,
    stepSeconds: median(skipFirst(stepSeconds)), tokensPerSecond: median(skipFirst(tps)), error,
  };
}

export class ComparisonStore {
  constructor(readonly dir: string) {}
  get file(): string {
    return join(this.dir, 'comparison.json');
  }
  write(c: Comparison): void {
    writeFileAtomic(this.file, JSON.stringify(c) + '\n');
  }
  read(): Comparison {
    return ComparisonSchema.parse(JSON.parse(readFileSync(this.file, 'utf8')));
  }
}

/** Saved comparisons, newest first. A comparison that says "running" but is not live was cut short. */
export function listComparisons(dir: string, isLive: (id: string) => boolean): CompareSummary[] {
  if (!existsSync(dir)) return [];
  const out: CompareSummary[] = [];
  for (const id of readdirSync(dir)) {
    if (!isRunId(id) || !existsSync(join(dir, id, 'comparison.json'))) continue;
    try {
      const c = openComparison(join(dir, id), isLive(id));
      out.push({ id: c.id, name: c.name, createdAt: c.createdAt, status: c.status, methods: c.methods.map((m) => m.method), profileId: c.profileId, capBytes: c.capBytes });
    } catch {
      // a damaged comparison.json is left out of the list
    }
  }
  return out.sort((a, b) => (a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : 0));
}

export function openComparison(dir: string, live: boolean): Comparison {
  const c = new ComparisonStore(dir).read();
  if (!live && c.status === 'running') {
    return { ...c, status: 'interrupted', methods: c.methods.map((m) => (m.status === 'running' || m.status === 'pending' ? { ...m, status: 'stopped' } : m)) };
  }
  return c;
}

/**
 * Cosine between MeZO's estimate and the exact gradient on the run's first batch at the run's initial adapter, for
 * `samples` directions z. Runs under the same profile, limits and cap as the comparison.
 */
export async function mezoCosine(input: TrainRequest, samples: number, env: JobEnv = {}): Promise<CosineResult> {
  const cfg = await resolveInputs(TrainRequestSchema.parse(input), env);
  const profile = loadProfile(cfg.profile);
  const folder = openModelFolder(cfg.modelDir);
  const p = prepare(cfg, folder);
  const ctx = await openContext(profile, { ...env, capBytes: env.capBytes ?? cfg.capBytes });
  try {
    const model = loadModel(ctx, folder, cfg.quant);
    const lora = uploadAdapter(ctx, folder.config, p.init);
    const batch = batchAtStep(p.train, cfg.batch, cfg.seed, 0, { padId: p.padId });
    const exact = await exactGradients(ctx, model, lora, batch, { method: 'mesp' });
    const d = gradientSize(exact.grads);
    const cos: number[] = [];
    for (let k = 0; k < samples; k++) {
      const g = await mezoGradient(ctx, model, lora, batch, mezoStepSeed(cfg.seed, k), cfg.mezoEps);
      cos.push(gradientCosine(g.grads, exact.grads));
    }
    return {
      exactMethod: 'mesp', samples: cos, mean: cos.reduce((s, x) => s + x, 0) / cos.length,
      meanAbs: cos.reduce((s, x) => s + Math.abs(x), 0) / cos.length, parameters: d, randomBaseline: Math.sqrt(2 / (Math.PI * d)), error: null,
    };
  } finally {
    ctx.destroy();
  }
}

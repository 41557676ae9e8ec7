// `mesp bench`: prints each method's planned peak before running, then a Markdown table of measured memory, time and
// FLOP/s beside the paper's numbers; --json FILE writes the result. `mesp bench --generate` is generation's
// (cmd-bench-generate.ts).
import { BenchRequestSchema, type BenchRequest } from '../../api/bench';
import { CATEGORIES } from '../../api/names';
import type { Method } from '../../train/methods';
import { writeFileAtomic } from '../atomic';
import { PAPER_MB, planBench, runBench, type BenchPlan, type BenchResult } from '../service/bench';
import { BENCH_GENERATE, cmdBenchGenerate } from './cmd-bench-generate';
import { command } from './flags';
import { mb, table } from './format';
import { autotuneTable, profileHeader, profileTable, projectionNote, projectionTable } from './bench-report';
import { autotuneProgressLine } from '../autotune';

export const BENCH = command({
  usage: ['mesp bench --shape qwen2.5-0.5b|qwen2.5-1.5b|qwen2.5-3b|CONFIG.json [--methods full,mebp,mesp,mezo] [flags] [--json FILE]'],
  about: 'The paper\'s memory table in this engine: real Qwen2.5 shapes with deterministic random weights, real SGD steps.',
  shape: [BenchRequestSchema],
  schema: BenchRequestSchema,
});

function pct(a: number, b: number): string {
  return `${(((a - b) / b) * 100).toFixed(2)} %`;
}

export function benchTable(r: BenchResult): string {
  const paper = PAPER_MB[r.shape] ?? {};
  const rows = (Object.keys(r.methods) as Method[]).map((m) => {
    const x = r.methods[m]!;
    return [
      m, mb(x.peakBytes.total), mb(x.workingSetBytes), ...CATEGORIES.map((c) => mb(x.peakBytes[c])), mb(x.predictedPeakBytes),
      pct(x.predictedPeakBytes, x.peakBytes.total), x.stepSeconds.toFixed(2), x.tokensPerSecond.toFixed(1),
      (x.flopsPerStep / 1e9).toFixed(1), (x.achievedFlops / 1e9).toFixed(2), `${((x.achievedFlops / r.matmulPeakFlops) * 100).toFixed(0)} %`,
      paper[m] !== undefined ? `${paper[m]} MB` : '—',
    ];
  });
  return table(
    ['method', 'peak total', 'working set', ...CATEGORIES, 'planned peak', 'plan − measured', 'step s', 'tokens/s', 'GFLOP/step', 'GFLOP/s', 'of matmul peak', 'paper (working set)'],
    rows,
  );
}

/** `--plan-only`: each method's planned peak, working set and categories at the peak (MB). */
export function planTable(plans: Partial<Record<Method, BenchPlan>>): string {
  const rows = (Object.keys(plans) as Method[]).map((m) => {
    const p = plans[m]!.plan;
    return [m, mb(p.peakBytes), mb(p.peakWorkingSet), ...CATEGORIES.map((c) => mb(p.atPeak[c])), (p.kernels.reduce((s, k) => s + k.flops, 0) / 1e9).toFixed(1)];
  });
  return table(['method', 'planned peak', 'working set', ...CATEGORIES, 'GFLOP/step'], rows);
}

/** The settings a bench prints before its tables. */
function settingsLine(req: BenchRequest): string {
  return `seq ${req.seqLen}, batch ${req.batch}, rank ${req.rank}, targets ${req.targets.join(',')}, ${req.quant}, ${req.precision} storage, SGD`;
}

export function benchSummary(r: BenchResult): string[] {
  const lines: string[] = [];
  const a = r.methods.mebp;
  const b = r.methods.mesp;
  if (a && b) {
    lines.push(`MeSP working set ${mb(b.workingSetBytes)} vs MeBP ${mb(a.workingSetBytes)}: ${(100 * (1 - b.workingSetBytes / a.workingSetBytes)).toFixed(1)} % less` +
      ` (paper: ${PAPER_MB[r.shape]?.mesp ?? '—'} vs ${PAPER_MB[r.shape]?.mebp ?? '—'} MB).`);
    lines.push(`MeSP step time ${b.stepSeconds.toFixed(2)} s = ${(b.stepSeconds / a.stepSeconds).toFixed(3)} × MeBP's ${a.stepSeconds.toFixed(2)} s.`);
  }
  return lines;
}

/** `mesp bench --help`: the training table's flags, then --generate's. */
export const BENCH_HELP = `${BENCH.help}\n\n${BENCH_GENERATE.help}`;

export async function cmdBench(argv: string[]): Promise<number> {
  if (argv.includes('--generate')) return cmdBenchGenerate(argv);
  const { values } = BENCH.parse(argv);
  const { json, ...req } = values;
  if (req.planOnly) return benchPlanOnly(req, json);
  console.log(`mesp bench ${req.shape}: ${settingsLine(req)}, ${req.steps} step(s)`);
  const r = await runBench(req, (p) => {
    switch (p.type) {
      case 'plan':
        console.log(`planned peak ${p.method.padEnd(5)}: total ${mb(p.plan.peakBytes)}, working set ${mb(p.plan.peakWorkingSet)}`);
        break;
      case 'autotune':
        console.log(autotuneProgressLine(p.progress));
        break;
      case 'peak':
        console.log(`matmul peak on this adapter: ${(p.flops / 1e9).toFixed(2)} GFLOP/s`);
        break;
      case 'loaded':
        console.log(`${p.method}: weights ready in ${p.seconds.toFixed(1)} s`);
        break;
      case 'step':
        console.log(`${p.method}: step ${p.step} ${p.seconds.toFixed(2)} s, loss ${p.loss.toFixed(4)}`);
        break;
      case 'profile':
        console.log(`\n${profileHeader(p.method, p.profile)}\n${profileTable(p.profile)}\n`);
        break;
      case 'method':
        console.log(`${p.method}: measured peak ${mb(p.result.peakBytes.total)} (planned ${mb(p.result.predictedPeakBytes)}, ${pct(p.result.predictedPeakBytes, p.result.peakBytes.total)})`);
        break;
    }
  });
  if (r.autotune.enabled) console.log(`\nKernel variants (autotune on this adapter):\n${autotuneTable(r.autotune)}`);
  console.log(`\n${benchTable(r)}\n`);
  for (const l of benchSummary(r)) console.log(l);
  console.log(`\n${projectionNote()}\nf32:\n${projectionTable(r, 'f32')}\nf16 arithmetic:\n${projectionTable(r, 'f16')}`);
  if (json !== undefined) {
    const methodsOut: Record<string, unknown> = {};
    for (const [m, x] of Object.entries(r.methods)) {
      methodsOut[m] = {
        peakBytes: x!.peakBytes, workingSetBytes: x!.workingSetBytes, predictedPeakBytes: x!.predictedPeakBytes,
        stepSeconds: x!.stepSeconds, tokensPerSecond: x!.tokensPerSecond, flopsPerStep: x!.flopsPerStep, achievedFlops: x!.achievedFlops,
        predictedWorkingSetBytes: x!.predictedWorkingSetBytes, losses: x!.losses,
        kernels: x!.kernels, projections: x!.projections, profile: x!.profile,
      };
    }
    writeFileAtomic(json, JSON.stringify({
      shape: r.shape, seqLen: r.seqLen, rank: r.rank, quant: r.quant, precision: req.precision, batch: r.batch, targets: r.targets, adapter: r.adapter,
      matmulPeakFlops: r.matmulPeakFlops, autotune: r.autotune, methods: methodsOut,
    }, null, 2) + '\n');
    console.log(`wrote ${json}`);
  }
  return 0;
}

/** `mesp bench --plan-only`: the plans and their projections, from the dry run alone. */
async function benchPlanOnly(req: BenchRequest, json: string | undefined): Promise<number> {
  console.log(`mesp bench --plan-only ${req.shape}: ${settingsLine(req)} (the dry run of each schedule: nothing runs on a GPU)`);
  const plans = await planBench(req);
  console.log(`\n${planTable(plans)}\n`);
  const withProjections = { methods: Object.fromEntries(Object.entries(plans).map(([m, p]) => [m, { projections: p!.projections }])) };
  console.log(`${projectionNote()}\nf32:\n${projectionTable(withProjections, 'f32')}\nf16 arithmetic:\n${projectionTable(withProjections, 'f16')}`);
  if (json !== undefined) {
    writeFileAtomic(json, JSON.stringify({
      shape: req.shape, seqLen: req.seqLen, rank: req.rank, quant: req.quant, precision: req.precision, batch: req.batch, targets: req.targets, planOnly: true,
      methods: Object.fromEntries(Object.entries(plans).map(([m, p]) => [m, {
        predictedPeakBytes: p!.plan.peakBytes, predictedWorkingSetBytes: p!.plan.peakWorkingSet, atPeak: p!.plan.atPeak, peakByCategory: p!.plan.peakByCategory,
        kernels: p!.plan.kernels, projections: p!.projections,
      }])),
    }, null, 2) + '\n');
    console.log(`wrote ${json}`);
  }
  return 0;
}

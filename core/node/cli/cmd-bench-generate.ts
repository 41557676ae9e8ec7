// `mesp bench --generate`: prefill and decode tokens/s and the KV-cache bytes of a generation on a Qwen2.5 shape
// (core/node/service/bench-generate.ts), as a Markdown table and, with --json FILE, a JSON file. Its flags are
// GenerateBenchRequestSchema's (core/api/generate.ts).
import { GenerateBenchRequestSchema } from '../../api/generate';
import { writeFileAtomic } from '../atomic';
import { runBenchGenerate, type GenerateBenchResult } from '../service/bench-generate';
import { command } from './flags';
import { mb, table } from './format';

export const BENCH_GENERATE = command({
  usage: ['mesp bench --generate --shape qwen2.5-0.5b|qwen2.5-1.5b|qwen2.5-3b|CONFIG.json [--prompt-len N] [--new-tokens N] [flags] [--json FILE]'],
  about: 'Generation instead: prefill and decode tokens/s, the KV-cache bytes and the peak by category (rank 0: no adapter).',
  shape: [GenerateBenchRequestSchema],
  schema: GenerateBenchRequestSchema,
});

export function generateBenchTable(r: GenerateBenchResult): string {
  const p = r.peakBytes;
  return table(
    ['shape', 'quant', 'LoRA', 'prompt', 'new tokens', 'prefill tokens/s', 'decode tokens/s', 'KV cache', 'peak total', 'planned peak',
      'weights', 'adapter', 'workspace', 'kvcache'],
    [[
      r.shape, r.quant, r.lora ? `r${r.lora.rank} ${r.lora.targets.join(',')}` : 'none', r.promptTokens, r.newTokens,
      r.prefillTokensPerSecond.toFixed(1), r.decodeTokensPerSecond.toFixed(2), mb(r.kvCacheBytes), mb(p.total), mb(r.predictedPeakBytes),
      mb(p.weights), mb(p.adapter), mb(p.workspace), mb(p.kvcache),
    ]],
  );
}

export async function cmdBenchGenerate(argv: string[]): Promise<number> {
  const { json, generate: _generate, ...req } = BENCH_GENERATE.parse(argv).values;
  console.log(`mesp bench --generate ${req.shape}: ${req.quant}, prompt ${req.promptTokens}, ${req.newTokens} new tokens (greedy), ` +
    `${req.rank > 0 ? `LoRA r${req.rank} on ${req.targets.join(',')} unmerged` : 'no adapter'}`);
  const r = await runBenchGenerate(req, (p) => {
    if (p.type === 'plan') console.log(`planned peak ${mb(p.peakBytes)}, KV cache ${mb(p.kvCacheBytes)}`);
    else if (p.type === 'loaded') console.log(`weights ready in ${p.seconds.toFixed(1)} s`);
    else console.log('shaders compiled (warm-up generation)');
  });
  console.log(`\n${generateBenchTable(r)}\n`);
  console.log(`on ${r.device}: prefill ${r.prefillSeconds.toFixed(2)} s, decode ${r.decodeSeconds.toFixed(2)} s`);
  if (json !== undefined) {
    writeFileAtomic(json, JSON.stringify({ generate: r }, null, 2) + '\n');
    console.log(`wrote ${json}`);
  }
  return 0;
}

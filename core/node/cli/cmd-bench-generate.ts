// `mesp bench --generate`: prefill and decode tokens/s and the KV-cache bytes of a generation on a Qwen2.5 shape
// (core/node/service/bench-generate.ts), as a Markdown table and, with --json FILE, a JSON file.
import { writeFileSync } from 'node:fs';
import { parseTargets } from '../../train/lora';
import { runBenchGenerate, type GenerateBenchResult } from '../service/bench-generate';
import { choiceFlag, intFlag, numFlag, required } from './args';
import { mb, table } from './format';

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

export async function cmdBenchGenerate(v: Record<string, string | boolean | undefined>): Promise<number> {
  const req = {
    shape: required(v, 'shape', 'bench'),
    quant: choiceFlag(v, 'quant', 'bench', ['none', 'int8', 'int4'] as const, 'int4'),
    promptTokens: intFlag(v, 'prompt-len', 'bench', 128),
    newTokens: intFlag(v, 'new-tokens', 'bench', 128),
    rank: intFlag(v, 'rank', 'bench', 8, 0),
    alpha: numFlag(v, 'alpha', 'bench', 16),
    targets: parseTargets((v.targets as string | undefined) ?? 'q,v'),
    seed: intFlag(v, 'seed', 'bench', 0, 0),
  };
  console.log(`mesp bench --generate ${req.shape}: ${req.quant}, prompt ${req.promptTokens}, ${req.newTokens} new tokens (greedy), ` +
    `${req.rank > 0 ? `LoRA r${req.rank} on ${req.targets.join(',')} unmerged` : 'no adapter'}`);
  const r = await runBenchGenerate(req, (p) => {
    if (p.type === 'plan') console.log(`planned peak ${mb(p.peakBytes)}, KV cache ${mb(p.kvCacheBytes)}`);
    else if (p.type === 'loaded') console.log(`weights ready in ${p.seconds.toFixed(1)} s`);
    else console.log('shaders compiled (warm-up generation)');
  });
  console.log(`\n${generateBenchTable(r)}\n`);
  console.log(`on ${r.device}: prefill ${r.prefillSeconds.toFixed(2)} s, decode ${r.decodeSeconds.toFixed(2)} s`);
  if (typeof v.json === 'string') {
    writeFileSync(v.json, JSON.stringify({ generate: r }, null, 2) + '\n');
    console.log(`wrote ${v.json}`);
  }
  return 0;
}

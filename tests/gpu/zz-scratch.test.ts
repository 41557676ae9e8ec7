import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeTinyModel } from '../helpers/tiny';
import { makeRunFolder, randomAdapter } from '../helpers/runfolder';
import { openModelFolder } from '../../core/node/modelfiles';
import { exportRun } from '../../core/node/export';
import { demoDatasetJsonl } from '../../core/model/demo';
import { it } from 'vitest';
it('scratch', async () => { for (const tied of [true]) {
const m = makeTinyModel({ tokenizer: true, tied });
const cfg = openModelFolder(m.dir).config;
const a = randomAdapter(cfg, { rank: 4, alpha: 8, targets: ['q', 'k', 'v', 'o', 'gate', 'up', 'down'], seed: 3, scale: 0.2 });
const run = makeRunFolder(m.dir, a, { seqLen: 48 });
writeFileSync(join(run.dir, 'data.jsonl'), demoDatasetJsonl('messages').split('\n').slice(0, 6).join('\n') + '\n');
for (const [gt, dt] of [['q4_0', 'f32']] as const) {
  const t0 = Date.now();
  const r = await exportRun({ runDir: run.dir, formats: ['gguf', 'gguf-base', 'gguf-merged', 'hf-merged'], outDir: join(run.dir, 'out-' + gt), ggufType: gt, dtype: dt }, (pr) => console.log(((Date.now() - t0) / 1000).toFixed(1), pr.message));
  const p = r.manifest.parity!;
  console.log(gt, dt, p.status, p.reason, p.data, (Date.now() - t0) / 1000, 's');
  for (const c of p.checks) console.log('  ', c.files.join('+'), c.maxRelDiff.toExponential(2), c.bound, c.pass, c.maxRelDiffVsF32.toExponential(2), c.rows.map((x) => x.tokens));
}
console.log(run.dir); } }, 900000);


// `mesp eval` and the app's model check: per-row next-token loss of a dataset under a device profile's limits and
// cap, with the ledger's peak memory by category.
import { EvalRequestSchema, type EvalRequest, type EvalResult } from '../../api/eval';
import { makeBatch } from '../../data/batching';
import { forwardNll, rowLosses } from '../../model/forward';
import { capBytesOf } from '../../profiles/schema';
import { loadDataset, loadTokenizer } from '../loaders';
import { loadAdapterFolder } from './adapters';
import { loadModel, loadProfile, openContext, openModelFolder, resolveInputs, type JobEnv } from './context';
import { uploadAdapter } from '../../train/lora';

export interface EvalProgress {
  done: number;
  total: number;
}

export async function runEval(input: EvalRequest, env: JobEnv = {}, onProgress?: (p: EvalProgress) => void): Promise<EvalResult> {
  const req = await resolveInputs(EvalRequestSchema.parse(input), env);
  const t0 = performance.now();
  const profile = loadProfile(req.profile);
  const folder = openModelFolder(req.modelDir);
  const tokenizer = loadTokenizer(folder.dir);
  const rows = await loadDataset(req.dataPath, tokenizer, { seqLen: req.seqLen, maxRows: req.maxRows, vocabSize: folder.config.vocab });
  const ctx = await openContext(profile, env);
  try {
    const model = loadModel(ctx, folder, req.quant);
    const adapter = req.adapterDir ? loadAdapterFolder(req.adapterDir, folder.config) : null;
    const lora = adapter ? uploadAdapter(ctx, folder.config, adapter, req.precision) : null;
    const out: EvalResult['rows'] = [];
    let nllTotal = 0;
    let tokTotal = 0;
    for (const [i, ex] of rows.entries()) {
      const batch = makeBatch([ex]);
      const nll = await forwardNll(ctx, model, lora, batch, req.precision);
      const [r] = rowLosses(nll, batch);
      out.push({ line: ex.line, loss: r.loss, tokens: r.tokens });
      if (r.tokens > 0) {
        nllTotal += r.loss * r.tokens;
        tokTotal += r.tokens;
      }
      onProgress?.({ done: i + 1, total: rows.length });
    }
    const scored = out.filter((r) => r.tokens > 0);
    const snap = ctx.ledger.snapshot();
    return {
      rows: out,
      meanLoss: scored.reduce((s, r) => s + r.loss, 0) / Math.max(1, scored.length),
      perplexity: Math.exp(nllTotal / Math.max(1, tokTotal)),
      peakBytes: { total: snap.peakTotal, ...snap.peakByCategory },
      workingSetBytes: snap.peakWorkingSet,
      capBytes: env.capBytes ?? capBytesOf(profile),
      profile: profile.id,
      adapter: ctx.adapter.description || ctx.adapter.device || ctx.adapter.vendor,
      seconds: (performance.now() - t0) / 1000,
    };
  } finally {
    ctx.destroy();
  }
}

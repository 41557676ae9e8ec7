// The app's "Model and data" and "will it fit?" answers: a model folder's shape and sizes, a dataset's rows, tokens
// and a tokenized, masked preview, and each method's predicted peak memory by category from the engine's own plan
// (core/train/plan.ts: a dry run of the real schedule, so the prediction is what the run will allocate).
import type { DatasetInfo, FitMethod, FitResult, ModelInfo } from '../../api/contract';
import type { FIT_SPEC_KEYS } from '../../api/contract/plan';
import { PRECISIONS, zeroByCategory, type MethodName } from '../../api/names';
import type { TrainSpec } from '../../api/train';
import { errorMessage } from '../../common/errors';
import { IGNORE_INDEX } from '../../data/dataset';
import { GpuContext } from '../../gpu/context';
import { loadModelWeights, type Quant } from '../../model/weights';
import { parameterCount } from '../../model/names';
import { qwen25Config, type Qwen25Id } from '../../model/shapes';
import { capBytesOf } from '../../profiles/schema';
import { planTrainStep, projectPlan } from '../../train/plan';
import { loadDataset, loadTokenizer } from '../loaders';
import { openModelFolder } from '../modelfiles';
import { loadProfile } from '../profiles';

/** GPU bytes of the frozen weights under a quantization, from the engine's own allocation on a dry context. */
function weightsBytes(cfg: ReturnType<typeof openModelFolder>['config'], quant: Quant): number | null {
  try {
    const ctx = GpuContext.dry();
    loadModelWeights(ctx, cfg, quant, null);
    return ctx.ledger.snapshot().live.weights;
  } catch {
    return null; // this model's shapes cannot be quantized this way
  }
}

export function inspectModel(dir: string): ModelInfo {
  const f = openModelFolder(dir);
  const c = f.config;
  const raw = c.raw as { architectures?: unknown };
  let hasChatTemplate = false;
  if (f.tokenizerJsonPath) {
    try {
      hasChatTemplate = loadTokenizer(f.dir)?.chatTemplate != null;
    } catch {
      hasChatTemplate = false;
    }
  }
  return {
    dir: f.dir,
    name: f.name,
    architecture: Array.isArray(raw.architectures) && typeof raw.architectures[0] === 'string' ? raw.architectures[0] : 'Qwen2ForCausalLM',
    parameters: parameterCount(c),
    layers: c.layers,
    hidden: c.hidden,
    intermediate: c.intermediate,
    heads: c.heads,
    kvHeads: c.kvHeads,
    vocab: c.vocab,
    tiedEmbeddings: c.tied,
    dtypes: [...new Set(f.tensorNames.map((n) => f.dtypeOf(n)))].sort(),
    fileBytes: f.totalBytes,
    shards: f.shardFiles.length,
    weightsBytes: { none: weightsBytes(c, 'none'), int8: weightsBytes(c, 'int8'), int4: weightsBytes(c, 'int4') },
    hasTokenizer: !!f.tokenizerJsonPath,
    hasChatTemplate,
  };
}

const PREVIEW_TOKENS = 256;

export function inspectDataset(dataPath: string, modelDir: string, seqLen: number, previewIndex: number): DatasetInfo {
  const folder = openModelFolder(modelDir);
  const tok = loadTokenizer(folder.dir);
  const rows = loadDataset(dataPath, tok, { seqLen, vocabSize: folder.config.vocab });
  const formats: Record<string, number> = {};
  let tokens = 0;
  let trained = 0;
  let truncated = 0;
  let longest = 0;
  for (const r of rows) {
    formats[r.format] = (formats[r.format] ?? 0) + 1;
    tokens += r.inputIds.length;
    trained += r.labels.filter((l) => l !== IGNORE_INDEX).length;
    if (r.truncated) truncated++;
    longest = Math.max(longest, r.inputIds.length);
  }
  const index = Math.min(Math.max(0, previewIndex), rows.length - 1);
  const row = rows[index];
  const text = (id: number): string => {
    if (!tok) return `#${id}`;
    try {
      return tok.decode([id]);
    } catch {
      return tok.idToToken(id) ?? `#${id}`;
    }
  };
  return {
    path: dataPath,
    rows: rows.length,
    tokens,
    trainedTokens: trained,
    truncatedRows: truncated,
    maxRowTokens: longest,
    meanRowTokens: rows.length ? tokens / rows.length : 0,
    formats,
    seqLen,
    preview: row
      ? {
          index,
          line: row.line,
          format: row.format,
          tokens: row.inputIds.slice(0, PREVIEW_TOKENS).map((id, t) => ({ id, text: text(id), trained: row.labels[t] !== IGNORE_INDEX })),
        }
      : null,
  };
}

/** plan.fit's params (core/api/contract/plan.ts: the spec's FIT_SPEC_KEYS), with the paths resolved and the profile's file. */
export type FitInput = Pick<TrainSpec, (typeof FIT_SPEC_KEYS)[number]> & {
  /** A model folder, or `shape` (a real Qwen2.5 shape, planned without weights). */
  modelDir?: string;
  shape?: Qwen25Id;
  dataPath?: string;
  /** A built-in id or a profile file path. */
  profile: string;
  methods: MethodName[];
};

/** Each method's predicted peak of a training step, by category, against the profile's cap. */
export async function planFit(p: FitInput): Promise<FitResult> {
  const profile = loadProfile(p.profile);
  const folder = p.modelDir ? openModelFolder(p.modelDir) : null;
  const cfg = folder ? folder.config : qwen25Config(p.shape ?? 'qwen2.5-0.5b');
  const capBytes = p.capBytes ?? capBytesOf(profile);
  let seqLen = p.seqLen;
  let batch = p.batch;
  if (p.dataPath && folder) {
    // As the run does: the longest row (at most seqLen), and no more rows a batch than the data has.
    const rows = loadDataset(p.dataPath, loadTokenizer(folder.dir), { seqLen: p.seqLen, vocabSize: folder.config.vocab });
    seqLen = rows.reduce((m, r) => Math.max(m, r.inputIds.length), 1);
    batch = Math.max(1, Math.min(batch, rows.length));
  }
  const methods: FitMethod[] = [];
  for (const method of p.methods) {
    try {
      const r = await planTrainStep({
        cfg, quant: p.quant, limits: { ...profile.webgpu }, seqLen, batch, method, rank: p.rank, alpha: p.alpha, targets: p.targets,
        optimizer: { kind: p.optimizer }, storeH: p.storeH, chunkedHead: p.chunkedHead, headChunk: p.headChunk, precision: p.precision,
      });
      methods.push({
        method, peakBytes: r.peakBytes, atPeak: { ...r.atPeak }, peakByCategory: { ...r.peakByCategory },
        workingSetBytes: r.peakWorkingSet, fits: r.peakBytes <= capBytes, error: null,
        projections: PRECISIONS.map((precision) => projectPlan(r, profile, precision)),
      });
    } catch (e) {
      const zero = zeroByCategory();
      methods.push({ method, peakBytes: 0, atPeak: zero, peakByCategory: zero, workingSetBytes: 0, fits: false, error: errorMessage(e), projections: [] });
    }
  }
  return { model: folder ? folder.name : p.shape ?? 'qwen2.5-0.5b', capBytes, profileId: profile.id, seqLen, methods };
}

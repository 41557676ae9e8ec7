// The app's "Model and data" and "will it fit?" answers: a model folder's shape and sizes, a dataset's rows, tokens
// and a tokenized, masked preview, and each method's predicted peak memory by category from the engine's own plan
// (core/train/plan.ts: a dry run of the real schedule, so the prediction is what the run will allocate).
import { statSync } from 'node:fs';
import type { DatasetInfo, DatasetRows, FitMethod, FitResult, ModelInfo } from '../../api/contract';
import { tensorPlace, type FIT_SPEC_KEYS, type PeakPlace, type PlanPoint } from '../../api/contract/plan';
import { PRECISIONS, totalOf, zeroByCategory, type MethodName } from '../../api/names';
import type { TrainSpec } from '../../api/train';
import { ConfigError, errorMessage } from '../../common/errors';
import { peakIndex, thinKeepingPeaks } from '../../common/series';
import type { TimelineEvent } from '../../gpu/ledger';
import { IGNORE_INDEX } from '../../data/dataset';
import { GpuContext } from '../../gpu/context';
import { loadModelWeights, type Quant } from '../../model/weights';
import { parameterCount } from '../../model/names';
import { qwen25Config, type Qwen25Id } from '../../model/shapes';
import { capBytesOf, capOverrideIssue } from '../../profiles/schema';
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

export async function inspectDataset(dataPath: string, modelDir: string, seqLen: number, previewIndex: number): Promise<DatasetInfo> {
  const folder = openModelFolder(modelDir);
  const tok = loadTokenizer(folder.dir);
  const rows = await loadDataset(dataPath, tok, { seqLen, vocabSize: folder.config.vocab });
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

/** The last dataset read whole (untruncated) for dataset.rows: paging through it reads the file once. */
let rowsCache: { key: string; rows: Awaited<ReturnType<typeof loadDataset>>; decode: (ids: number[]) => string } | null = null;

async function wholeRows(dataPath: string, modelDir: string): Promise<NonNullable<typeof rowsCache>> {
  const st = statSync(dataPath);
  const key = `${dataPath}\0${st.size}\0${st.mtimeMs}\0${modelDir}`;
  if (rowsCache?.key === key) return rowsCache;
  const folder = openModelFolder(modelDir);
  const tok = loadTokenizer(folder.dir);
  const rows = await loadDataset(dataPath, tok, { vocabSize: folder.config.vocab });
  const decode = (ids: number[]): string => {
    if (!tok) return ids.map((id) => `#${id}`).join(' ');
    try {
      return tok.decode(ids);
    } catch {
      return ids.map((id) => tok.idToToken(id) ?? `#${id}`).join('');
    }
  };
  rowsCache = { key, rows, decode };
  return rowsCache;
}

/** A bin width of 1, 2 or 5 × 10ⁿ giving at most `bins` bins up to `max`. */
function niceWidth(max: number, bins: number): number {
  const raw = Math.max(1, max / bins);
  const p = 10 ** Math.floor(Math.log10(raw));
  for (const m of [1, 2, 5, 10]) if (m * p >= raw) return m * p;
  return 10 * p;
}

const ROW_TEXT_TOKENS = 48;

/** One page of the dataset's rows (whole, before the cut at seqLen), how many seqLen cuts, and a histogram of row lengths. */
export async function datasetRows(dataPath: string, modelDir: string, seqLen: number, offset: number, limit: number): Promise<DatasetRows> {
  const { rows, decode } = await wholeRows(dataPath, modelDir);
  const lengths = rows.map((r) => r.inputIds.length);
  const longest = lengths.reduce((m, n) => Math.max(m, n), 0);
  const top = Math.max(longest, seqLen);
  const width = niceWidth(top, 24);
  // Bin edges on multiples of the width, with seqLen as an edge too, so every bin is either kept whole or cut.
  const edges = new Set<number>([0, seqLen]);
  for (let e = width; e < top; e += width) edges.add(e);
  edges.add(Math.ceil(top / width) * width);
  const sorted = [...edges].filter((e) => e <= Math.ceil(top / width) * width).sort((a, b) => a - b);
  const histogram = sorted.slice(1).map((to, i) => ({ from: sorted[i], to, rows: 0 }));
  for (const n of lengths) {
    const bin = histogram.find((b) => n > b.from && n <= b.to);
    if (bin) bin.rows++;
  }
  const page = rows.slice(offset, offset + limit).map((r, k) => ({
    index: offset + k, line: r.line, format: r.format, tokens: r.inputIds.length, trainedTokens: r.labels.filter((l) => l !== IGNORE_INDEX).length,
    cut: r.inputIds.length > seqLen, text: decode(r.inputIds.slice(0, ROW_TEXT_TOKENS)).slice(0, 240),
  }));
  return { path: dataPath, total: rows.length, offset, seqLen, rows: page, cutRows: lengths.filter((n) => n > seqLen).length, longest, histogram };
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
  /** Send each method's step timeline too. */
  timeline?: boolean;
};

/** Points a planned step's timeline is thinned to (its peak kept). */
const PLAN_TIMELINE_POINTS = 600;

/** Where the planned step peaks: the allocation that took the live total to its highest (the first, if it recurs). */
function peakPlace(events: readonly TimelineEvent[]): PeakPlace | null {
  const i = peakIndex(events, (e) => totalOf(e.live));
  if (i < 0) return null;
  const e = events[i];
  return { category: e.category ?? 'mark', name: e.name, ...tensorPlace(e.name) };
}

/** The step's events as chart points: x counts the events since the step began (a dry run has no clock). */
function planPoints(events: readonly TimelineEvent[]): PlanPoint[] {
  const indexed = events.map((e, x) => ({ x, live: e.live }));
  return thinKeepingPeaks(indexed, PLAN_TIMELINE_POINTS, (p) => totalOf(p.live)).map((p) => ({ x: p.x, live: { ...p.live } }));
}

/** Each method's predicted peak of a training step, by category, against the profile's cap. */
export async function planFit(p: FitInput): Promise<FitResult> {
  const profile = loadProfile(p.profile);
  const folder = p.modelDir ? openModelFolder(p.modelDir) : null;
  const cfg = folder ? folder.config : qwen25Config(p.shape ?? 'qwen2.5-0.5b');
  const capBytes = p.capBytes ?? capBytesOf(profile);
  const capIssue = capOverrideIssue(capBytes, profile);
  if (capIssue) throw new ConfigError(capIssue, { field: 'capBytes' });
  let seqLen = p.seqLen;
  let batch = p.batch;
  if (p.dataPath && folder) {
    // As the run does: the longest row (at most seqLen), and no more rows a batch than the data has.
    const rows = await loadDataset(p.dataPath, loadTokenizer(folder.dir), { seqLen: p.seqLen, vocabSize: folder.config.vocab });
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
        peakAt: peakPlace(r.timeline), timeline: p.timeline ? planPoints(r.timeline) : [], events: r.timeline.length,
        projections: PRECISIONS.map((precision) => projectPlan(r, profile, precision)),
      });
    } catch (e) {
      const zero = zeroByCategory();
      methods.push({ method, peakBytes: 0, atPeak: zero, peakByCategory: zero, workingSetBytes: 0, fits: false, error: errorMessage(e), peakAt: null, timeline: [], events: 0, projections: [] });
    }
  }
  return { model: folder ? folder.name : p.shape ?? 'qwen2.5-0.5b', capBytes, profileId: profile.id, seqLen, methods };
}

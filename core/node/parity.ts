// The parity check of an export (`mesp export`, recorded in manifest.json): a few rows of the run's data (validation
// rows first) evaluated in llama.cpp (core/node/llama.ts) with the bundle's GGUF files as written — the base GGUF with
// the GGUF LoRA, the merged GGUF, or the base alone — and in our engine twice: on the very weights each file holds
// (read back from the file and dequantized; the bound of PARITY_BOUNDS applies to this difference, which is llama.cpp's
// own arithmetic) and on the f32 model the file was made from (the trained base + adapter; informational: what
// storing it as q4_0 etc. changes). The engine runs on the GPU in f32 under the profile's WebGPU limits but without
// its memory cap (this is a host-side check of files, not a phone run). Skipped, with the reason, when node-llama-cpp
// or a WebGPU adapter is missing, when the bundle has no GGUF model, or when asked for no rows.
import { closeSync, existsSync, fstatSync, openSync, readFileSync, readSync } from 'node:fs';
import { basename } from 'node:path';
import { PARITY_BOUNDS, type ExportDType, type GgufType, type Parity, type ParityCheck, type ParityRow } from '../api/export';
import type { RunConfig } from '../api/train';
import { errorMessage, FormatError, GpuUnavailableError } from '../common/errors';
import { makeBatch, splitValidation } from '../data/batching';
import type { Example } from '../data/dataset';
import { readGgufLora, parseGguf, ggufTensorF32, type GgufFile } from '../export/gguf';
import { ggufTensorReader } from '../export/gguf-model';
import type { TensorReader } from '../export/merge';
import type { Qwen2Config } from '../model/config';
import { forwardNll, rowLosses, type TokenBatch } from '../model/forward';
import { freeModelWeights, loadModelWeights } from '../model/weights';
import type { DeviceProfile } from '../profiles/schema';
import { freeAdapter, uploadAdapter, type HostAdapter } from '../train/lora';
import { llamaRowLosses, openLlama, type LlamaModelFiles } from './llama';
import { loadDataset, loadTokenizer } from './loaders';
import type { ModelFolder } from './modelfiles';
import { openContext } from './service/context';

/** A GGUF file of the bundle: its path in the bundle (for the record) and where its bytes are now. */
export interface StagedGguf {
  relPath: string;
  path: string;
}

export interface ParityInput {
  config: RunConfig;
  folder: ModelFolder;
  /** The trained adapter (f32, as the run saved it). */
  adapter: HostAdapter;
  profile: DeviceProfile;
  rows: number;
  ggufType: GgufType;
  adapterDType: ExportDType;
  files: { adapter?: StagedGguf; base?: StagedGguf; merged?: StagedGguf };
  onProgress?: (message: string) => void;
}

const skipped = (reason: string, data: Parity['data'] = null): Parity => ({ status: 'skipped', reason, data, checks: [] });

/** A GGUF file's header, reading only as much of the file as the header needs. */
function readGgufHeader(path: string, file: string): GgufFile {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    for (let n = Math.min(size, 16 << 20); ; n = Math.min(size, n * 4)) {
      const buf = new Uint8Array(n);
      readSync(fd, buf, 0, n, 0);
      try {
        return parseGguf(buf, file, size);
      } catch (e) {
        if (n >= size || !(e instanceof FormatError)) throw e;
      }
    }
  } finally {
    closeSync(fd);
  }
}

/** HF name → f32 values as the GGUF file at `path` stores them (dequantized), one tensor read at a time. */
export function ggufFileReader(path: string, cfg: Qwen2Config, file = basename(path)): TensorReader {
  const gguf = readGgufHeader(path, file);
  return ggufTensorReader(gguf, cfg, file, (t) => {
    const raw = new Uint8Array(t.byteLength);
    const fd = openSync(path, 'r');
    try {
      readSync(fd, raw, 0, t.byteLength, t.fileOffset);
    } finally {
      closeSync(fd);
    }
    return ggufTensorF32(raw, { ...t, fileOffset: 0 });
  });
}

/** The run's rows for the check: validation rows when the run held some out, else its first training rows. */
function parityRows(config: RunConfig, folder: ModelFolder, n: number): { rows: Example[]; data: NonNullable<Parity['data']> } | string {
  const req = config.request;
  for (const f of [req.dataPath, req.valPath].filter((x): x is string => !!x)) {
    if (!existsSync(f)) return `the run's data file ${f} is gone`;
  }
  const tokenizer = loadTokenizer(folder.dir);
  const opts = { seqLen: req.seqLen, vocabSize: folder.config.vocab };
  const all = loadDataset(req.dataPath, tokenizer, opts);
  const validation = req.valPath ? loadDataset(req.valPath, tokenizer, opts) : undefined;
  const split = splitValidation(all, { fraction: req.valFraction, seed: req.seed, validation });
  const useVal = split.validation.length > 0;
  const scored = (useVal ? split.validation : split.train).filter((r) => r.labels.slice(1).some((y) => y !== -100));
  if (!scored.length) return 'the run\'s data has no row with a trained token';
  const rows = scored.slice(0, n);
  const file = basename(useVal && req.valPath ? req.valPath : req.dataPath);
  return { rows, data: { file, split: useVal ? 'validation' : 'train', rows: rows.length } };
}

interface Check {
  files: StagedGguf[];
  llama: LlamaModelFiles;
  adapterDType: ExportDType | null;
  /** The weights the file holds, for the engine. */
  read: TensorReader;
  adapter: HostAdapter | null;
  /** The f32 model the file was made from: with the trained adapter, or the base alone. */
  f32: 'trained' | 'base';
  /** The file's weights are exactly the f32 reference's (an f32 base with an f32 adapter): no second engine run. */
  sameAsF32: boolean;
}

/** Per-row mean losses of our engine with these weights and adapter (f32, LoRA unmerged). */
async function engineLosses(ctx: Awaited<ReturnType<typeof openContext>>, cfg: Qwen2Config, read: TensorReader, adapter: HostAdapter | null, batches: TokenBatch[]): Promise<number[]> {
  const model = loadModelWeights(ctx, cfg, 'none', read);
  const lora = adapter ? uploadAdapter(ctx, cfg, adapter) : null;
  try {
    const out: number[] = [];
    for (const b of batches) out.push(rowLosses(await forwardNll(ctx, model, lora, b), b)[0].loss);
    return out;
  } finally {
    if (lora) freeAdapter(ctx, lora);
    freeModelWeights(ctx, model);
  }
}

const rel = (a: number, b: number): number => Math.abs(a - b) / Math.abs(b);

/** Measure the parity of the bundle's GGUF files in llama.cpp against our engine (see the top of this file). */
export async function measureParity(p: ParityInput): Promise<Parity> {
  const say = p.onProgress ?? (() => {});
  if (p.rows === 0) return skipped('not asked for (--parity-rows 0)');
  const { base, merged, adapter: adapterFile } = p.files;
  if (!base && !merged) return skipped('the bundle has no GGUF model (export --format gguf-base or gguf-merged to check one in llama.cpp)');
  const rt = await openLlama();
  if ('unavailable' in rt) return skipped(rt.unavailable);
  const picked = parityRows(p.config, p.folder, p.rows);
  if (typeof picked === 'string') return skipped(picked);
  const cfg = p.folder.config;
  const batches = picked.rows.map((r) => makeBatch([r]));

  const checks: Check[] = [];
  if (base) {
    const read = ggufFileReader(base.path, cfg, base.relPath);
    if (adapterFile) {
      const stored = readGgufLora(new Uint8Array(readFileSync(adapterFile.path)), adapterFile.relPath);
      checks.push({
        files: [base, adapterFile], llama: { model: base.path, lora: { path: adapterFile.path } }, adapterDType: p.adapterDType, read, adapter: stored,
        f32: 'trained', sameAsF32: p.ggufType === 'f32' && p.adapterDType === 'f32',
      });
    } else {
      checks.push({ files: [base], llama: { model: base.path }, adapterDType: null, read, adapter: null, f32: 'base', sameAsF32: p.ggufType === 'f32' });
    }
  }
  if (merged) {
    checks.push({
      files: [merged], llama: { model: merged.path }, adapterDType: null, read: ggufFileReader(merged.path, cfg, merged.relPath), adapter: null,
      f32: 'trained', sameAsF32: false,
    });
  }

  say(`parity: our engine on ${batches.length} rows`);
  let ctx: Awaited<ReturnType<typeof openContext>>;
  try {
    // The profile's WebGPU limits, not its cap: an f32 reference of the model, on this machine.
    ctx = await openContext(p.profile, { capBytes: Number.MAX_SAFE_INTEGER });
  } catch (e) {
    if (e instanceof GpuUnavailableError) return skipped(`no WebGPU adapter for our engine's reference (${e.message})`, picked.data);
    throw e;
  }
  const engine: number[][] = [];
  const ref: Partial<Record<Check['f32'], number[]>> = {};
  try {
    const original = (name: string): Float32Array => p.folder.read(name);
    for (const c of checks) ref[c.f32] ??= await engineLosses(ctx, cfg, original, c.f32 === 'trained' ? p.adapter : null, batches);
    for (const c of checks) engine.push(c.sameAsF32 ? ref[c.f32]! : await engineLosses(ctx, cfg, c.read, c.adapter, batches));
  } finally {
    ctx.destroy();
  }

  const out: ParityCheck[] = [];
  for (const [i, c] of checks.entries()) {
    say(`parity: llama.cpp with ${c.files.map((f) => f.relPath).join(' + ')}`);
    let runtime: { loss: number }[];
    try {
      runtime = await llamaRowLosses(rt, c.llama, batches.map((b) => ({ ids: Array.from(b.inputIds), targets: Array.from(b.targets) })));
    } catch (e) {
      throw new FormatError(c.files[0].relPath, `llama.cpp could not run the exported file: ${errorMessage(e)}`);
    }
    const rows: ParityRow[] = picked.rows.map((r, k) => ({
      line: r.line, tokens: batches[k].tokensWithLoss, runtime: runtime[k].loss, engine: engine[i][k], f32: ref[c.f32]![k],
    }));
    const maxRelDiff = Math.max(...rows.map((r) => rel(r.runtime, r.engine)));
    const bound = Math.max(PARITY_BOUNDS[p.ggufType], c.adapterDType ? PARITY_BOUNDS[c.adapterDType] : 0);
    out.push({
      runtime: 'llama.cpp', runtimeVersion: rt.version, files: c.files.map((f) => f.relPath), modelType: p.ggufType, adapterDType: c.adapterDType,
      rows, maxRelDiff, bound, pass: maxRelDiff <= bound, maxRelDiffVsF32: Math.max(...rows.map((r) => rel(r.runtime, r.f32))),
    });
  }
  return { status: 'measured', reason: null, data: picked.data, checks: out };
}

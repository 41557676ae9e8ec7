// Exporting a run's adapter (`mesp export`, the app's Export view); importing adapters back (`mesp import-adapter`)
// is core/node/import-adapter.ts, re-exported here with the request parsing (core/node/export-request.ts).
// exportRun reads a run folder (config.json + adapter/, core/node/runstore.ts), checks the adapter fits the base
// model it was trained on (checkAdapterFits) and that the base is unchanged (the run's fingerprint), writes the
// chosen formats with core/export's writers (PEFT, GGUF LoRA, the base and the merged model as GGUF with an Ollama
// Modelfile, MLX, merged ONNX, merged Hugging Face safetensors), measures the GGUF files' parity in llama.cpp
// (core/node/parity.ts), then writes each folder's README, the bundle README and manifest.json (SHA-256 of the base
// safetensors and of the tokenizer, LoRA settings, the target profile and its predicted inference memory from
// planForward, the parity). Merged formats always start from the base checkpoint's own weights, whatever the run's
// --quant. Large files are streamed tensor by tensor. Everything goes through AtomicWriter: all files or none, never
// replacing an existing file without `overwrite`. previewExport gives each format's size before writing.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { createHash } from 'node:crypto';
import {
  EXPORT_FORMATS, ExportRequestSchema, PreviewRequestSchema, type BundleManifest, type ExportDType, type ExportedFile,
  type ExportFormat, type ExportPreview, type ExportRequest, type ExportResult, type FileDType, type GgufType, type Parity, type PreviewRequest,
} from '../api/export';
import { APP_VERSION } from '../api/names';
import type { RunConfig } from '../api/train';
import { ConfigError } from '../common/errors';
import { writeSafetensorsStream } from '../common/safetensors';
import { adapterLayerIndices } from '../export/adapter';
import { BUNDLE_FILES, FORMAT_FOLDER, buildManifest, bundleReadme, formatDType, formatReadme, readmeOf, type ReadmeContext } from '../export/bundle';
import { writeGgufLora } from '../export/gguf';
import { ggufModelPlan, writeGgufModel, type GgufModelPlan } from '../export/gguf-model';
import { ggufTokenizer, type GgufTokenizer } from '../export/gguf-tokenizer';
import { HF_COPIED_FILES, HF_INDEX_FILE, HF_SHARD_METADATA, hfIndexJson, hfShardTensors, planHfShards, type HfShard, type HfTensor } from '../export/hf-merged';
import { mergedReader } from '../export/merge';
import { buildModelfile, isChatMl } from '../export/modelfile';
import { writeMlx } from '../export/mlx';
import { buildMergedOnnx, ONNX_EMBED_LIMIT, onnxWeightBytes } from '../export/onnx';
import { peftModule, publishableBaseName, readPeft, writePeft } from '../export/peft';
import { expectedTensors } from '../model/names';
import { capBytesOf } from '../profiles/schema';
import { planForward } from '../train/plan';
import { checkAdapterFits, loraParamCount, type HostAdapter } from '../train/lora';
import { AtomicWriter, writeAllOrNothing } from './atomic';
import { parseExportRequest } from './export-request';
import { resolveInputs } from './hub/resolve';
import { CONFIG_FILE, openModelFolder, type ModelFolder } from './modelfiles';
import { measureParity, type StagedGguf } from './parity';
import { loadProfile } from './profiles';
import { RunStore } from './runstore';

export { parseFormats } from './export-request';
export { detectImportFormat, importAdapter, readAdapterAny } from './import-adapter';

export const PRODUCER = `MeSP Studio ${APP_VERSION}`;

/** Where a run's exports go by default: RUN_DIR/exports (DESIGN.md §7). */
export function defaultExportDir(runDir: string): string {
  return join(resolve(runDir), 'exports');
}

interface OpenedRun {
  runDir: string;
  config: RunConfig;
  adapterDir: string;
  adapter: HostAdapter;
  folder: ModelFolder;
  baseModel: string;
}

/**
 * The run's config, its adapter (fitted to the base) and the base model folder; every problem a typed error. A base
 * other than the run's (its fingerprint: config.json and the safetensors headers) is refused unless `otherBase`
 * (`--force`): an adapter trained on one checkpoint is wrong on another of the same shape.
 */
function openRun(runDirIn: string, modelDir?: string, otherBase = false): OpenedRun {
  const runDir = resolve(runDirIn);
  if (!existsSync(runDir) || !statSync(runDir).isDirectory()) {
    throw new ConfigError(`this run folder does not exist. Give the --out folder of a \`mesp train\` run.`, { file: runDir, field: 'run' });
  }
  const store = new RunStore(runDir);
  const config = store.readConfig();
  const adapterDir = store.adapterDir;
  const cfgFile = join(adapterDir, 'adapter_config.json');
  const wFile = join(adapterDir, 'adapter_model.safetensors');
  for (const f of [cfgFile, wFile]) {
    if (!existsSync(f)) {
      throw new ConfigError(
        `this run has no adapter to export (adapter/${basename(f)} is missing): it has not written a checkpoint yet. Let it train to a checkpoint (--checkpoint-every) or to the end, then export.`,
        { file: runDir, field: 'run' },
      );
    }
  }
  const adapter = readPeft(readFileSync(cfgFile, 'utf8'), new Uint8Array(readFileSync(wFile)), { config: cfgFile, weights: wFile });
  const folder = openModelFolder(modelDir ?? config.request.modelDir);
  checkAdapterFits(folder.config, adapter, adapterDir);
  const fp = folder.fingerprint();
  if (fp !== config.model.fingerprint && !otherBase) {
    throw new ConfigError(
      `is not the base model this run was trained on (fingerprint ${fp.slice(0, 12)}…, the run recorded ${config.model.fingerprint.slice(0, 12)}…): ` +
        'its config or weights changed. Point --model at the original base model folder, or add --force to export for this base anyway.',
      { file: folder.dir, field: 'model' },
    );
  }
  const baseModel = config.model.name || adapter.baseModel || publishableBaseName(folder.name);
  return { runDir, config, adapterDir, adapter, folder, baseModel };
}

function sha256Text(s: string): string {
  return createHash('sha256').update(s).digest('hex');
}

/** The base's safetensors files with their SHA-256, and one hash over them (the manifest's weightsSha256). */
function weightsOf(folder: ModelFolder): { file: string; bytes: number; sha256: string }[] {
  return folder.shardFiles.map((f) => ({ file: basename(f), bytes: statSync(f).size, sha256: folder.sha256Of(f) }));
}
const weightsHash = (w: { file: string; sha256: string }[]): string => sha256Text(w.map((x) => `${x.sha256}  ${x.file}\n`).join(''));

/**
 * `--model` names another folder than the run's base: where the run's base is still there, their weights' hashes must
 * agree (the same config and shapes with other weights pass the fingerprint), unless `--force`.
 */
function checkSameBase(run: OpenedRun, req: { modelDir?: string; overwrite: boolean }, weights: { file: string; sha256: string }[]): void {
  if (!req.modelDir || req.overwrite || resolve(req.modelDir) === resolve(run.config.model.dir)) return;
  if (!existsSync(join(run.config.model.dir, 'config.json'))) return; // the base moved: its fingerprint was checked
  const original = weightsHash(weightsOf(openModelFolder(run.config.model.dir)));
  const given = weightsHash(weights);
  if (original !== given) {
    throw new ConfigError(
      `is not the base model this run was trained on: its weights' SHA-256 ${given.slice(0, 12)}… differ from the run's base ` +
        `${run.config.model.dir} (${original.slice(0, 12)}…). Point --model at the run's base, or add --force to export for this base anyway.`,
      { file: resolve(req.modelDir), field: 'model' },
    );
  }
}

/** Whether the formats include a GGUF model (which needs the tokenizer and gets a Modelfile). */
function hasGgufModel(formats: readonly ExportFormat[]): boolean {
  return formats.includes('gguf-base') || formats.includes('gguf-merged');
}

/** The GGUF models' tokenizer from the base folder (llama.cpp needs a vocabulary even when fed token ids). */
function ggufTokenizerOf(folder: ModelFolder): GgufTokenizer {
  if (!folder.tokenizerJsonPath) {
    throw new ConfigError(
      `has no tokenizer.json, and a GGUF model needs its tokenizer (llama.cpp loads the vocabulary from the file). Put the base model's tokenizer.json and tokenizer_config.json in the folder, or export only the adapter formats.`,
      { file: folder.dir, field: 'format' },
    );
  }
  const jinja = join(folder.dir, 'chat_template.jinja');
  return ggufTokenizer({
    tokenizerJson: readFileSync(folder.tokenizerJsonPath, 'utf8'),
    tokenizerConfigJson: folder.tokenizerConfigPath ? readFileSync(folder.tokenizerConfigPath, 'utf8') : null,
    modelConfig: folder.config.raw as Record<string, unknown>,
    chatTemplateJinja: existsSync(jinja) ? readFileSync(jinja, 'utf8') : null,
    files: { tokenizer: folder.tokenizerJsonPath, config: folder.tokenizerConfigPath },
  }, folder.config.vocab);
}

/**
 * A model folder (no run) as a GGUF model file, written atomically: what `gguf-base` writes for a run's base. For
 * tests and tools that need a GGUF of a folder; returns the file's size.
 */
export function writeModelGguf(modelDir: string, outFile: string, type: GgufType, opts: { overwrite?: boolean } = {}): number {
  const folder = openModelFolder(modelDir);
  const name = publishableBaseName(basename(folder.dir));
  const plan = ggufModelPlan(folder.config, (n) => folder.read(n), null, { type, baseModel: name, name, merged: null }, ggufTokenizerOf(folder));
  const out = resolve(outFile);
  const { files } = writeAllOrNothing(dirname(out), { overwrite: opts.overwrite ?? false, what: 'the GGUF model', expected: [basename(out)] }, (w) => {
    w.stage(basename(out), (sink) => void writeGgufModel(plan, sink));
  });
  return files[0].bytes;
}

/** The GGUF model file of a format: the base alone (gguf-base) or with the adapter merged (gguf-merged). */
function ggufPlan(run: OpenedRun, format: 'gguf-base' | 'gguf-merged', type: GgufType, tokenizer: GgufTokenizer): GgufModelPlan {
  const merged = format === 'gguf-merged';
  const short = run.baseModel.split('/').pop() ?? run.baseModel;
  return ggufModelPlan(run.folder.config, (n) => run.folder.read(n), merged ? run.adapter : null, {
    type, baseModel: run.baseModel, name: merged ? `${short} + LoRA (merged)` : short,
    merged: merged ? { rank: run.adapter.rank, alpha: run.adapter.alpha } : null,
  }, tokenizer);
}

/** The base checkpoint's float dtype (that of its embedding), which the merged safetensors keep. */
function baseDType(folder: ModelFolder): ExportDType {
  const d = folder.dtypeOf('model.embed_tokens.weight');
  return d === 'BF16' ? 'bf16' : d === 'F16' ? 'f16' : 'f32';
}

/** Every float tensor of the base in state-dict order (the expected ones first), for the merged safetensors. */
function hfTensors(folder: ModelFolder): HfTensor[] {
  const expected = expectedTensors(folder.config).map((t) => t.name);
  const extra = folder.tensorNames.filter((n) => !expected.includes(n));
  const out: HfTensor[] = [];
  for (const name of [...expected, ...extra]) {
    const dtype = folder.dtypeOf(name);
    if (dtype !== 'F32' && dtype !== 'F16' && dtype !== 'BF16') continue; // not a weight
    out.push({ name, dtype, shape: folder.shapeOf(name) });
  }
  return out;
}

const hfPath = (f: string): string => `${BUNDLE_FILES.hf.dir}/${f}`;
const hfCopied = (folder: ModelFolder): string[] => HF_COPIED_FILES.filter((f) => existsSync(join(folder.dir, f)));

/** The data files each format writes (relative to the bundle); READMEs and the Modelfile are folderFiles'. */
function formatFiles(format: ExportFormat, folder: ModelFolder, external: boolean, shards: HfShard[]): string[] {
  switch (format) {
    case 'peft':
      return [BUNDLE_FILES.peft.config, BUNDLE_FILES.peft.weights];
    case 'gguf':
      return [BUNDLE_FILES.gguf.adapter];
    case 'gguf-base':
      return [BUNDLE_FILES.gguf.base];
    case 'gguf-merged':
      return [BUNDLE_FILES.gguf.merged];
    case 'mlx':
      return [BUNDLE_FILES.mlx.config, BUNDLE_FILES.mlx.weights];
    case 'onnx': {
      const out: string[] = [BUNDLE_FILES.onnx.model];
      if (external) out.push(BUNDLE_FILES.onnx.data);
      if (folder.tokenizerJsonPath) out.push(BUNDLE_FILES.onnx.tokenizer);
      if (folder.tokenizerConfigPath) out.push(BUNDLE_FILES.onnx.tokenizerConfig);
      return out;
    }
    case 'hf-merged':
      return [CONFIG_FILE, ...shards.map((s) => s.file), HF_INDEX_FILE, ...hfCopied(folder)].map(hfPath);
  }
}

/** The Modelfile's model and adapter: the base with the adapter when both are exported, else the merged model, else the base. */
function modelfileSources(formats: readonly ExportFormat[]): { from: 'base' | 'merged'; adapter: boolean; format: ExportFormat } | null {
  if (formats.includes('gguf-base') && formats.includes('gguf')) return { from: 'base', adapter: true, format: 'gguf-base' };
  if (formats.includes('gguf-merged')) return { from: 'merged', adapter: false, format: 'gguf-merged' };
  if (formats.includes('gguf-base')) return { from: 'base', adapter: false, format: 'gguf-base' };
  return null;
}

/** Each folder's README (owned by the folder's first format) and the Modelfile, relative to the bundle. */
function folderFiles(formats: readonly ExportFormat[]): { relPath: string; format: ExportFormat }[] {
  const out: { relPath: string; format: ExportFormat }[] = [];
  for (const f of formats) if (!out.some((x) => x.relPath === readmeOf(f))) out.push({ relPath: readmeOf(f), format: f });
  const mf = modelfileSources(formats);
  if (mf) out.push({ relPath: BUNDLE_FILES.gguf.modelfile, format: mf.format });
  return out;
}

/** The adapter dtype a folder's README names (the GGUF folder's is the adapter's). */
function readmeDType(format: ExportFormat, dtype: ExportDType): ExportDType {
  return formatDType(FORMAT_FOLDER[format] === 'gguf' ? 'gguf' : format === 'hf-merged' ? 'peft' : format, dtype) as ExportDType;
}

function onnxExternal(folder: ModelFolder, dtype: ExportDType): boolean {
  return onnxWeightBytes(folder.config, formatDType('onnx', dtype) as 'f32' | 'f16') > ONNX_EMBED_LIMIT;
}

function readmeContext(run: OpenedRun, dtype: ExportDType, formats: readonly ExportFormat[], ggufType: GgufType, tokenizer: GgufTokenizer | null, extra: Partial<ReadmeContext> = {}): ReadmeContext {
  const mf = modelfileSources(formats);
  const chatMl = tokenizer ? isChatMl(tokenizer.chatTemplate) : false;
  return {
    baseModel: run.baseModel, rank: run.adapter.rank, alpha: run.adapter.alpha, targets: run.adapter.targets.map(peftModule),
    dtype, vocab: run.folder.config.vocab,
    gguf: { adapter: formats.includes('gguf'), base: formats.includes('gguf-base'), merged: formats.includes('gguf-merged'), type: ggufType, modelfile: !!mf, chatMl },
    hf: formats.includes('hf-merged') ? { dtype: baseDType(run.folder), shards: planHfShards(hfTensors(run.folder)).length } : undefined,
    ...extra,
  };
}

/** The Modelfile text of the bundle's GGUF files. */
function modelfileText(run: OpenedRun, formats: readonly ExportFormat[], tokenizer: GgufTokenizer): string | null {
  const mf = modelfileSources(formats);
  if (!mf) return null;
  const from = mf.from === 'base' ? './base.gguf' : './merged.gguf';
  const what = mf.adapter ? `${run.baseModel} with its LoRA adapter` : mf.from === 'merged' ? `${run.baseModel} with the LoRA adapter merged in` : `${run.baseModel} (the base model alone)`;
  return buildModelfile({
    from, adapter: mf.adapter ? './adapter.gguf' : null, chatTemplate: tokenizer.chatTemplate, stopTokens: tokenizer.stopTokens,
    title: `${what}, exported by ${PRODUCER}`,
  }).text;
}

/**
 * Sizes of each format's files before writing, and the files an export into outDir would replace. The GGUF models
 * are left out for a base without tokenizer.json (they cannot be exported: exportRun says why).
 */
export async function previewExport(input: PreviewRequest | string): Promise<ExportPreview> {
  const req = await resolveInputs(parseExportRequest(PreviewRequestSchema, typeof input === 'string' ? { runDir: input } : input, 'export preview request'));
  const run = openRun(req.runDir, req.modelDir, req.overwrite);
  const formats = EXPORT_FORMATS.filter((f) => req.formats.includes(f) && (run.folder.tokenizerJsonPath || (f !== 'gguf-base' && f !== 'gguf-merged')));
  const preview: ExportPreview['formats'] = [];
  const all: string[] = [BUNDLE_FILES.manifest, BUNDLE_FILES.readme];
  const tokenizer = hasGgufModel(formats) ? ggufTokenizerOf(run.folder) : null;
  const ctx = readmeContext(run, req.dtype, formats, req.ggufType, tokenizer);
  const owned = folderFiles(formats);
  for (const format of formats) {
    const dtype = formatDType(format, req.dtype, req.ggufType, baseDType(run.folder));
    const files: { relPath: string; bytes: number; exact: boolean }[] = [];
    const text = (relPath: string, s: string): void => {
      files.push({ relPath, bytes: new TextEncoder().encode(s).length, exact: true });
    };
    const fileSize = (relPath: string, path: string): void => {
      files.push({ relPath, bytes: statSync(path).size, exact: true });
    };
    const adapterDType = dtype as ExportDType;
    if (format === 'peft') {
      const p = writePeft(run.adapter, run.baseModel, adapterDType);
      text(BUNDLE_FILES.peft.config, p.config);
      files.push({ relPath: BUNDLE_FILES.peft.weights, bytes: p.weights.length, exact: true });
    } else if (format === 'gguf') {
      files.push({ relPath: BUNDLE_FILES.gguf.adapter, bytes: writeGgufLora(run.adapter, { baseModel: run.baseModel }, adapterDType).length, exact: true });
    } else if (format === 'gguf-base' || format === 'gguf-merged') {
      files.push({ relPath: format === 'gguf-base' ? BUNDLE_FILES.gguf.base : BUNDLE_FILES.gguf.merged, bytes: ggufPlan(run, format, req.ggufType, tokenizer!).bytes, exact: true });
    } else if (format === 'mlx') {
      const m = writeMlx(run.adapter, run.baseModel, run.folder.config.layers, adapterDType);
      text(BUNDLE_FILES.mlx.config, m.config);
      files.push({ relPath: BUNDLE_FILES.mlx.weights, bytes: m.weights.length, exact: true });
    } else if (format === 'onnx') {
      const od = dtype as 'f32' | 'f16';
      // The graph with external weights reads no weight; the embedded file is that graph plus the weight bytes.
      const graph = buildMergedOnnx(run.folder.config, null, () => new Float32Array(0), { dtype: od, externalData: true });
      const weights = onnxWeightBytes(run.folder.config, od);
      const ext = onnxExternal(run.folder, req.dtype);
      if (ext) {
        files.push({ relPath: BUNDLE_FILES.onnx.model, bytes: graph.model.length, exact: false });
        files.push({ relPath: BUNDLE_FILES.onnx.data, bytes: graph.external!.bytes, exact: true });
      } else {
        files.push({ relPath: BUNDLE_FILES.onnx.model, bytes: graph.model.length + weights, exact: false });
      }
      if (run.folder.tokenizerJsonPath) fileSize(BUNDLE_FILES.onnx.tokenizer, run.folder.tokenizerJsonPath);
      if (run.folder.tokenizerConfigPath) fileSize(BUNDLE_FILES.onnx.tokenizerConfig, run.folder.tokenizerConfigPath);
      ctx.onnxExternal = ext;
      ctx.onnxTokenizer = !!run.folder.tokenizerJsonPath;
    } else {
      const shards = planHfShards(hfTensors(run.folder));
      fileSize(hfPath(CONFIG_FILE), run.folder.configFile);
      for (const sh of shards) files.push({ relPath: hfPath(sh.file), bytes: sh.bytes, exact: true });
      text(hfPath(HF_INDEX_FILE), hfIndexJson(shards));
      for (const f of hfCopied(run.folder)) fileSize(hfPath(f), join(run.folder.dir, f));
    }
    for (const o of owned.filter((x) => x.format === format)) {
      if (o.relPath === BUNDLE_FILES.gguf.modelfile) text(o.relPath, modelfileText(run, formats, tokenizer!)!);
      else text(o.relPath, formatReadme(format, { ...ctx, dtype: readmeDType(format, req.dtype) }));
    }
    // The GGUF README ends with the parity measured at export, unknown before.
    if (tokenizer) for (const f of files) if (f.relPath === BUNDLE_FILES.gguf.readme) f.exact = false;
    all.push(...files.map((f) => f.relPath));
    preview.push({ format, dtype, files, bytes: files.reduce((s, f) => s + f.bytes, 0) });
  }
  const out = resolve(req.outDir ?? defaultExportDir(run.runDir));
  const existing = all.filter((r) => existsSync(join(out, r)));
  return {
    runDir: run.runDir, baseModel: run.baseModel,
    lora: { rank: run.adapter.rank, alpha: run.adapter.alpha, targets: run.adapter.targets.map(peftModule), layers: adapterLayerIndices(run.adapter).length },
    formats: preview, existing,
  };
}

export interface ExportProgress {
  format: ExportFormat | 'bundle';
  message: string;
  /** Tensors written so far of the format's `total`, for the model formats (GGUF models, merged safetensors). */
  done?: number;
  total?: number;
}

/** Tensor producers that report each tensor written. */
function counted<T extends { produce(): R }, R>(tensors: readonly T[], report: (done: number, total: number) => void, offset = 0, total = tensors.length): T[] {
  let done = offset;
  return tensors.map((t) => ({ ...t, produce: () => {
    const v = t.produce();
    report(++done, total);
    return v;
  } }));
}

/** Write the deployment bundle of a run: the chosen formats, the parity check, the READMEs and manifest.json. */
export async function exportRun(input: ExportRequest, onProgress: (p: ExportProgress) => void = () => {}): Promise<ExportResult> {
  const t0 = performance.now();
  const req = await resolveInputs(parseExportRequest(ExportRequestSchema, input, 'export request'));
  const formats = EXPORT_FORMATS.filter((f) => req.formats.includes(f));
  const run = openRun(req.runDir, req.modelDir, req.overwrite);
  const { folder, adapter, config } = run;
  const profile = loadProfile(req.profile ?? config.request.profile);
  const ext = formats.includes('onnx') && onnxExternal(folder, req.dtype);
  const tokenizer = hasGgufModel(formats) ? ggufTokenizerOf(folder) : null;
  const shards = formats.includes('hf-merged') ? planHfShards(hfTensors(folder)) : [];
  const owned = folderFiles(formats);
  const expected = [BUNDLE_FILES.manifest, BUNDLE_FILES.readme, ...formats.flatMap((f) => formatFiles(f, folder, ext, shards)), ...owned.map((o) => o.relPath)];

  // Checks that need no writing come first: the destination, then the memory plan and the hashes.
  const writer = new AtomicWriter(req.outDir ?? defaultExportDir(run.runDir), { overwrite: req.overwrite, what: 'the export' });
  writer.check(expected);
  onProgress({ format: 'bundle', message: 'planning inference memory' });
  const seqLen = req.seqLen ?? config.request.seqLen;
  const plan = await planForward({
    cfg: folder.config, quant: config.request.quant, limits: { ...profile.webgpu }, seqLen, batch: 1,
    lora: { rank: adapter.rank, alpha: adapter.alpha, targets: adapter.targets },
  });
  onProgress({ format: 'bundle', message: 'hashing the base weights' });
  const weights = weightsOf(folder);
  checkSameBase(run, req, weights);
  const tokFiles = [folder.tokenizerJsonPath, folder.tokenizerConfigPath].filter((f): f is string => !!f);
  const tokenizerHashes = tokFiles.length
    ? (() => {
        const files = tokFiles.map((f) => ({ file: basename(f), sha256: folder.sha256Of(f) }));
        return { files, sha256: sha256Text(files.map((f) => `${f.sha256}  ${f.file}\n`).join('')) };
      })()
    : null;

  const staged: { format: ExportFormat | 'bundle'; relPath: string; dtype: FileDType | null }[] = [];
  const baseCtx = readmeContext(run, req.dtype, formats, req.ggufType, tokenizer, {
    onnxExternal: ext, onnxTokenizer: !!folder.tokenizerJsonPath,
    profile: { name: profile.name, predictedPeakBytes: plan.peakBytes, capBytes: capBytesOf(profile), seqLen },
  });
  let readme = '';
  let manifest: BundleManifest | null = null;
  try {
    const stage = (format: ExportFormat | 'bundle', relPath: string, data: Parameters<AtomicWriter['stage']>[1], dtype: FileDType | null): void => {
      writer.stage(relPath, data);
      staged.push({ format, relPath, dtype });
    };
    const copy = (format: ExportFormat, relPath: string, path: string): void => stage(format, relPath, new Uint8Array(readFileSync(path)), null);
    for (const format of formats) {
      const dtype = formatDType(format, req.dtype, req.ggufType, baseDType(folder));
      const adapterDType = dtype as ExportDType;
      onProgress({ format, message: `writing ${format} (${dtype})` });
      if (format === 'peft') {
        const p = writePeft(adapter, run.baseModel, adapterDType);
        stage(format, BUNDLE_FILES.peft.config, p.config, null);
        stage(format, BUNDLE_FILES.peft.weights, p.weights, adapterDType);
      } else if (format === 'gguf') {
        stage(format, BUNDLE_FILES.gguf.adapter, writeGgufLora(adapter, { baseModel: run.baseModel }, adapterDType), adapterDType);
      } else if (format === 'gguf-base' || format === 'gguf-merged') {
        const g = ggufPlan(run, format, req.ggufType, tokenizer!);
        const tensors = counted(g.tensors, (done, total) => onProgress({ format, message: `writing ${format} (${dtype})`, done, total }));
        stage(format, format === 'gguf-base' ? BUNDLE_FILES.gguf.base : BUNDLE_FILES.gguf.merged, (sink) => void writeGgufModel({ ...g, tensors }, sink), dtype);
      } else if (format === 'mlx') {
        const m = writeMlx(adapter, run.baseModel, folder.config.layers, adapterDType);
        stage(format, BUNDLE_FILES.mlx.config, m.config, null);
        stage(format, BUNDLE_FILES.mlx.weights, m.weights, adapterDType);
      } else if (format === 'onnx') {
        const onnx = buildMergedOnnx(folder.config, adapter, (name) => folder.read(name), {
          dtype: dtype as 'f32' | 'f16', externalData: ext, externalDataName: basename(BUNDLE_FILES.onnx.data), baseModel: run.baseModel,
          producerVersion: PRODUCER.split(' ').pop(),
        });
        stage(format, BUNDLE_FILES.onnx.model, onnx.model, dtype);
        if (onnx.external) stage(format, BUNDLE_FILES.onnx.data, (sink) => onnx.external!.write(sink), dtype);
        if (folder.tokenizerJsonPath) copy(format, BUNDLE_FILES.onnx.tokenizer, folder.tokenizerJsonPath);
        if (folder.tokenizerConfigPath) copy(format, BUNDLE_FILES.onnx.tokenizerConfig, folder.tokenizerConfigPath);
      } else {
        const read = mergedReader(folder.config, adapter, (name) => folder.read(name));
        copy(format, hfPath(CONFIG_FILE), folder.configFile);
        const total = shards.reduce((n, sh) => n + sh.tensors.length, 0);
        let before = 0;
        for (const sh of shards) {
          const tensors = counted(hfShardTensors(sh, read), (done) => onProgress({ format, message: `writing ${format} (${dtype})`, done, total }), before, total);
          before += sh.tensors.length;
          stage(format, hfPath(sh.file), (sink) => void writeSafetensorsStream(tensors, HF_SHARD_METADATA, sink), dtype);
        }
        stage(format, hfPath(HF_INDEX_FILE), hfIndexJson(shards), null);
        for (const f of hfCopied(folder)) copy(format, hfPath(f), join(folder.dir, f));
      }
    }

    const ggufFile = (relPath: string): StagedGguf | undefined => (staged.some((x) => x.relPath === relPath) ? { relPath, path: writer.stagedPath(relPath) } : undefined);
    onProgress({ format: 'bundle', message: 'checking parity in llama.cpp' });
    const parity: Parity = await measureParity({
      config, folder, adapter, profile, rows: req.parityRows, ggufType: req.ggufType, adapterDType: formatDType('gguf', req.dtype) as ExportDType,
      files: { adapter: ggufFile(BUNDLE_FILES.gguf.adapter), base: ggufFile(BUNDLE_FILES.gguf.base), merged: ggufFile(BUNDLE_FILES.gguf.merged) },
      onProgress: (message) => onProgress({ format: 'bundle', message }),
    });

    const ctx: ReadmeContext = { ...baseCtx, parity };
    for (const o of owned) {
      if (o.relPath === BUNDLE_FILES.gguf.modelfile) stage(o.format, o.relPath, modelfileText(run, formats, tokenizer!)!, null);
      else stage(o.format, o.relPath, formatReadme(o.format, { ...ctx, dtype: readmeDType(o.format, req.dtype) }), null);
    }
    readme = bundleReadme(formats, ctx);
    stage('bundle', BUNDLE_FILES.readme, readme, null);
    const cap = capBytesOf(profile);
    const peakByCategory = { ...plan.peakByCategory };
    manifest = buildManifest({
      createdAt: new Date().toISOString(),
      producer: PRODUCER,
      baseModel: {
        id: run.baseModel, architecture: 'qwen2', weights,
        weightsSha256: weightsHash(weights),
        fingerprint: config.model.fingerprint,
        config: {
          layers: folder.config.layers, hidden: folder.config.hidden, intermediate: folder.config.intermediate, heads: folder.config.heads,
          kvHeads: folder.config.kvHeads, vocab: folder.config.vocab, tiedEmbeddings: folder.config.tied, ropeTheta: folder.config.ropeTheta,
          rmsNormEps: folder.config.eps,
        },
      },
      tokenizer: tokenizerHashes,
      lora: {
        rank: adapter.rank, alpha: adapter.alpha, scale: adapter.alpha / adapter.rank, targets: adapter.targets.map(peftModule),
        layers: adapterLayerIndices(adapter).length, parameters: loraParamCount(folder.config, adapter.rank, adapter.targets),
      },
      training: { method: config.request.method, steps: config.totalSteps, seqLen: config.request.seqLen, profile: config.profileId },
      quantization: config.request.quant,
      target: {
        profile: { id: profile.id, name: profile.name, ramGB: profile.ramGB, appBudgetMB: profile.appBudgetMB, capBytes: cap },
        inference: {
          quant: config.request.quant, seqLen, batch: 1, predictedPeakBytes: plan.peakBytes,
          peakByCategory,
          workingSetBytes: plan.peakWorkingSet, fitsBudget: plan.peakBytes <= cap,
        },
      },
      files: [],
      formats,
      parity,
    });
    // manifest.json lists every other file with its hash; it is staged last.
    manifest.files = listStaged(writer, staged);
    stage('bundle', BUNDLE_FILES.manifest, JSON.stringify(manifest, null, 2) + '\n', null);
    onProgress({ format: 'bundle', message: 'moving the files into place' });
    const committed = writer.commit();
    const files: ExportedFile[] = committed.map((c) => {
      const s = staged.find((x) => x.relPath === c.relPath)!;
      return { format: s.format, path: c.path, relPath: c.relPath, bytes: c.bytes, sha256: c.sha256, dtype: s.dtype };
    });
    return { outDir: writer.outDir, files, manifest, readme, seconds: (performance.now() - t0) / 1000 };
  } catch (e) {
    writer.abort();
    throw e;
  }
}

/** The staged files so far (all but manifest.json) as manifest entries. */
function listStaged(writer: AtomicWriter, staged: { format: ExportFormat | 'bundle'; relPath: string; dtype: FileDType | null }[]): BundleManifest['files'] {
  return writer.stagedFiles().map((f) => {
    const s = staged.find((x) => x.relPath === f.relPath)!;
    return { format: s.format, relPath: f.relPath, bytes: f.bytes, sha256: f.sha256, dtype: s.dtype };
  });
}

// Exporting a run's adapter (`mesp export`, the app's Export view); importing adapters back (`mesp import-adapter`)
// is core/node/import-adapter.ts, re-exported here with the request parsing (core/node/export-request.ts).
// exportRun reads a run folder (config.json + adapter/, core/node/runstore.ts), checks the adapter fits the base
// model it was trained on (checkAdapterFits) and that the base is unchanged (the run's fingerprint), writes the
// chosen formats with core/export's writers (PEFT, GGUF LoRA, MLX, merged ONNX), then each format's README, the
// bundle README and manifest.json (SHA-256 of the base safetensors and of the tokenizer, LoRA settings, the target
// profile and its predicted inference memory from planForward). Everything goes through AtomicWriter: all files or
// none, never replacing an existing file without `overwrite`. previewExport gives each format's size before writing.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { createHash } from 'node:crypto';
import {
  EXPORT_FORMATS, ExportRequestSchema, PreviewRequestSchema, type BundleManifest, type ExportDType, type ExportedFile,
  type ExportFormat, type ExportPreview, type ExportRequest, type ExportResult, type PreviewRequest,
} from '../api/export';
import { APP_VERSION } from '../api/names';
import type { RunConfig } from '../api/train';
import { ConfigError } from '../common/errors';
import { adapterLayerIndices } from '../export/adapter';
import { BUNDLE_FILES, buildManifest, bundleReadme, formatDType, formatReadme, type ReadmeContext } from '../export/bundle';
import { writeGgufLora } from '../export/gguf';
import { writeMlx } from '../export/mlx';
import { buildMergedOnnx, ONNX_EMBED_LIMIT, onnxWeightBytes } from '../export/onnx';
import { peftModule, publishableBaseName, readPeft, writePeft } from '../export/peft';
import { capBytesOf } from '../profiles/schema';
import { planForward } from '../train/plan';
import { checkAdapterFits, loraParamCount, type HostAdapter } from '../train/lora';
import { AtomicWriter } from './atomic';
import { parseExportRequest } from './export-request';
import { openModelFolder, type ModelFolder } from './modelfiles';
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
  const baseModel = config.model.name || adapter.baseModel || publishableBaseName(basename(folder.dir));
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

/** The files each format writes (relative to the bundle), for the overwrite check. */
function formatFiles(format: ExportFormat, folder: ModelFolder, external: boolean): string[] {
  switch (format) {
    case 'peft':
      return [BUNDLE_FILES.peft.config, BUNDLE_FILES.peft.weights, BUNDLE_FILES.peft.readme];
    case 'gguf':
      return [BUNDLE_FILES.gguf.adapter, BUNDLE_FILES.gguf.readme];
    case 'mlx':
      return [BUNDLE_FILES.mlx.config, BUNDLE_FILES.mlx.weights, BUNDLE_FILES.mlx.readme];
    case 'onnx': {
      const out: string[] = [BUNDLE_FILES.onnx.model];
      if (external) out.push(BUNDLE_FILES.onnx.data);
      if (folder.tokenizerJsonPath) out.push(BUNDLE_FILES.onnx.tokenizer);
      if (folder.tokenizerConfigPath) out.push(BUNDLE_FILES.onnx.tokenizerConfig);
      out.push(BUNDLE_FILES.onnx.readme);
      return out;
    }
  }
}

function onnxExternal(folder: ModelFolder, dtype: ExportDType): boolean {
  return onnxWeightBytes(folder.config, formatDType('onnx', dtype) as 'f32' | 'f16') > ONNX_EMBED_LIMIT;
}

function readmeContext(run: OpenedRun, dtype: ExportDType, extra: Partial<ReadmeContext> = {}): ReadmeContext {
  return {
    baseModel: run.baseModel, rank: run.adapter.rank, alpha: run.adapter.alpha, targets: run.adapter.targets.map(peftModule),
    dtype, vocab: run.folder.config.vocab, ...extra,
  };
}

/** Sizes of each format's files before writing, and the files an export into outDir would replace. */
export function previewExport(input: PreviewRequest | string): ExportPreview {
  const req = parseExportRequest(PreviewRequestSchema, typeof input === 'string' ? { runDir: input } : input, 'export preview request');
  const run = openRun(req.runDir, req.modelDir, req.overwrite);
  const formats: ExportPreview['formats'] = [];
  const all: string[] = [BUNDLE_FILES.manifest, BUNDLE_FILES.readme];
  for (const format of req.formats) {
    const dtype = formatDType(format, req.dtype);
    const files: { relPath: string; bytes: number; exact: boolean }[] = [];
    const text = (relPath: string, s: string): void => {
      files.push({ relPath, bytes: new TextEncoder().encode(s).length, exact: true });
    };
    const ctx = readmeContext(run, dtype);
    if (format === 'peft') {
      const p = writePeft(run.adapter, run.baseModel, dtype);
      text(BUNDLE_FILES.peft.config, p.config);
      files.push({ relPath: BUNDLE_FILES.peft.weights, bytes: p.weights.length, exact: true });
    } else if (format === 'gguf') {
      files.push({ relPath: BUNDLE_FILES.gguf.adapter, bytes: writeGgufLora(run.adapter, { baseModel: run.baseModel }, dtype).length, exact: true });
    } else if (format === 'mlx') {
      const m = writeMlx(run.adapter, run.baseModel, run.folder.config.layers, dtype);
      text(BUNDLE_FILES.mlx.config, m.config);
      files.push({ relPath: BUNDLE_FILES.mlx.weights, bytes: m.weights.length, exact: true });
    } else {
      const od = dtype as 'f32' | 'f16';
      // The graph with external weights reads no weight; the embedded file is that graph plus the weight bytes.
      const graph = buildMergedOnnx(run.folder.config, null, () => new Float32Array(0), { dtype: od, externalData: true });
      const weights = onnxWeightBytes(run.folder.config, od);
      const ext = onnxExternal(run.folder, dtype);
      if (ext) {
        files.push({ relPath: BUNDLE_FILES.onnx.model, bytes: graph.model.length, exact: false });
        files.push({ relPath: BUNDLE_FILES.onnx.data, bytes: graph.external!.bytes, exact: true });
      } else {
        files.push({ relPath: BUNDLE_FILES.onnx.model, bytes: graph.model.length + weights, exact: false });
      }
      if (run.folder.tokenizerJsonPath) files.push({ relPath: BUNDLE_FILES.onnx.tokenizer, bytes: statSync(run.folder.tokenizerJsonPath).size, exact: true });
      if (run.folder.tokenizerConfigPath) files.push({ relPath: BUNDLE_FILES.onnx.tokenizerConfig, bytes: statSync(run.folder.tokenizerConfigPath).size, exact: true });
      ctx.onnxExternal = ext;
      ctx.onnxTokenizer = !!run.folder.tokenizerJsonPath;
    }
    text(BUNDLE_FILES[format].readme, formatReadme(format, ctx));
    all.push(...files.map((f) => f.relPath));
    formats.push({ format, dtype, files, bytes: files.reduce((s, f) => s + f.bytes, 0) });
  }
  const out = resolve(req.outDir ?? defaultExportDir(run.runDir));
  const existing = all.filter((r) => existsSync(join(out, r)));
  return {
    runDir: run.runDir, baseModel: run.baseModel,
    lora: { rank: run.adapter.rank, alpha: run.adapter.alpha, targets: run.adapter.targets.map(peftModule), layers: adapterLayerIndices(run.adapter).length },
    formats, existing,
  };
}

export interface ExportProgress {
  format: ExportFormat | 'bundle';
  message: string;
}

/** Write the deployment bundle of a run: the chosen formats, their READMEs, README.md and manifest.json. */
export async function exportRun(input: ExportRequest, onProgress: (p: ExportProgress) => void = () => {}): Promise<ExportResult> {
  const t0 = performance.now();
  const req = parseExportRequest(ExportRequestSchema, input, 'export request');
  const formats = EXPORT_FORMATS.filter((f) => req.formats.includes(f));
  const run = openRun(req.runDir, req.modelDir, req.overwrite);
  const { folder, adapter, config } = run;
  const profile = loadProfile(req.profile ?? config.request.profile);
  const ext = formats.includes('onnx') && onnxExternal(folder, req.dtype);
  const expected = [BUNDLE_FILES.manifest, BUNDLE_FILES.readme, ...formats.flatMap((f) => formatFiles(f, folder, ext))];

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
  const tokenizer = tokFiles.length
    ? (() => {
        const files = tokFiles.map((f) => ({ file: basename(f), sha256: folder.sha256Of(f) }));
        return { files, sha256: sha256Text(files.map((f) => `${f.sha256}  ${f.file}\n`).join('')) };
      })()
    : null;

  const staged: { format: ExportFormat | 'bundle'; relPath: string; dtype: ExportDType | null }[] = [];
  const ctxBase = readmeContext(run, req.dtype, {
    onnxExternal: ext, onnxTokenizer: !!folder.tokenizerJsonPath,
    profile: { name: profile.name, predictedPeakBytes: plan.peakBytes, capBytes: capBytesOf(profile), seqLen },
  });
  let readme = '';
  let manifest: BundleManifest | null = null;
  try {
    const stage = (format: ExportFormat | 'bundle', relPath: string, data: Parameters<AtomicWriter['stage']>[1], dtype: ExportDType | null): void => {
      writer.stage(relPath, data);
      staged.push({ format, relPath, dtype });
    };
    for (const format of formats) {
      const dtype = formatDType(format, req.dtype);
      onProgress({ format, message: `writing ${format} (${dtype})` });
      if (format === 'peft') {
        const p = writePeft(adapter, run.baseModel, dtype);
        stage(format, BUNDLE_FILES.peft.config, p.config, null);
        stage(format, BUNDLE_FILES.peft.weights, p.weights, dtype);
      } else if (format === 'gguf') {
        stage(format, BUNDLE_FILES.gguf.adapter, writeGgufLora(adapter, { baseModel: run.baseModel }, dtype), dtype);
      } else if (format === 'mlx') {
        const m = writeMlx(adapter, run.baseModel, folder.config.layers, dtype);
        stage(format, BUNDLE_FILES.mlx.config, m.config, null);
        stage(format, BUNDLE_FILES.mlx.weights, m.weights, dtype);
      } else {
        const onnx = buildMergedOnnx(folder.config, adapter, (name) => folder.read(name), {
          dtype: dtype as 'f32' | 'f16', externalData: ext, externalDataName: basename(BUNDLE_FILES.onnx.data), baseModel: run.baseModel,
          producerVersion: PRODUCER.split(' ').pop(),
        });
        stage(format, BUNDLE_FILES.onnx.model, onnx.model, dtype);
        if (onnx.external) stage(format, BUNDLE_FILES.onnx.data, (sink) => onnx.external!.write(sink), dtype);
        if (folder.tokenizerJsonPath) stage(format, BUNDLE_FILES.onnx.tokenizer, new Uint8Array(readFileSync(folder.tokenizerJsonPath)), null);
        if (folder.tokenizerConfigPath) stage(format, BUNDLE_FILES.onnx.tokenizerConfig, new Uint8Array(readFileSync(folder.tokenizerConfigPath)), null);
      }
      stage(format, BUNDLE_FILES[format].readme, formatReadme(format, { ...ctxBase, dtype }), null);
    }
    readme = bundleReadme(formats, ctxBase);
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
      tokenizer,
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
function listStaged(writer: AtomicWriter, staged: { format: ExportFormat | 'bundle'; relPath: string; dtype: ExportDType | null }[]): BundleManifest['files'] {
  return writer.stagedFiles().map((f) => {
    const s = staged.find((x) => x.relPath === f.relPath)!;
    return { format: s.format, relPath: f.relPath, bytes: f.bytes, sha256: f.sha256, dtype: s.dtype };
  });
}

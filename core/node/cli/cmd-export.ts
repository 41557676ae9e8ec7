// `mesp export` (a run's adapter as PEFT, GGUF LoRA, MLX and merged ONNX; the base and merged model as GGUF with an
// Ollama Modelfile; the merged model as Hugging Face safetensors; with manifest.json, the parity measured in llama.cpp
// and READMEs) and
// `mesp import-adapter` (any of our PEFT, GGUF or MLX outputs back to a PEFT folder for `mesp train --init-adapter`).
// Both call the service in core/node/export.ts, as the app does. Bad input (a run without an adapter, an unknown
// format, a destination we cannot write, an adapter that does not fit) exits with code 5 and writes nothing.
import { relative } from 'node:path';
import { GGUF_TYPES, IMPORT_FORMATS, type ExportDType, type ExportResult, type ImportFormat } from '../../api/export';
import { ConfigError } from '../../common/errors';
import { exportRun, importAdapter, parseFormats, previewExport } from '../export';
import { choiceFlag, intFlag, parseFlags, required } from './args';
import { formatBytes, mb, table } from './format';
import { ProgressBar } from './progress';

export const EXPORT_HELP = `mesp export --run RUN_DIR --format FORMATS [--out DIR] [--dtype f32|f16|bf16] [--gguf-type f32|f16|q8_0|q4_0]
            [--parity-rows N] [--force] [--model DIR] [--profile ID|FILE] [--seq-len N] [--dry-run] [--json]
  Export a trained run for phones and servers, with a manifest and READMEs. FORMATS, comma-separated, or all:
    peft         the adapter for Transformers + PEFT
    gguf         the adapter as a GGUF LoRA (llama.cpp --lora, Ollama ADAPTER)
    gguf-base    the base model as GGUF (llama.cpp -m base.gguf --lora adapter.gguf), with an Ollama Modelfile
    gguf-merged  the base with the adapter merged in, as GGUF (llama.cpp, Ollama), with a Modelfile
    mlx          the adapter for mlx-lm
    onnx         the merged model as ONNX (ONNX Runtime, web and mobile)
    hf-merged    the merged model as a plain Hugging Face folder (transformers, vLLM), in the base's dtype
  --dtype: the adapters' precision (ONNX has no bf16: --dtype bf16 writes its weights in f16). --gguf-type: the GGUF
  models' storage (default f16; q8_0 and q4_0 in llama.cpp's block formats, q4_0 with the embedding in q8_0).
  Merged formats start from the base checkpoint's own weights, also after a --quant int4 run. With a GGUF model and
  node-llama-cpp installed, llama.cpp's loss on --parity-rows rows of the run's data (default 4, validation first; 0
  skips) is compared with our engine's and recorded in manifest.json. --out defaults to RUN_DIR/exports. Writes all
  files or none; never replaces existing files unless --force. --dry-run prints each file's size and the files that
  would be replaced, writing nothing.`;

function printParity(r: ExportResult): void {
  const p = r.manifest.parity;
  if (!p) return;
  if (p.status === 'skipped') {
    console.log(`parity in llama.cpp: skipped (${p.reason})`);
    return;
  }
  console.log(`\nparity in llama.cpp (${p.checks[0]?.runtimeVersion}), ${p.data?.rows} ${p.data?.split} rows of ${p.data?.file}:`);
  console.log(table(['files', 'type', 'max rel. diff vs our engine, same weights', 'bound', '', 'vs the f32 model'], p.checks.map((c) => [
    c.files.join(' + '), `${c.modelType}${c.adapterDType ? ` + ${c.adapterDType}` : ''}`, c.maxRelDiff.toExponential(2), c.bound.toExponential(0), c.pass ? 'pass' : 'FAIL',
    c.maxRelDiffVsF32.toExponential(2),
  ])));
}

export async function cmdExport(argv: string[]): Promise<number> {
  const v = parseFlags(argv, {
    run: { type: 'string' }, format: { type: 'string' }, out: { type: 'string' }, dtype: { type: 'string' }, force: { type: 'boolean' },
    model: { type: 'string' }, profile: { type: 'string' }, 'seq-len': { type: 'string' }, 'dry-run': { type: 'boolean' }, json: { type: 'boolean' },
    'gguf-type': { type: 'string' }, 'parity-rows': { type: 'string' },
  }, 'export');
  const runDir = required(v, 'run', 'export');
  const formats = parseFormats(required(v, 'format', 'export'));
  const dtype = choiceFlag(v, 'dtype', 'export', ['f32', 'f16', 'bf16'] as const, 'f32') as ExportDType;
  const ggufType = choiceFlag(v, 'gguf-type', 'export', GGUF_TYPES, 'f16');
  const parityRows = intFlag(v, 'parity-rows', 'export', 4, 0);
  const modelDir = v.model as string | undefined;
  if (v['dry-run']) {
    const p = previewExport({ runDir, formats, dtype, ggufType, modelDir, outDir: v.out as string | undefined });
    if (v.json) {
      process.stdout.write(JSON.stringify(p) + '\n');
      return 0;
    }
    console.log(`run ${p.runDir}: base ${p.baseModel}, LoRA r ${p.lora.rank}, alpha ${p.lora.alpha}, ${p.lora.targets.join(', ')} on ${p.lora.layers} layers\n`);
    console.log(table(['format', 'dtype', 'file', 'size'], p.formats.flatMap((f) => f.files.map((x) => [f.format, f.dtype, x.relPath, `${x.exact ? '' : '≈ '}${formatBytes(x.bytes)}`]))));
    if (p.existing.length) console.log(`\nwould replace (needs --force): ${p.existing.join(', ')}`);
    return 0;
  }
  let seqLen: number | undefined;
  if (v['seq-len'] !== undefined) {
    seqLen = Number(v['seq-len']);
    if (!Number.isInteger(seqLen) || seqLen < 1) throw new ConfigError(`--seq-len must be a positive integer, got "${String(v['seq-len'])}"`, { field: 'seq-len' });
  }
  const json = !!v.json;
  let bar: ProgressBar | null = null;
  let barFormat = '';
  const r = await exportRun(
    { runDir, formats, outDir: v.out as string | undefined, dtype, ggufType, parityRows, overwrite: !!v.force, modelDir, profile: v.profile as string | undefined, seqLen },
    (p) => {
      if (json) return;
      if (p.total !== undefined && p.done !== undefined) {
        if (!bar || barFormat !== p.format) {
          bar?.done();
          bar = new ProgressBar(`  ${p.message}`, p.total);
          barFormat = p.format;
        }
        bar.update(p.done, 'tensors');
        if (p.done === p.total) {
          bar.done();
          bar = null;
        }
        return;
      }
      process.stderr.write(`  ${p.message}\n`);
    },
  );
  if (json) {
    process.stdout.write(JSON.stringify(r) + '\n');
    return 0;
  }
  console.log(table(['format', 'file', 'dtype', 'size'], r.files.map((f) => [f.format, relative(process.cwd(), f.path) || f.path, f.dtype ?? '', formatBytes(f.bytes)])));
  const inf = r.manifest.target.inference;
  console.log(`\nbase ${r.manifest.baseModel.id} (weights sha256 ${r.manifest.baseModel.weightsSha256.slice(0, 16)}…), LoRA r ${r.manifest.lora.rank}, alpha ${r.manifest.lora.alpha}`);
  console.log(`target ${r.manifest.target.profile.name}: predicted inference peak ${mb(inf.predictedPeakBytes)} at ${inf.seqLen} tokens, cap ${mb(r.manifest.target.profile.capBytes)}${inf.fitsBudget ? '' : ' (OVER the budget)'}`);
  printParity(r);
  console.log(`\nwrote ${r.files.length} files to ${r.outDir} in ${r.seconds.toFixed(1)} s; how to use them: ${relative(process.cwd(), `${r.outDir}/README.md`)}`);
  return 0;
}

export const IMPORT_HELP = `mesp import-adapter --from FILE_OR_DIR --out DIR [--format peft|gguf|mlx] [--model DIR] [--force] [--json]
  Read an exported adapter (PEFT, GGUF or MLX) back as a PEFT folder for \`mesp train --init-adapter\`.
  --from: a PEFT folder, a GGUF LoRA file or an mlx-lm adapter folder (the format is detected when --format is
  absent). The PEFT folder is written in f32, all files or none. With --model, checks that it fits that base model.`;

export function cmdImportAdapter(argv: string[]): number {
  const v = parseFlags(argv, {
    from: { type: 'string' }, out: { type: 'string' }, format: { type: 'string' }, model: { type: 'string' }, force: { type: 'boolean' }, json: { type: 'boolean' },
  }, 'import-adapter');
  let format: ImportFormat | undefined;
  if (v.format !== undefined) {
    const f = String(v.format).toLowerCase();
    if (!(IMPORT_FORMATS as readonly string[]).includes(f)) {
      throw new ConfigError(`unknown adapter format "${f}"; use ${IMPORT_FORMATS.join(', ')} (ONNX holds merged weights, not an adapter)`, { field: 'format' });
    }
    format = f as ImportFormat;
  }
  const r = importAdapter({ from: required(v, 'from', 'import-adapter'), outDir: required(v, 'out', 'import-adapter'), format, modelDir: v.model as string | undefined, overwrite: !!v.force });
  if (v.json) {
    process.stdout.write(JSON.stringify(r) + '\n');
    return 0;
  }
  console.log(`read a ${r.format.toUpperCase()} LoRA adapter (r ${r.rank}, alpha ${r.alpha}, ${r.targets.join(', ')}, ${r.layers} layers, base ${r.baseModel})`);
  console.log(`wrote the PEFT adapter to ${r.outDir}: use it with \`mesp train --init-adapter ${relative(process.cwd(), r.outDir) || r.outDir}\``);
  return 0;
}

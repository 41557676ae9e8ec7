// `mesp export` (a run's adapter as PEFT, GGUF LoRA, MLX and merged ONNX, with manifest.json and READMEs) and
// `mesp import-adapter` (any of our PEFT, GGUF or MLX outputs back to a PEFT folder for `mesp train --init-adapter`).
// Both call the service in core/node/export.ts, as the app does. Bad input (a run without an adapter, an unknown
// format, a destination we cannot write, an adapter that does not fit) exits with code 5 and writes nothing.
import { relative } from 'node:path';
import { IMPORT_FORMATS, type ExportDType, type ImportFormat } from '../../api/export';
import { ConfigError } from '../../common/errors';
import { exportRun, importAdapter, parseFormats, previewExport } from '../export';
import { choiceFlag, parseFlags, required } from './args';
import { formatBytes, mb, table } from './format';

export const EXPORT_HELP = `mesp export --run RUN_DIR --format peft|gguf|mlx|onnx|all [--out DIR] [--dtype f32|f16|bf16] [--force] [--model DIR] [--profile ID|FILE] [--seq-len N] [--dry-run] [--json]
  Export a trained adapter for phones: PEFT, GGUF LoRA (llama.cpp), MLX, merged ONNX, with a manifest and READMEs.
  Formats: PEFT (Transformers), GGUF LoRA (llama.cpp --lora), MLX (mlx-lm) and/or the base model with the adapter
  merged as ONNX (ONNX Runtime), plus manifest.json (base weights' SHA-256, tokenizer hash, LoRA settings, the
  target profile's predicted inference memory) and a README per format with the command to use it. Several formats:
  --format peft,gguf. --out defaults to RUN_DIR/exports. Writes all files or none; never replaces existing files
  unless --force. --dry-run prints each format's size and the files that would be replaced, writing nothing.
  ONNX has no bf16: --dtype bf16 writes its weights in f16.`;

export async function cmdExport(argv: string[]): Promise<number> {
  const v = parseFlags(argv, {
    run: { type: 'string' }, format: { type: 'string' }, out: { type: 'string' }, dtype: { type: 'string' }, force: { type: 'boolean' },
    model: { type: 'string' }, profile: { type: 'string' }, 'seq-len': { type: 'string' }, 'dry-run': { type: 'boolean' }, json: { type: 'boolean' },
  }, 'export');
  const runDir = required(v, 'run', 'export');
  const formats = parseFormats(required(v, 'format', 'export'));
  const dtype = choiceFlag(v, 'dtype', 'export', ['f32', 'f16', 'bf16'] as const, 'f32') as ExportDType;
  const modelDir = v.model as string | undefined;
  if (v['dry-run']) {
    const p = await previewExport({ runDir, formats, dtype, modelDir, outDir: v.out as string | undefined });
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
  const r = await exportRun(
    { runDir, formats, outDir: v.out as string | undefined, dtype, overwrite: !!v.force, modelDir, profile: v.profile as string | undefined, seqLen },
    (p) => {
      if (!json) process.stderr.write(`  ${p.message}\n`);
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
  console.log(`\nwrote ${r.files.length} files to ${r.outDir} in ${r.seconds.toFixed(1)} s; how to use them: ${relative(process.cwd(), `${r.outDir}/README.md`)}`);
  return 0;
}

export const IMPORT_HELP = `mesp import-adapter --from FILE_OR_DIR --out DIR [--format peft|gguf|mlx] [--model DIR] [--force] [--json]
  Read an exported adapter (PEFT, GGUF or MLX) back as a PEFT folder for \`mesp train --init-adapter\`.
  --from: a PEFT folder, a GGUF LoRA file or an mlx-lm adapter folder (the format is detected when --format is
  absent). The PEFT folder is written in f32, all files or none. With --model, checks that it fits that base model.`;

export async function cmdImportAdapter(argv: string[]): Promise<number> {
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
  const r = await importAdapter({ from: required(v, 'from', 'import-adapter'), outDir: required(v, 'out', 'import-adapter'), format, modelDir: v.model as string | undefined, overwrite: !!v.force });
  if (v.json) {
    process.stdout.write(JSON.stringify(r) + '\n');
    return 0;
  }
  console.log(`read a ${r.format.toUpperCase()} LoRA adapter (r ${r.rank}, alpha ${r.alpha}, ${r.targets.join(', ')}, ${r.layers} layers, base ${r.baseModel})`);
  console.log(`wrote the PEFT adapter to ${r.outDir}: use it with \`mesp train --init-adapter ${relative(process.cwd(), r.outDir) || r.outDir}\``);
  return 0;
}

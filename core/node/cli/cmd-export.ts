// `mesp export` (a run's adapter as PEFT, GGUF LoRA, MLX and merged ONNX, with manifest.json and READMEs) and
// `mesp import-adapter` (any of our PEFT, GGUF or MLX outputs back to a PEFT folder for `mesp train --init-adapter`).
// Both call the service in core/node/export.ts, as the app does. Bad input (a run without an adapter, an unknown
// format, a destination we cannot write, an adapter that does not fit) exits with code 5 and writes nothing.
import { relative } from 'node:path';
import { z } from 'zod';
import { described } from '../../api/fields';
import { ExportRequestSchema, ImportRequestSchema } from '../../api/export';
import { exportRun, importAdapter, previewExport } from '../export';
import { command } from './flags';
import { formatBytes, mb, table } from './format';

const JsonOption = z.object({ json: described(z.boolean().default(false), { label: 'JSON', group: 'options', help: 'print the result as one JSON object' }) });
const ExportOptions = JsonOption.extend({
  dryRun: described(z.boolean().default(false), { label: 'Dry run', group: 'options', help: 'print each format\'s size and the files that would be replaced; write nothing' }),
});

export const EXPORT = command({
  usage: ['mesp export --run RUN_DIR --format peft|gguf|mlx|onnx|all [--out DIR] [--dtype f32|f16|bf16] [--force] [--dry-run] [--json]'],
  about: 'Export a trained adapter for phones: PEFT (Transformers), GGUF LoRA (llama.cpp --lora), MLX (mlx-lm) and/or the base\n' +
    'model with the adapter merged as ONNX (ONNX Runtime), plus manifest.json (base weights\' SHA-256, tokenizer hash,\n' +
    'LoRA settings, the target profile\'s predicted inference memory) and a README per format with the command to use\n' +
    'it. Writes all files or none; never replaces existing files unless --force.',
  shape: [ExportRequestSchema, ExportOptions],
  schema: ExportRequestSchema.extend(ExportOptions.shape),
});

export async function cmdExport(argv: string[]): Promise<number> {
  const { values: v } = EXPORT.parse(argv);
  const { json, dryRun, ...req } = v;
  if (dryRun) {
    const p = previewExport(req);
    if (json) {
      process.stdout.write(JSON.stringify(p) + '\n');
      return 0;
    }
    console.log(`run ${p.runDir}: base ${p.baseModel}, LoRA r ${p.lora.rank}, alpha ${p.lora.alpha}, ${p.lora.targets.join(', ')} on ${p.lora.layers} layers\n`);
    console.log(table(['format', 'dtype', 'file', 'size'], p.formats.flatMap((f) => f.files.map((x) => [f.format, f.dtype, x.relPath, `${x.exact ? '' : '≈ '}${formatBytes(x.bytes)}`]))));
    if (p.existing.length) console.log(`\nwould replace (needs --force): ${p.existing.join(', ')}`);
    return 0;
  }
  const r = await exportRun(
    req,
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

export const IMPORT = command({
  usage: ['mesp import-adapter --from FILE_OR_DIR --out DIR [--format peft|gguf|mlx] [--model DIR] [--force] [--json]'],
  about: 'Read an exported adapter (PEFT, GGUF or MLX) back as a PEFT folder for `mesp train --init-adapter`, in f32, all files\n' +
    'or none. With --model, checks that it fits that base model.',
  shape: [ImportRequestSchema, JsonOption],
  schema: ImportRequestSchema.extend(JsonOption.shape),
});

export function cmdImportAdapter(argv: string[]): number {
  const { values: v } = IMPORT.parse(argv);
  const { json: _json, ...req } = v;
  const r = importAdapter(req);
  if (v.json) {
    process.stdout.write(JSON.stringify(r) + '\n');
    return 0;
  }
  console.log(`read a ${r.format.toUpperCase()} LoRA adapter (r ${r.rank}, alpha ${r.alpha}, ${r.targets.join(', ')}, ${r.layers} layers, base ${r.baseModel})`);
  console.log(`wrote the PEFT adapter to ${r.outDir}: use it with \`mesp train --init-adapter ${relative(process.cwd(), r.outDir) || r.outDir}\``);
  return 0;
}

// `mesp export` (a run's adapter as PEFT, GGUF LoRA, MLX and merged ONNX; the base and merged model as GGUF with an
// Ollama Modelfile; the merged model as Hugging Face safetensors; with manifest.json, the parity measured in llama.cpp
// and READMEs) and
// `mesp import-adapter` (any of our PEFT, GGUF or MLX outputs back to a PEFT folder for `mesp train --init-adapter`).
// Both call the service in core/node/export.ts, as the app does. Bad input (a run without an adapter, an unknown
// format, a destination we cannot write, an adapter that does not fit) exits with code 5 and writes nothing.
import { relative } from 'node:path';
import { z } from 'zod';
import { described } from '../../api/fields';
import { EXPORT_FORMATS, ExportRequestSchema, GGUF_TYPES, ImportRequestSchema, type ExportResult } from '../../api/export';
import { exportRun, importAdapter, previewExport } from '../export';
import { command } from './flags';
import { formatBytes, mb, table } from './format';
import { ProgressBar } from './progress';

const JsonOption = z.object({ json: described(z.boolean().default(false), { label: 'JSON', group: 'options', help: 'print the result as one JSON object' }) });
const ExportOptions = JsonOption.extend({
  dryRun: described(z.boolean().default(false), { label: 'Dry run', group: 'options', help: 'print each format\'s size and the files that would be replaced; write nothing' }),
});

export const EXPORT = command({
  usage: [
    `mesp export --run RUN_DIR --format ${EXPORT_FORMATS.join('|')}|all [--out DIR] [--dtype f32|f16|bf16]`,
    `            [--gguf-type ${GGUF_TYPES.join('|')}] [--parity-rows N] [--force] [--model DIR] [--profile ID|FILE] [--seq-len N] [--dry-run] [--json]`,
  ],
  about: 'Export a trained run for phones and servers, with manifest.json (base weights\' SHA-256, tokenizer hash, LoRA\n' +
    'settings, the target profile\'s predicted inference memory, the parity measured in llama.cpp) and a README per format\n' +
    'with the command to use it. Formats, comma-separated, or all:\n' +
    '  peft         the adapter for Transformers + PEFT\n' +
    '  gguf         the adapter as a GGUF LoRA (llama.cpp --lora, Ollama ADAPTER)\n' +
    '  gguf-base    the base model as GGUF (llama.cpp -m base.gguf --lora adapter.gguf), with an Ollama Modelfile\n' +
    '  gguf-merged  the base with the adapter merged in, as GGUF (llama.cpp, Ollama), with a Modelfile\n' +
    '  mlx          the adapter for mlx-lm\n' +
    '  onnx         the merged model as ONNX (ONNX Runtime, web and mobile)\n' +
    '  hf-merged    the merged model as a plain Hugging Face folder (transformers, vLLM), in the base\'s dtype\n' +
    '--dtype is the adapters\' precision (ONNX has no bf16: --dtype bf16 writes its weights in f16); --gguf-type the GGUF\n' +
    'models\' storage. Merged formats start from the base checkpoint\'s own weights, also after a --quant int4 run. With a\n' +
    'GGUF model and node-llama-cpp installed, llama.cpp\'s loss on --parity-rows rows of the run\'s data is compared with\n' +
    'our engine\'s and recorded in manifest.json. Writes all files or none; never replaces existing files unless --force.',
  shape: [ExportRequestSchema, ExportOptions],
  schema: ExportRequestSchema.extend(ExportOptions.shape),
});

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
  const { values: v } = EXPORT.parse(argv);
  const { json, dryRun, ...req } = v;
  if (dryRun) {
    const p = await previewExport(req);
    if (json) {
      process.stdout.write(JSON.stringify(p) + '\n');
      return 0;
    }
    console.log(`run ${p.runDir}: base ${p.baseModel}, LoRA r ${p.lora.rank}, alpha ${p.lora.alpha}, ${p.lora.targets.join(', ')} on ${p.lora.layers} layers\n`);
    console.log(table(['format', 'dtype', 'file', 'size'], p.formats.flatMap((f) => f.files.map((x) => [f.format, f.dtype, x.relPath, `${x.exact ? '' : '≈ '}${formatBytes(x.bytes)}`]))));
    if (p.existing.length) console.log(`\nwould replace (needs --force): ${p.existing.join(', ')}`);
    return 0;
  }
  let bar: ProgressBar | null = null;
  let barFormat = '';
  const r = await exportRun(
    req,
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

export const IMPORT = command({
  usage: ['mesp import-adapter --from FILE_OR_DIR --out DIR [--format peft|gguf|mlx] [--model DIR] [--force] [--json]'],
  about: 'Read an exported adapter (PEFT, GGUF or MLX) back as a PEFT folder for `mesp train --init-adapter`, in f32, all files\n' +
    'or none. With --model, checks that it fits that base model.',
  shape: [ImportRequestSchema, JsonOption],
  schema: ImportRequestSchema.extend(JsonOption.shape),
});

export async function cmdImportAdapter(argv: string[]): Promise<number> {
  const { values: v } = IMPORT.parse(argv);
  const { json: _json, ...req } = v;
  const r = await importAdapter(req);
  if (v.json) {
    process.stdout.write(JSON.stringify(r) + '\n');
    return 0;
  }
  console.log(`read a ${r.format.toUpperCase()} LoRA adapter (r ${r.rank}, alpha ${r.alpha}, ${r.targets.join(', ')}, ${r.layers} layers, base ${r.baseModel})`);
  console.log(`wrote the PEFT adapter to ${r.outDir}: use it with \`mesp train --init-adapter ${relative(process.cwd(), r.outDir) || r.outDir}\``);
  return 0;
}

// The deployment bundle of an export: where each format's files go, the per-folder README with the exact command
// to use them (llama.cpp's `llama-cli -m base.gguf --lora adapter.gguf`, Ollama's `ollama create -f Modelfile`,
// mlx-lm's `load(..., adapter_path=...)`, an ONNX Runtime session, PEFT's `PeftModel.from_pretrained`,
// transformers' / vLLM's plain load of the merged folder), the bundle README, and manifest.json
// (core/api/export.ts BundleManifest).
// Layout of a bundle folder:
//   manifest.json, README.md
//   peft/       adapter_config.json, adapter_model.safetensors, README.md
//   gguf/       adapter.gguf (gguf), base.gguf (gguf-base), merged.gguf (gguf-merged), Modelfile (with a GGUF model),
//               README.md: one folder for llama.cpp and Ollama, whichever of the three are exported
//   mlx/        adapters.safetensors, adapter_config.json, README.md
//   onnx/       model.onnx [, model.onnx.data], tokenizer.json, tokenizer_config.json (when the base has them), README.md
//   hf-merged/  config.json, model-0000i-of-0000n.safetensors, model.safetensors.index.json, the tokenizer files, README.md
// Pure TS: text and objects only (core/node hashes and writes the files).
import type { BundleManifest, ExportDType, ExportFormat, FileDType, GgufType, Parity } from '../api/export';

export const BUNDLE_FILES = {
  manifest: 'manifest.json',
  readme: 'README.md',
  peft: { config: 'peft/adapter_config.json', weights: 'peft/adapter_model.safetensors', readme: 'peft/README.md' },
  gguf: { adapter: 'gguf/adapter.gguf', base: 'gguf/base.gguf', merged: 'gguf/merged.gguf', modelfile: 'gguf/Modelfile', readme: 'gguf/README.md' },
  mlx: { config: 'mlx/adapter_config.json', weights: 'mlx/adapters.safetensors', readme: 'mlx/README.md' },
  onnx: { model: 'onnx/model.onnx', data: 'onnx/model.onnx.data', tokenizer: 'onnx/tokenizer.json', tokenizerConfig: 'onnx/tokenizer_config.json', readme: 'onnx/README.md' },
  hf: { dir: 'hf-merged', readme: 'hf-merged/README.md' },
} as const;

/** The folder (and README) each format is written to: the GGUF formats share gguf/. */
export const FORMAT_FOLDER: Record<ExportFormat, 'peft' | 'gguf' | 'mlx' | 'onnx' | 'hf-merged'> = {
  peft: 'peft', gguf: 'gguf', 'gguf-base': 'gguf', 'gguf-merged': 'gguf', mlx: 'mlx', onnx: 'onnx', 'hf-merged': 'hf-merged',
};

/** The README of a format's folder, relative to the bundle. */
export function readmeOf(format: ExportFormat): string {
  return `${FORMAT_FOLDER[format]}/README.md`;
}

/**
 * What a format's weights are written in: the requested dtype for the adapters (ONNX has no bf16 path: f16), the GGUF
 * type for the GGUF models, the base checkpoint's own dtype for the merged safetensors.
 */
export function formatDType(format: ExportFormat, dtype: ExportDType, ggufType: GgufType = 'f16', baseDType: ExportDType = 'f32'): FileDType {
  if (format === 'gguf-base' || format === 'gguf-merged') return ggufType;
  if (format === 'hf-merged') return baseDType;
  return format === 'onnx' && dtype === 'bf16' ? 'f16' : dtype;
}

export interface ReadmeContext {
  /** Publishable base model name: a hub id ("Qwen/Qwen2.5-0.5B") or a folder name. */
  baseModel: string;
  rank: number;
  alpha: number;
  targets: string[];
  dtype: ExportDType;
  /** The ONNX weights live in model.onnx.data. */
  onnxExternal?: boolean;
  /** The ONNX folder carries tokenizer.json. */
  onnxTokenizer?: boolean;
  vocab: number;
  profile?: { name: string; predictedPeakBytes: number; capBytes: number; seqLen: number };
  /** The GGUF files in gguf/ (which of the three were exported) and the GGUF models' type. */
  gguf?: { adapter: boolean; base: boolean; merged: boolean; type: GgufType; modelfile: boolean; chatMl: boolean };
  /** The merged safetensors: the base's dtype and the number of shards. */
  hf?: { dtype: string; shards: number };
  /** The parity measured in llama.cpp at export time. */
  parity?: Parity;
}

function isHubId(name: string): boolean {
  return /^[\w.-]+\/[\w.-]+$/.test(name);
}

/** How a user refers to the base model in commands: the hub id, or a local folder they must supply. */
function baseRef(ctx: ReadmeContext): { ref: string; note: string } {
  if (isHubId(ctx.baseModel)) return { ref: ctx.baseModel, note: '' };
  return {
    ref: `./${ctx.baseModel}`,
    note: `The base model "${ctx.baseModel}" is a local folder, not a Hugging Face hub id: put its folder (config.json, model.safetensors, tokenizer files) at ./${ctx.baseModel} or change the path below.\n\n`,
  };
}

const mb = (n: number): string => `${(n / 1e6).toFixed(1)} MB`;

/** One line on the parity measured in llama.cpp, for the READMEs. */
export function parityLines(p: Parity | undefined): string[] {
  if (!p) return [];
  if (p.status === 'skipped') return [`Parity in llama.cpp was not measured at export: ${p.reason}.`];
  const rows = p.data ? `${p.data.rows} ${p.data.split} rows of ${p.data.file}` : 'the run\'s rows';
  return [
    `Parity measured at export in ${p.checks[0]?.runtimeVersion ?? 'llama.cpp'}, on ${rows} (mean next-token loss per row):`,
    ...p.checks.map((c) => {
      const what = `${c.files.join(' + ')} (${c.modelType}${c.adapterDType ? `, adapter ${c.adapterDType}` : ''})`;
      return `- ${what}: within ${c.maxRelDiff.toExponential(2)} relative of our engine on the same weights (bound ${c.bound.toExponential(0)}: ${c.pass ? 'pass' : 'FAIL'}); ` +
        `${c.maxRelDiffVsF32.toExponential(2)} from the f32 model it was made from.`;
    }),
  ];
}

const GGUF_TYPE_TEXT: Record<GgufType, string> = {
  f32: 'f32', f16: 'f16', q8_0: 'q8_0 (8-bit blocks of 32)', q4_0: 'q4_0 (4-bit blocks of 32; embedding and LM head in q8_0)',
};

function ggufReadme(ctx: ReadmeContext, lora: string, ref: string, note: string): string {
  const g = ctx.gguf ?? { adapter: true, base: false, merged: false, type: 'f16' as GgufType, modelfile: false, chatMl: false };
  const files: string[] = [];
  if (g.adapter) files.push(`\`adapter.gguf\`: the LoRA adapter (${lora}; tensors in ${ctx.dtype}; general.type "adapter", the layout of llama.cpp's convert_lora_to_gguf.py)`);
  if (g.base) files.push(`\`base.gguf\`: the base model alone, ${GGUF_TYPE_TEXT[g.type]}, for use with the adapter`);
  if (g.merged) files.push(`\`merged.gguf\`: the base with the adapter merged in (W + (alpha/r)·B·A), ${GGUF_TYPE_TEXT[g.type]}`);
  if (g.modelfile) files.push('`Modelfile`: for Ollama');
  const out = [
    g.base || g.merged ? '# GGUF for llama.cpp and Ollama' : '# GGUF LoRA adapter for llama.cpp',
    '',
    'Files:',
    ...files.map((f) => `- ${f}`),
    '',
    'The GGUF models carry the tokenizer and the chat template (`tokenizer.ggml.*`, `tokenizer.chat_template`).',
    '',
  ];
  if (!g.base && !g.merged) {
    out.push(
      `The adapter is applied at run time on top of a GGUF of the same base model. ${note}`,
      `1. Get the base as GGUF: \`mesp export --format gguf-base\` writes \`base.gguf\` next to the adapter, or convert it in a llama.cpp checkout:`,
      `   \`python convert_hf_to_gguf.py ${ref} --outfile base.gguf --outtype f16\` (quantize it if you like; the adapter works with any quantization).`,
      '2. Run with the adapter:',
      '',
    );
  } else {
    out.push('## llama.cpp', '', 'From the bundle folder, with llama.cpp\'s `llama-cli` / `llama-server`:', '');
  }
  const base = g.base ? 'gguf/base.gguf' : 'base.gguf';
  out.push('```sh');
  if (g.adapter) {
    out.push(
      `llama-cli -m ${base} --lora gguf/adapter.gguf -p "Hello"              # the base with the adapter`,
      `llama-cli -m ${base} --lora gguf/adapter.gguf -cnv                    # chat, with the chat template in the GGUF`,
      `llama-server -m ${base} --lora gguf/adapter.gguf                     # or serve it (OpenAI-compatible API)`,
      `llama-cli -m ${base} --lora-scaled gguf/adapter.gguf 0.5 -p "Hello"   # half strength`,
    );
  } else if (g.base) {
    out.push('llama-cli -m gguf/base.gguf -p "Hello"                              # the base model alone');
  }
  if (g.merged) out.push('llama-cli -m gguf/merged.gguf -p "Hello"                             # the merged model, no adapter needed');
  out.push('```', '');
  if (g.adapter) {
    out.push(
      'On Android and iOS apps built on llama.cpp, load the adapter with `llama_adapter_lora_init(model, "adapter.gguf")`.',
      `To bake it into a base GGUF (of any quantization): \`llama-export-lora -m ${base} --lora gguf/adapter.gguf -o merged.gguf\`.`,
      '',
    );
  }
  if (g.modelfile) {
    out.push(
      '## Ollama',
      '',
      `\`Modelfile\` points at ${g.adapter && g.base ? '`base.gguf` (FROM) and `adapter.gguf` (ADAPTER)' : '`merged.gguf` (FROM)'}, with the chat template as TEMPLATE, its default system prompt as SYSTEM and the end-of-turn tokens as PARAMETER stop.`,
      ...(g.chatMl ? [] : ['The chat template is not ChatML, so TEMPLATE is a plain `{{ .Prompt }}`: write the Go template of your chat format by hand.']),
      '',
      '```sh',
      'ollama create my-model -f gguf/Modelfile     # paths in the Modelfile are relative to it',
      'ollama run my-model "Hello"',
      '```',
      '',
    );
  }
  const parity = g.base || g.merged ? parityLines(ctx.parity) : [];
  if (parity.length) out.push(...parity, '');
  return out.join('\n');
}

function hfReadme(ctx: ReadmeContext, lora: string, ref: string): string {
  const h = ctx.hf ?? { dtype: 'the base dtype', shards: 1 };
  return `# Merged Hugging Face model

The base model with the adapter merged into its weights (W + (alpha/r)·B·A; ${lora}), as a plain Qwen2 checkpoint:
\`config.json\` (the base's), ${h.shards} safetensors shard${h.shards === 1 ? '' : 's'} (each under 2 GB) with \`model.safetensors.index.json\`,
the tokenizer files, weights in ${h.dtype} (the base's dtype). No PEFT needed.

Transformers (\`pip install transformers\`):

\`\`\`python
from transformers import AutoModelForCausalLM, AutoTokenizer

model = AutoModelForCausalLM.from_pretrained("hf-merged", torch_dtype="auto")  # this folder
tokenizer = AutoTokenizer.from_pretrained("hf-merged")
inputs = tokenizer.apply_chat_template([{"role": "user", "content": "Hello"}], add_generation_prompt=True, return_tensors="pt")
print(tokenizer.decode(model.generate(inputs, max_new_tokens=32)[0]))
\`\`\`

vLLM: \`vllm serve ./hf-merged\` (or \`LLM(model="hf-merged")\`). To push it to the hub: \`huggingface-cli upload NAME hf-merged\`.
The original base is ${ref}.
`;
}

/** The README of one format, with the exact commands, run from the bundle folder. */
export function formatReadme(format: ExportFormat, ctx: ReadmeContext): string {
  const { ref, note } = baseRef(ctx);
  const lora = `LoRA rank ${ctx.rank}, alpha ${ctx.alpha} (scale alpha/r = ${+(ctx.alpha / ctx.rank).toPrecision(6)}), targets ${ctx.targets.join(', ')}`;
  switch (format) {
    case 'peft':
      return `# PEFT adapter

${lora}, weights in ${ctx.dtype}. Files: \`adapter_config.json\`, \`adapter_model.safetensors\` (Hugging Face PEFT layout).

${note}Load it on top of the base model with Transformers and PEFT (\`pip install transformers peft\`):

\`\`\`python
from transformers import AutoModelForCausalLM, AutoTokenizer
from peft import PeftModel

base = AutoModelForCausalLM.from_pretrained("${ref}")
tokenizer = AutoTokenizer.from_pretrained("${ref}")
model = PeftModel.from_pretrained(base, "peft")  # this folder
inputs = tokenizer("Hello", return_tensors="pt")
print(tokenizer.decode(model.generate(**inputs, max_new_tokens=32)[0]))
\`\`\`

To continue training with MeSP Studio: \`mesp train --model ${ref} --init-adapter peft ...\`.
`;
    case 'gguf':
    case 'gguf-base':
    case 'gguf-merged':
      return ggufReadme(ctx, lora, ref, note);
    case 'hf-merged':
      return hfReadme(ctx, lora, ref);
    case 'mlx':
      return `# MLX adapter for mlx-lm

${lora}, weights in ${ctx.dtype}. Files: \`adapters.safetensors\`, \`adapter_config.json\` (mlx-lm's layout: lora_a (in, r),
lora_b (r, out), lora_parameters.scale = alpha/r).

${note}On a Mac (or with MLX Swift on iOS), \`pip install mlx-lm\`:

\`\`\`python
from mlx_lm import load, generate

model, tokenizer = load("${ref}", adapter_path="mlx")  # this folder
print(generate(model, tokenizer, prompt="Hello", max_tokens=32))
\`\`\`

From the command line: \`mlx_lm.generate --model ${ref} --adapter-path mlx --prompt "Hello"\`.
To fuse it into the base: \`mlx_lm.fuse --model ${ref} --adapter-path mlx --save-path fused\`.
`;
    case 'onnx': {
      const files = ['`model.onnx`', ...(ctx.onnxExternal ? ['`model.onnx.data` (the weights; keep it next to model.onnx)'] : []), ...(ctx.onnxTokenizer ? ['`tokenizer.json`', '`tokenizer_config.json`'] : [])];
      const tok = ctx.onnxTokenizer ? 'tokenizer.json' : `the base model's tokenizer.json`;
      return `# Merged ONNX model

The base model with the adapter merged into its weights (W + (alpha/r)·B·A; ${lora}). Opset 17, weights stored in
${ctx.dtype} (computed in float32). Input \`input_ids\` int64 [batch, sequence], output \`logits\` float32
[batch, sequence, ${ctx.vocab}]; no KV cache (each call runs the whole sequence). Files: ${files.join(', ')}.

ONNX Runtime (Python, \`pip install onnxruntime tokenizers numpy\`):

\`\`\`python
import numpy as np, onnxruntime as ort
from tokenizers import Tokenizer

${ctx.onnxTokenizer ? '' : "# the base model's tokenizer.json (not in this bundle)\n"}tokenizer = Tokenizer.from_file("${ctx.onnxTokenizer ? 'onnx/tokenizer.json' : 'tokenizer.json'}")
session = ort.InferenceSession("onnx/model.onnx", providers=["CPUExecutionProvider"])
ids = np.array([tokenizer.encode("Hello").ids], dtype=np.int64)
logits = session.run(["logits"], {"input_ids": ids})[0]   # (1, T, ${ctx.vocab})
print(int(logits[0, -1].argmax()))                        # the next token
\`\`\`

ONNX Runtime Web / React Native (\`npm install onnxruntime-web\` or \`onnxruntime-react-native\`):

\`\`\`js
import * as ort from 'onnxruntime-web';
const session = await ort.InferenceSession.create('onnx/model.onnx'${ctx.onnxExternal ? ", { externalData: ['onnx/model.onnx.data'] }" : ''});
const ids = BigInt64Array.from([/* token ids from ${tok} */].map(BigInt));
const { logits } = await session.run({ input_ids: new ort.Tensor('int64', ids, [1, ids.length]) });
\`\`\`

ONNX Runtime Mobile (Android/iOS) runs the same file with \`OrtSession\`/\`ORTSession\`; convert it to the ORT format
for a smaller runtime: \`python -m onnxruntime.tools.convert_onnx_models_to_ort onnx/model.onnx\`.
`;
    }
  }
}

/** Every Markdown heading one level down (a folder's README becomes a section), code blocks left as they are. */
function demoteHeadings(text: string): string {
  let code = false;
  return text.split('\n').map((line) => {
    if (line.startsWith('```')) code = !code;
    return !code && /^#+ /.test(line) ? `#${line}` : line;
  }).join('\n');
}

/** The bundle's README.md: what is here, the target device's predicted memory, then each format's section. */
export function bundleReadme(formats: readonly ExportFormat[], ctx: ReadmeContext): string {
  const head = [
    `# ${ctx.baseModel} + LoRA: deployment bundle`,
    '',
    `Exported by MeSP Studio. LoRA rank ${ctx.rank}, alpha ${ctx.alpha}, targets ${ctx.targets.join(', ')}. See manifest.json for the`,
    'SHA-256 of the base weights the adapter was trained on, the tokenizer hash and every file here.',
    '',
  ];
  if (ctx.profile) {
    const p = ctx.profile;
    head.push(
      `Target device: ${p.name}. Predicted GPU memory of one ${p.seqLen}-token forward with the adapter (MeSP engine): ` +
        `${mb(p.predictedPeakBytes)} of a ${mb(p.capBytes)} budget${p.predictedPeakBytes > p.capBytes ? ' — OVER the budget: use a quantized base or a shorter context' : ''}.`,
      '',
    );
  }
  const folders = [...new Set(formats.map((f) => FORMAT_FOLDER[f]))];
  const sections = folders.map((d) => demoteHeadings(formatReadme(formats.find((f) => FORMAT_FOLDER[f] === d)!, ctx)));
  return [...head, ...sections].join('\n');
}

export interface ManifestInput {
  createdAt: string;
  producer: string;
  baseModel: BundleManifest['baseModel'];
  tokenizer: BundleManifest['tokenizer'];
  lora: BundleManifest['lora'];
  training: BundleManifest['training'];
  quantization: BundleManifest['quantization'];
  target: BundleManifest['target'];
  files: BundleManifest['files'];
  formats: readonly ExportFormat[];
  parity?: Parity;
}

/** manifest.json's object (validated by BundleManifestSchema in core/api/export.ts). */
export function buildManifest(m: ManifestInput): BundleManifest {
  const readmes: Record<string, string> = {};
  for (const f of m.formats) readmes[f] = readmeOf(f);
  return {
    kind: 'mesp-export', version: 1, createdAt: m.createdAt, producer: m.producer, baseModel: m.baseModel,
    tokenizer: m.tokenizer, lora: m.lora, training: m.training, quantization: m.quantization, target: m.target,
    files: m.files, readmes, ...(m.parity ? { parity: m.parity } : {}),
  };
}

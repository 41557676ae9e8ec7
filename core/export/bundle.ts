// The deployment bundle of an export: where each format's files go, the per-format README with the exact command
// to use them (llama.cpp's `llama-cli --lora`, mlx-lm's `load(..., adapter_path=...)`, an ONNX Runtime session,
// PEFT's `PeftModel.from_pretrained`), the bundle README, and manifest.json (core/api/export.ts BundleManifest).
// Layout of a bundle folder:
//   manifest.json, README.md
//   peft/  adapter_config.json, adapter_model.safetensors, README.md
//   gguf/  adapter.gguf, README.md
//   mlx/   adapters.safetensors, adapter_config.json, README.md
//   onnx/  model.onnx [, model.onnx.data], tokenizer.json, tokenizer_config.json (when the base has them), README.md
// Pure TS: text and objects only (core/node hashes and writes the files).
import type { BundleManifest, ExportDType, ExportFormat } from '../api/export';

export const BUNDLE_FILES = {
  manifest: 'manifest.json',
  readme: 'README.md',
  peft: { config: 'peft/adapter_config.json', weights: 'peft/adapter_model.safetensors', readme: 'peft/README.md' },
  gguf: { adapter: 'gguf/adapter.gguf', readme: 'gguf/README.md' },
  mlx: { config: 'mlx/adapter_config.json', weights: 'mlx/adapters.safetensors', readme: 'mlx/README.md' },
  onnx: { model: 'onnx/model.onnx', data: 'onnx/model.onnx.data', tokenizer: 'onnx/tokenizer.json', tokenizerConfig: 'onnx/tokenizer_config.json', readme: 'onnx/README.md' },
} as const;

/** The dtype a format is written in for a requested dtype: ONNX has no bf16 path, it gets f16. */
export function formatDType(format: ExportFormat, dtype: ExportDType): ExportDType {
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
      return `# GGUF LoRA adapter for llama.cpp

${lora}, tensors in ${ctx.dtype === 'bf16' ? 'bf16' : ctx.dtype}. File: \`adapter.gguf\` (general.type "adapter", adapter.type "lora",
the layout of llama.cpp's convert_lora_to_gguf.py). It is applied at run time on top of a GGUF of the same base model.

${note}1. Convert the base model once (llama.cpp checkout): \`python convert_hf_to_gguf.py ${ref} --outfile base.gguf --outtype f16\`
   (quantize it if you like: \`llama-quantize base.gguf base-q4_k_m.gguf Q4_K_M\`; the adapter works with any quantization).
2. Run with the adapter:

\`\`\`sh
llama-cli -m base.gguf --lora gguf/adapter.gguf -p "Hello"
llama-server -m base.gguf --lora gguf/adapter.gguf          # or serve it
llama-cli -m base.gguf --lora-scaled gguf/adapter.gguf 0.5 -p "Hello"   # half strength
\`\`\`

On Android and iOS apps built on llama.cpp, load it with \`llama_adapter_lora_init(model, "adapter.gguf")\`.
To bake it into the base: \`llama-export-lora -m base.gguf --lora gguf/adapter.gguf -o merged.gguf\`.
`;
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
  const sections = formats.map((f) => formatReadme(f, ctx).replace(/^# /, '## ').replace(/\n# /g, '\n## '));
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
}

/** manifest.json's object (validated by BundleManifestSchema in core/api/export.ts). */
export function buildManifest(m: ManifestInput): BundleManifest {
  const readmes: Record<string, string> = {};
  for (const f of m.formats) readmes[f] = BUNDLE_FILES[f].readme;
  return {
    kind: 'mesp-export', version: 1, createdAt: m.createdAt, producer: m.producer, baseModel: m.baseModel,
    tokenizer: m.tokenizer, lora: m.lora, training: m.training, quantization: m.quantization, target: m.target,
    files: m.files, readmes,
  };
}

// A Qwen2 model as a GGUF file llama.cpp loads (`llama-cli -m model.gguf`): the base alone (for `--lora adapter.gguf`)
// or with a LoRA adapter merged in (core/export/merge.ts), in the layout of llama.cpp's convert_hf_to_gguf.py for
// Qwen2ForCausalLM and the tensors its qwen2 loader creates (src/llama-model.cpp, LLM_ARCH_QWEN2):
//   token_embd.weight                    ne [C, V]        model.embed_tokens.weight (V, C)
//   blk.{i}.attn_norm.weight             ne [C]           model.layers.{i}.input_layernorm.weight
//   blk.{i}.attn_q.weight / .bias        ne [C, NH·HS] / [NH·HS]    self_attn.q_proj (out, in) / bias
//   blk.{i}.attn_k.weight / .bias        ne [C, NKV·HS] / [NKV·HS]  self_attn.k_proj
//   blk.{i}.attn_v.weight / .bias        ne [C, NKV·HS] / [NKV·HS]  self_attn.v_proj
//   blk.{i}.attn_output.weight           ne [NH·HS, C]    self_attn.o_proj
//   blk.{i}.ffn_norm.weight              ne [C]           post_attention_layernorm.weight
//   blk.{i}.ffn_gate/ffn_up.weight       ne [C, I]        mlp.gate_proj / up_proj
//   blk.{i}.ffn_down.weight              ne [I, C]        mlp.down_proj
//   output_norm.weight                   ne [C]           model.norm.weight
//   output.weight                        ne [C, V]        lm_head.weight, only when untied (llama.cpp reuses
//                                                         token_embd when output is absent)
// ne is the HF shape reversed (ne[0] = the contiguous "in" dimension), so a row-major HF matrix is written as is; no
// q/k permutation (qwen2 uses NEOX RoPE, rotate-half, as HF). Metadata: general.architecture "qwen2", the qwen2.*
// hyperparameters (context_length, embedding_length, block_count, feed_forward_length, attention.head_count,
// attention.head_count_kv, rope.freq_base, attention.layer_norm_rms_epsilon), general.file_type (llama_ftype), and
// the tokenizer (core/export/gguf-tokenizer.ts). Storage by --gguf-type: 2-D tensors in F32, F16, Q8_0 or Q4_0 (in
// Q4_0 files the embedding and the LM head are Q8_0, as llama-quantize keeps the output tensor at higher precision);
// a matrix whose rows are not a multiple of 32 falls back to F16; norms and biases are always F32.
// Pure TS: tensors come from a reader (HF name → f32 values); the file is streamed tensor by tensor.
import type { GgufType } from '../api/export';
import { FormatError, ShapeError } from '../common/errors';
import type { Qwen2Config } from '../model/config';
import { PROJECTIONS, projName, projShape } from '../model/weights';
import type { HostAdapter } from '../train/lora';
import { GGUF_PROJ } from './gguf';
import {
  ggmlTensorBytes, ggufFloatBytes, ggufLayout, ggufTensorF32, kvF32, kvString, kvU32, parseGguf, writeGgufStream,
  type GgmlTensorType, type GgufFile, type GgufKv, type GgufTensorSpec,
} from './gguf-file';
import { QK } from './ggml-quant';
import { mergedReader, type TensorReader } from './merge';
import type { GgufTokenizer } from './gguf-tokenizer';

/** llama_ftype of each type (llama.h): ALL_F32 0, MOSTLY_F16 1, MOSTLY_Q4_0 2, MOSTLY_Q8_0 7. */
export const GGUF_FILE_TYPE: Record<GgufType, number> = { f32: 0, f16: 1, q4_0: 2, q8_0: 7 };
const QUANT_VERSION = 2; // gguf-py's GGML_QUANT_VERSION

export interface GgufModelTensor {
  /** The GGUF name (token_embd.weight, blk.0.attn_q.weight, ...). */
  name: string;
  /** The HF tensor it holds. */
  hf: string;
  ne: number[];
  type: GgmlTensorType;
}

/** The storage of a 2-D tensor in a file of type `t`: `role` "embed" for the embedding and the LM head. */
function matrixType(t: GgufType, ne0: number, role: 'embed' | 'proj'): GgmlTensorType {
  const want: GgmlTensorType = t === 'f32' ? 'F32' : t === 'f16' ? 'F16' : t === 'q8_0' || role === 'embed' ? 'Q8_0' : 'Q4_0';
  if ((want === 'Q8_0' || want === 'Q4_0') && ne0 % QK !== 0) return 'F16';
  return want;
}

/** Every tensor of the GGUF model in file order, with its HF source, ne and storage type. */
export function ggufModelTensors(cfg: Qwen2Config, type: GgufType): GgufModelTensor[] {
  const C = cfg.hidden;
  const out: GgufModelTensor[] = [];
  const vec = (name: string, hf: string, n: number): void => {
    out.push({ name, hf, ne: [n], type: 'F32' });
  };
  const mat = (name: string, hf: string, rows: number, cols: number, role: 'embed' | 'proj'): void => {
    out.push({ name, hf, ne: [cols, rows], type: matrixType(type, cols, role) }); // HF (rows, cols) → ne [cols, rows]
  };
  mat('token_embd.weight', 'model.embed_tokens.weight', cfg.vocab, C, 'embed');
  for (let l = 0; l < cfg.layers; l++) {
    const pre = `model.layers.${l}`;
    vec(`blk.${l}.attn_norm.weight`, `${pre}.input_layernorm.weight`, C);
    for (const p of PROJECTIONS) {
      const [rows, cols] = projShape(cfg, p);
      mat(`blk.${l}.${GGUF_PROJ[p]}.weight`, `${projName(l, p)}.weight`, rows, cols, 'proj');
      if (p === 'q' || p === 'k' || p === 'v') vec(`blk.${l}.${GGUF_PROJ[p]}.bias`, `${projName(l, p)}.bias`, rows);
      if (p === 'o') vec(`blk.${l}.ffn_norm.weight`, `${pre}.post_attention_layernorm.weight`, C);
    }
  }
  vec('output_norm.weight', 'model.norm.weight', C);
  if (!cfg.tied) mat('output.weight', 'lm_head.weight', cfg.vocab, C, 'embed');
  return out;
}

export interface GgufModelMeta {
  type: GgufType;
  /** general.name. */
  name: string;
  /** The base model's publishable name (hub id or folder name). */
  baseModel: string;
  /** The adapter merged in, for general.* provenance; null for the base alone. */
  merged: { rank: number; alpha: number } | null;
}

/** The model's metadata, in the order convert_hf_to_gguf.py writes it, then the tokenizer's. */
export function ggufModelMetadata(cfg: Qwen2Config, meta: GgufModelMeta, tokenizer: GgufTokenizer): GgufKv[] {
  const kvs: GgufKv[] = [
    kvString('general.architecture', 'qwen2'),
    kvString('general.type', 'model'),
    kvString('general.name', meta.name),
  ];
  if (meta.merged) {
    kvs.push(kvU32('general.base_model.count', 1), kvString('general.base_model.0.name', meta.baseModel));
    if (/^[\w.-]+\/[\w.-]+$/.test(meta.baseModel)) kvs.push(kvString('general.base_model.0.repo_url', `https://huggingface.co/${meta.baseModel}`));
  }
  kvs.push(
    kvU32('qwen2.block_count', cfg.layers),
    kvU32('qwen2.context_length', cfg.maxPositions),
    kvU32('qwen2.embedding_length', cfg.hidden),
    kvU32('qwen2.feed_forward_length', cfg.intermediate),
    kvU32('qwen2.attention.head_count', cfg.heads),
    kvU32('qwen2.attention.head_count_kv', cfg.kvHeads),
    kvF32('qwen2.rope.freq_base', cfg.ropeTheta),
    kvF32('qwen2.attention.layer_norm_rms_epsilon', cfg.eps),
    kvU32('general.file_type', GGUF_FILE_TYPE[meta.type]),
    kvU32('general.quantization_version', QUANT_VERSION),
    ...tokenizer.kvs,
  );
  return kvs;
}

export interface GgufModelPlan {
  kvs: GgufKv[];
  tensors: (GgufModelTensor & GgufTensorSpec)[];
  /** The file's size. */
  bytes: number;
}

/**
 * The GGUF model file of the base (adapter null) or of the base with the adapter merged in: metadata, tensors with
 * their producers (each reads its HF tensor, merges, converts; nothing is read until the file is written).
 */
export function ggufModelPlan(cfg: Qwen2Config, read: TensorReader, adapter: HostAdapter | null, meta: GgufModelMeta, tokenizer: GgufTokenizer): GgufModelPlan {
  if (tokenizer.tokens.length !== cfg.vocab) throw new ShapeError(`GGUF model writer: the tokenizer lists ${tokenizer.tokens.length} tokens, the model has ${cfg.vocab} embedding rows`);
  const source = mergedReader(cfg, adapter, read);
  const kvs = ggufModelMetadata(cfg, meta, tokenizer);
  const tensors = ggufModelTensors(cfg, meta.type).map((t) => ({
    ...t,
    produce: (): Uint8Array => {
      const v = source(t.hf);
      const n = t.ne.reduce((a, b) => a * b, 1);
      if (v.length !== n) throw new ShapeError(`GGUF model writer: ${t.hf} has ${v.length} values, ${t.name} ne [${t.ne.join(', ')}] needs ${n}`);
      return ggufFloatBytes(v, t.type);
    },
  }));
  return { kvs, tensors, bytes: ggufLayout(kvs, tensors).totalBytes };
}

/** Stream the planned file through `sink`; returns its size. */
export function writeGgufModel(plan: GgufModelPlan, sink: (chunk: Uint8Array) => void): number {
  return writeGgufStream(plan.kvs, plan.tensors, sink);
}

/** Bytes of the GGUF model's tensor data for a type (the file is this plus the metadata and padding). */
export function ggufModelTensorBytes(cfg: Qwen2Config, type: GgufType): number {
  return ggufModelTensors(cfg, type).reduce((s, t) => s + ggmlTensorBytes(t.type, t.ne)!, 0);
}

/**
 * Reading a GGUF model back as HF tensors (f32, dequantized as ggml does): for tests and for running our engine on
 * exactly the weights a file holds. `bytes` is the whole file.
 */
export function ggufModelReader(bytes: Uint8Array, file: string, cfg: Qwen2Config): { gguf: GgufFile; read: TensorReader } {
  const gguf = parseGguf(bytes, file);
  return { gguf, read: ggufTensorReader(gguf, cfg, file, (t) => ggufTensorF32(bytes, t)) };
}

/** HF name → f32 values through the GGUF tensor that holds it (`load` reads and decodes one tensor). */
export function ggufTensorReader(gguf: GgufFile, cfg: Qwen2Config, file: string, load: (t: GgufFile['tensors'][number]) => Float32Array): TensorReader {
  const arch = gguf.kv.get('general.architecture')?.value;
  if (arch !== 'qwen2') throw new FormatError(file, `general.architecture is ${JSON.stringify(arch)}; only "qwen2" models are read.`);
  const byHf = new Map(ggufModelTensors(cfg, 'f32').map((t) => [t.hf, t]));
  const byName = new Map(gguf.tensors.map((t) => [t.name, t]));
  return (hf) => {
    const want = byHf.get(hf);
    if (!want) throw new FormatError(file, `no GGUF tensor holds the HF tensor "${hf}" in a qwen2 model of this config.`);
    const t = byName.get(want.name);
    if (!t) throw new FormatError(file, `tensor "${want.name}" (${hf}) is missing.`);
    if (t.ne.length !== want.ne.length || t.ne.some((d, i) => d !== want.ne[i])) {
      throw new FormatError(file, `tensor "${want.name}" has ne [${t.ne.join(', ')}], the config needs [${want.ne.join(', ')}].`);
    }
    return load(t);
  };
}

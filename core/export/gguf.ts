// The GGUF LoRA adapter layout llama.cpp loads with `--lora`, over the generic GGUF v3 container of
// core/export/gguf-file.ts (re-exported here, so this module stays the one import for GGUF).
// The adapter layout is what llama.cpp's convert_lora_to_gguf.py writes and src/llama-adapter.cpp checks:
//   general.architecture "qwen2", general.type "adapter", adapter.type "lora", adapter.lora.alpha (f32);
//   per target, `blk.{i}.{attn_q|attn_k|attn_v|attn_output|ffn_gate|ffn_up|ffn_down}.weight.lora_a` holding PEFT's
//   A (R, in) row-major, i.e. ne = [in, R], and `.lora_b` holding B (out, R), ne = [R, out], lora_a right before
//   its lora_b; F32, F16 or BF16 (the converter's --outtype). llama.cpp checks a.ne[0] = W.ne[0] (in), b.ne[1] =
//   W.ne[1] (out), a.ne[1] = b.ne[0] (R), and scales by alpha / R, as PEFT does.
// Pure TS: no file system (core/node writes the bytes).
import { FormatError, ShapeError } from '../common/errors';
import { PROJECTIONS, type Projection } from '../model/weights';
import type { HostAdapter } from '../train/lora';
import {
  ggufFloatBytes, ggufTensorF32, isBlockType, kvF32, kvString, kvU32, parseGguf, writeGguf, type GgmlTensorType, type GgufFile, type GgufKv, type GgufTensorIn,
} from './gguf-file';
import { adapterLayerIndices, checkLoraPairs, type AdapterDType } from './adapter';

export * from './gguf-file';

/** llama.cpp's tensor names (gguf-py MODEL_TENSOR for qwen2) of each projection. */
export const GGUF_PROJ: Record<Projection, string> = {
  q: 'attn_q', k: 'attn_k', v: 'attn_v', o: 'attn_output', gate: 'ffn_gate', up: 'ffn_up', down: 'ffn_down',
};

/** `blk.{i}.attn_q.weight.lora_a` etc. */
export function ggufLoraName(layer: number, p: Projection, which: 'a' | 'b'): string {
  return `blk.${layer}.${GGUF_PROJ[p]}.weight.lora_${which}`;
}

/** llama_ftype of the file: ALL_F32 0, MOSTLY_F16 1, MOSTLY_BF16 32. */
const FILE_TYPE: Record<AdapterDType, number> = { f32: 0, f16: 1, bf16: 32 };
const TENSOR_TYPE: Record<AdapterDType, GgmlTensorType> = { f32: 'F32', f16: 'F16', bf16: 'BF16' };

/** gguf-py's GGML_QUANT_VERSION, written by every converter. */
const QUANT_VERSION = 2;

export interface GgufLoraMeta {
  /** The base model's publishable name (hub id or folder name). */
  baseModel: string;
  /** general.name; defaults to "<base> LoRA". */
  name?: string;
}

/** The adapter's metadata, in the order the converter writes it. */
export function ggufLoraMetadata(a: Pick<HostAdapter, 'alpha'>, meta: GgufLoraMeta, dtype: AdapterDType): GgufKv[] {
  const kvs: GgufKv[] = [
    kvString('general.architecture', 'qwen2'),
    kvString('general.type', 'adapter'),
    kvString('general.name', meta.name ?? `${meta.baseModel.split('/').pop()} LoRA`),
    kvU32('general.base_model.count', 1),
    kvString('general.base_model.0.name', meta.baseModel),
  ];
  if (/^[\w.-]+\/[\w.-]+$/.test(meta.baseModel)) kvs.push(kvString('general.base_model.0.repo_url', `https://huggingface.co/${meta.baseModel}`));
  kvs.push(
    kvU32('general.file_type', FILE_TYPE[dtype]),
    kvString('adapter.type', 'lora'),
    kvF32('adapter.lora.alpha', a.alpha),
    kvU32('general.quantization_version', QUANT_VERSION),
  );
  return kvs;
}

/** The (name, ne, type) list of an adapter's tensors in file order: layer by layer, q k v o gate up down, a then b. */
export function ggufLoraTensorList(a: Pick<HostAdapter, 'rank' | 'targets' | 'A' | 'B'>, dtype: AdapterDType): { name: string; ne: number[]; type: GgmlTensorType; key: string; which: 'a' | 'b' }[] {
  const layers = adapterLayerIndices(a);
  const out: { name: string; ne: number[]; type: GgmlTensorType; key: string; which: 'a' | 'b' }[] = [];
  for (const l of layers) {
    for (const p of PROJECTIONS) {
      const key = `${l}.${p}`;
      const A = a.A.get(key);
      const B = a.B.get(key);
      if (!A || !B) continue;
      const inF = A.length / a.rank;
      const outF = B.length / a.rank;
      if (!Number.isInteger(inF) || !Number.isInteger(outF)) throw new ShapeError(`GGUF LoRA writer: layer ${l} ${p}_proj: A has ${A.length} and B ${B.length} values, not multiples of rank ${a.rank}`);
      out.push({ name: ggufLoraName(l, p, 'a'), ne: [inF, a.rank], type: TENSOR_TYPE[dtype], key, which: 'a' }); // A (R, in)
      out.push({ name: ggufLoraName(l, p, 'b'), ne: [a.rank, outF], type: TENSOR_TYPE[dtype], key, which: 'b' }); // B (out, R)
    }
  }
  return out;
}

/** A host adapter as a GGUF LoRA adapter for llama.cpp (`llama-cli -m base.gguf --lora adapter.gguf`). */
export function writeGgufLora(a: HostAdapter, meta: GgufLoraMeta, dtype: AdapterDType = 'f32'): Uint8Array {
  const tensors: GgufTensorIn[] = ggufLoraTensorList(a, dtype).map((t) => ({
    name: t.name, ne: t.ne, type: t.type, data: ggufFloatBytes(t.which === 'a' ? a.A.get(t.key)! : a.B.get(t.key)!, t.type),
  }));
  if (!tensors.length) throw new ShapeError('GGUF LoRA writer: the adapter holds no LoRA tensors');
  return writeGguf(ggufLoraMetadata(a, meta, dtype), tensors);
}

/** The shortest decimal that rounds to the same f32: what was written as f32 alpha (16, 0.5, 0.1 ...). */
export function shortestF32(v: number): number {
  for (let p = 1; p <= 9; p++) {
    const d = Number(v.toPrecision(p));
    if (Math.fround(d) === v) return d;
  }
  return v;
}

const NAME_RE = /^blk\.(\d+)\.(attn_q|attn_k|attn_v|attn_output|ffn_gate|ffn_up|ffn_down)\.weight\.lora_([ab])$/;
const PROJ_OF = new Map<string, Projection>(Object.entries(GGUF_PROJ).map(([p, n]) => [n, p as Projection]));

function kvStr(f: GgufFile, key: string): string | null {
  const e = f.kv.get(key);
  return e && typeof e.value === 'string' ? e.value : null;
}

/** Read a GGUF LoRA adapter (ours or convert_lora_to_gguf.py's) back to PEFT-shaped host tensors. */
export function readGgufLora(bytes: Uint8Array, file: string): HostAdapter & { baseModel: string; dtype: AdapterDType } {
  const f = parseGguf(bytes, file);
  const type = kvStr(f, 'general.type');
  if (type !== 'adapter') throw new FormatError(file, `general.type is ${JSON.stringify(type)}, not "adapter": this is a model, not a LoRA adapter. Give the adapter .gguf written by mesp export or convert_lora_to_gguf.py.`);
  const arch = kvStr(f, 'general.architecture');
  if (arch !== 'qwen2') throw new FormatError(file, `general.architecture is ${JSON.stringify(arch)}; only "qwen2" adapters (Qwen2, Qwen2.5) are supported.`);
  const at = kvStr(f, 'adapter.type');
  if (at !== 'lora') throw new FormatError(file, `adapter.type is ${JSON.stringify(at)}; only "lora" adapters are supported.`);
  const alphaKv = f.kv.get('adapter.lora.alpha');
  if (!alphaKv || typeof alphaKv.value !== 'number' || !(alphaKv.value > 0)) {
    throw new FormatError(file, `adapter.lora.alpha is missing or not a positive number (${String(alphaKv?.value)}); it is needed for the LoRA scale alpha / r.`);
  }
  const A = new Map<string, Float32Array>();
  const B = new Map<string, Float32Array>();
  const targets = new Set<Projection>();
  const types = new Set<GgmlTensorType>();
  let rank = 0;
  for (const t of f.tensors) {
    if (t.name.endsWith('_norm.weight')) {
      throw new FormatError(file, `tensor "${t.name}" is a norm weight; adapters that change norms (mergekit-extract-lora) are not supported.`);
    }
    const m = NAME_RE.exec(t.name);
    if (!m) throw new FormatError(file, `tensor "${t.name}" is not a LoRA tensor of a Qwen2 projection (e.g. blk.0.attn_q.weight.lora_a).`);
    const [, ls, proj, which] = m;
    const p = PROJ_OF.get(proj)!;
    if (t.ne.length !== 2) throw new ShapeError(`${file}: ${t.name} has ne [${t.ne.join(', ')}], expected 2 dimensions`);
    if (isBlockType(t.type)) {
      throw new FormatError(file, `tensor "${t.name}" is ${t.type}; only F32, F16 and BF16 LoRA tensors are read. Convert the adapter with --outtype f32, f16 or bf16.`);
    }
    const r = which === 'a' ? t.ne[1] : t.ne[0]; // a: ne [in, R]; b: ne [R, out]
    if (rank === 0) rank = r;
    if (r !== rank) throw new ShapeError(`${file}: rank mismatch: ${t.name} has ne [${t.ne.join(', ')}] (rank ${r}), other tensors have rank ${rank}`);
    types.add(t.type);
    targets.add(p);
    (which === 'a' ? A : B).set(`${Number(ls)}.${p}`, ggufTensorF32(bytes, t));
  }
  checkLoraPairs(A, B, file, { a: 'lora_a', b: 'lora_b', proj: (p) => GGUF_PROJ[p] });
  const dtype: AdapterDType = types.has('F32') || types.size > 1 ? 'f32' : types.has('F16') ? 'f16' : 'bf16';
  const baseModel = kvStr(f, 'general.base_model.0.name') ?? kvStr(f, 'general.basename') ?? '';
  return { rank, alpha: shortestF32(alphaKv.value), targets: PROJECTIONS.filter((p) => targets.has(p)), A, B, baseModel, dtype };
}

// The base Qwen2 model with a LoRA adapter merged in (W' = W + s·B·A, s = alpha / r, as PEFT's merge_and_unload), as
// an ONNX graph of standard opset-17 ops (ONNX Operators.md, IR version 8), built with the `onnx-proto` package.
// The graph computes HF Qwen2ForCausalLM's forward without a KV cache:
//   input  `input_ids` int64 (batch, sequence);  output `logits` float32 (batch, sequence, vocab).
//   embedding Gather → per layer: RMSNorm (Mul, ReduceMean, Add eps, Sqrt, Reciprocal, Mul, Mul w) → q/k/v Gemm with
//   bias → RoPE in rotate-half form (cos/sin of position·inv_freq computed in the graph from rope_theta; Split, Neg,
//   Concat) → causal grouped-query attention (queries as (B, NKV, G, T, HS) against keys (B, NKV, 1, HS, T), so the
//   NKV key/value heads broadcast over their G = NH / NKV query heads, as HF's repeat_kv; scale 1/√HS, an additive
//   −∞ mask above the diagonal, Softmax) → o Gemm → residual → RMSNorm → SwiGLU (gate·sigmoid(gate)·up) → down Gemm
//   → residual → final RMSNorm → LM head Gemm (transB, so a tied head reuses the embedding initializer).
// Weights keep HF names and HF (out, in) layout. With dtype f16, matrices are stored as float16 and cast to float32 in
// the graph (ORT folds the casts when it loads the model): the file halves, the arithmetic stays f32 so every
// execution provider runs it. Norms and biases stay f32. Weights over ~1.8 GB go to an external data file (ONNX
// external data: location/offset/length, 4096-aligned), since a protobuf cannot exceed 2 GB; they are produced one
// tensor at a time when the caller writes them.
// Pure TS: weights come from a callback (HF name → f32 values); no file system here.
import onnxProto from 'onnx-proto';
import type { onnx as OnnxTypes } from 'onnx-proto';
import { littleEndianBytes } from '../common/bytes';
import { ShapeError } from '../common/errors';
import { f32ArrayToF16 } from '../common/half';
import type { Qwen2Config } from '../model/config';
import { APP_VERSION } from '../api/names';
import { PROJECTIONS, projName, projShape } from '../model/weights';
import type { HostAdapter } from '../train/lora';
import { mergeLoraWeight, type TensorReader } from './merge';

const { onnx } = onnxProto;
type ITensorProto = OnnxTypes.ITensorProto;
type INodeProto = OnnxTypes.INodeProto;
type IAttributeProto = OnnxTypes.IAttributeProto;

export type OnnxDType = 'f32' | 'f16';
export type { TensorReader };

export const ONNX_OPSET = 17;
export const ONNX_IR_VERSION = 8;
/** Above this many weight bytes the weights go to an external data file. */
export const ONNX_EMBED_LIMIT = 1_800_000_000;
const EXTERNAL_ALIGN = 4096;

const DT = onnx.TensorProto.DataType;
const AT = onnx.AttributeProto.AttributeType;

export interface MergedOnnxOptions {
  dtype: OnnxDType;
  /** Weights in a separate file: true, false, or 'auto' (when they exceed ONNX_EMBED_LIMIT). Default 'auto'. */
  externalData?: boolean | 'auto';
  /** The external data file's name, next to the model (default "model.onnx.data"). */
  externalDataName?: string;
  /** Publishable base model name, for the model's metadata. */
  baseModel?: string;
  /** Extra metadata_props. */
  metadata?: Record<string, string>;
  producerVersion?: string;
}

export interface OnnxExternalData {
  /** File name, relative to the model file. */
  location: string;
  bytes: number;
  /** Produce the file's bytes in order, one tensor (plus alignment padding) per call of `sink`. */
  write(sink: (chunk: Uint8Array) => void): void;
}

export interface MergedOnnx {
  model: Uint8Array;
  external: OnnxExternalData | null;
}

export { mergeLoraWeight };

// ------------------------------------------------------------------------------------------------ the weights

interface WeightSpec {
  name: string;
  dims: number[];
  /** Stored dtype. */
  store: OnnxDType;
  produce(): Float32Array;
}

/** Every initializer holding model weights, in graph order, with its stored dtype and how to produce it. */
function weightSpecs(cfg: Qwen2Config, adapter: HostAdapter | null, read: TensorReader, dtype: OnnxDType): WeightSpec[] {
  const C = cfg.hidden;
  const specs: WeightSpec[] = [];
  const matrix = (name: string, dims: number[], produce: () => Float32Array): void => {
    specs.push({ name, dims, store: dtype, produce });
  };
  const vector = (name: string, n: number): void => {
    specs.push({ name, dims: [n], store: 'f32', produce: () => read(name) });
  };
  const checked = (name: string, n: number): Float32Array => {
    const v = read(name);
    if (v.length !== n) throw new ShapeError(`ONNX export: ${name} has ${v.length} values, the config needs ${n}`);
    return v;
  };
  matrix('model.embed_tokens.weight', [cfg.vocab, C], () => checked('model.embed_tokens.weight', cfg.vocab * C));
  const s = adapter ? adapter.alpha / adapter.rank : 0;
  for (let l = 0; l < cfg.layers; l++) {
    const pre = `model.layers.${l}`;
    vector(`${pre}.input_layernorm.weight`, C);
    vector(`${pre}.post_attention_layernorm.weight`, C);
    for (const p of PROJECTIONS) {
      const name = `${projName(l, p)}.weight`;
      const [outF, inF] = projShape(cfg, p);
      matrix(name, [outF, inF], () => {
        const W = checked(name, outF * inF); // (out, in)
        const A = adapter?.A.get(`${l}.${p}`); // (R, in)
        const B = adapter?.B.get(`${l}.${p}`); // (out, R)
        return adapter && A && B ? mergeLoraWeight(W, A, B, outF, inF, adapter.rank, s) : W;
      });
    }
    for (const p of ['q', 'k', 'v'] as const) vector(`${projName(l, p)}.bias`, projShape(cfg, p)[0]);
  }
  vector('model.norm.weight', C);
  if (!cfg.tied) matrix('lm_head.weight', [cfg.vocab, C], () => checked('lm_head.weight', cfg.vocab * C));
  return specs;
}

function specBytes(s: WeightSpec): number {
  return s.dims.reduce((a, b) => a * b, 1) * (s.store === 'f32' ? 4 : 2);
}

/** Bytes of the weights a merged ONNX export stores (the file is this plus a few KB of graph). */
export function onnxWeightBytes(cfg: Qwen2Config, dtype: OnnxDType): number {
  const none = (): Float32Array => new Float32Array(0);
  return weightSpecs(cfg, null, none, dtype).reduce((s, w) => s + specBytes(w), 0);
}

function encode(spec: WeightSpec): Uint8Array {
  const v = spec.produce();
  const n = spec.dims.reduce((a, b) => a * b, 1);
  if (v.length !== n) throw new ShapeError(`ONNX export: ${spec.name} has ${v.length} values, the config needs [${spec.dims.join(', ')}]`);
  return littleEndianBytes(spec.store === 'f32' ? v : f32ArrayToF16(v));
}

// ------------------------------------------------------------------------------------------------ the graph

class Graph {
  readonly nodes: INodeProto[] = [];
  readonly consts: ITensorProto[] = [];
  private n = 0;

  fresh(hint: string): string {
    return `${hint}_${this.n++}`;
  }

  node(op: string, inputs: string[], hint: string, attrs: IAttributeProto[] = [], nOut = 1): string[] {
    const outs = Array.from({ length: nOut }, (_, i) => (nOut === 1 ? this.fresh(hint) : this.fresh(`${hint}${i}`)));
    this.nodes.push({ opType: op, input: inputs, output: outs, name: `${op}_${this.nodes.length}`, attribute: attrs });
    return outs;
  }

  one(op: string, inputs: string[], hint: string, attrs: IAttributeProto[] = []): string {
    return this.node(op, inputs, hint, attrs)[0];
  }

  i64(name: string, values: number[], scalar = false): string {
    const raw = new BigInt64Array(values.map((v) => BigInt(v)));
    this.consts.push({ name, dims: scalar ? [] : [values.length], dataType: DT.INT64, rawData: littleEndianBytes(raw) });
    return name;
  }

  f32(name: string, values: number[] | Float32Array, dims: number[]): string {
    this.consts.push({ name, dims, dataType: DT.FLOAT, rawData: littleEndianBytes(Float32Array.from(values)) });
    return name;
  }
}

const attrInt = (name: string, i: number): IAttributeProto => ({ name, type: AT.INT, i });
const attrInts = (name: string, ints: number[]): IAttributeProto => ({ name, type: AT.INTS, ints });

/** RoPE's inverse frequencies 1 / theta^(2i/HS), each step rounded to f32 as HF (and core/kernels/rope.ts) does. */
export function ropeInvFreq(HS: number, theta: number): Float32Array {
  const half = HS / 2;
  const base = Math.fround(theta);
  const inv = new Float32Array(half); // (HS/2)
  for (let i = 0; i < half; i++) inv[i] = Math.fround(1 / Math.fround(Math.pow(base, Math.fround((2 * i) / HS))));
  return inv;
}

/** Build the graph's nodes; `w(name)` gives the f32 value name of a weight initializer (after a cast for f16). */
function buildGraph(g: Graph, cfg: Qwen2Config, w: (name: string) => string): void {
  const C = cfg.hidden;
  const NH = cfg.heads;
  const NKV = cfg.kvHeads;
  const HS = cfg.headDim;
  const G = NH / NKV;
  const c0 = g.i64('const.zero_i64', [0], true);
  const c1 = g.i64('const.one_i64', [1], true);
  const eps = g.f32('const.rms_eps', [cfg.eps], []);
  const axes0 = g.i64('const.axes0', [0]);
  const axes1 = g.i64('const.axes1', [1]);

  const ids = 'input_ids'; // (B, T) int64
  const shp = g.one('Shape', [ids], 'batch_seq'); // (2) = [B, T]
  const T = g.one('Gather', [shp, c1], 'seq_len', [attrInt('axis', 0)]); // scalar
  const pos = g.one('Range', [c0, T, c1], 'positions'); // (T) int64

  // RoPE tables: cos, sin (T, HS) of position · inv_freq, the frequencies repeated twice (rotate-half form)
  const posF = g.one('Cast', [pos], 'positions_f32', [attrInt('to', DT.FLOAT)]); // (T)
  const posCol = g.one('Unsqueeze', [posF, axes1], 'positions_col'); // (T, 1)
  const inv = g.f32('rope.inv_freq', ropeInvFreq(HS, cfg.ropeTheta), [HS / 2]); // (HS/2)
  const freqs = g.one('Mul', [posCol, inv], 'rope_freqs'); // (T, HS/2)
  const emb = g.one('Concat', [freqs, freqs], 'rope_angles', [attrInt('axis', -1)]); // (T, HS)
  const cos = g.one('Cos', [emb], 'rope_cos'); // (T, HS)
  const sin = g.one('Sin', [emb], 'rope_sin'); // (T, HS)

  // causal mask (T, T): 0 on and below the diagonal, −∞ above
  const rowI = g.one('Unsqueeze', [pos, axes1], 'mask_rows'); // (T, 1)
  const colI = g.one('Unsqueeze', [pos, axes0], 'mask_cols'); // (1, T)
  const future = g.one('Greater', [colI, rowI], 'mask_future'); // (T, T) bool
  const negInf = g.f32('const.neg_inf', [-Infinity], []);
  const zero = g.f32('const.zero_f32', [0], []);
  const mask = g.one('Where', [future, negInf, zero], 'causal_mask'); // (T, T)

  const shapeQ = g.one('Concat', [shp, g.i64('const.q_heads', [NKV, G, HS])], 'shape_q', [attrInt('axis', 0)]); // [B, T, NKV, G, HS]
  const shapeKV = g.one('Concat', [shp, g.i64('const.kv_heads', [NKV, 1, HS])], 'shape_kv', [attrInt('axis', 0)]); // [B, T, NKV, 1, HS]
  const shapeLogits = g.one('Concat', [shp, g.i64('const.vocab', [cfg.vocab])], 'shape_logits', [attrInt('axis', 0)]); // [B, T, V]
  const flatC = g.i64('const.flat_c', [-1, C]);
  const flatQ = g.i64('const.flat_q', [-1, NH * HS]);
  const attScale = g.f32('const.attn_scale', [1 / Math.sqrt(HS)], []);

  const rms = (x: string, weight: string, hint: string): string => {
    const sq = g.one('Mul', [x, x], `${hint}_sq`); // (N, C)
    const ms = g.one('ReduceMean', [sq], `${hint}_mean_sq`, [attrInts('axes', [-1]), attrInt('keepdims', 1)]); // (N, 1)
    const rstd = g.one('Reciprocal', [g.one('Sqrt', [g.one('Add', [ms, eps], `${hint}_var_eps`)], `${hint}_rms`)], `${hint}_rstd`); // (N, 1)
    return g.one('Mul', [g.one('Mul', [x, rstd], `${hint}_normed`), w(weight)], hint); // (N, C)
  };
  const gemm = (x: string, weight: string, bias: string | null, hint: string): string =>
    g.one('Gemm', bias ? [x, w(weight), w(bias)] : [x, w(weight)], hint, [attrInt('transB', 1)]); // x·Wᵀ (+ b)
  const rope = (x: string, hint: string): string => {
    const [x1, x2] = g.node('Split', [x], `${hint}_half`, [attrInt('axis', -1)], 2); // (..., HS/2) each
    const rot = g.one('Concat', [g.one('Neg', [x2], `${hint}_neg`), x1], `${hint}_rot`, [attrInt('axis', -1)]); // rotate_half(x)
    return g.one('Add', [g.one('Mul', [x, cos], `${hint}_cos`), g.one('Mul', [rot, sin], `${hint}_sin`)], hint);
  };

  const e = g.one('Gather', [w('model.embed_tokens.weight'), ids], 'embeddings', [attrInt('axis', 0)]); // (B, T, C)
  let x = g.one('Reshape', [e, flatC], 'resid0'); // (N, C)
  for (let l = 0; l < cfg.layers; l++) {
    const pre = `model.layers.${l}`;
    const a1 = rms(x, `${pre}.input_layernorm.weight`, `l${l}_a1`); // (N, C)
    const q = gemm(a1, `${pre}.self_attn.q_proj.weight`, `${pre}.self_attn.q_proj.bias`, `l${l}_q`); // (N, NH*HS)
    const k = gemm(a1, `${pre}.self_attn.k_proj.weight`, `${pre}.self_attn.k_proj.bias`, `l${l}_k`); // (N, NKV*HS)
    const v = gemm(a1, `${pre}.self_attn.v_proj.weight`, `${pre}.self_attn.v_proj.bias`, `l${l}_v`); // (N, NKV*HS)
    const perm = attrInts('perm', [0, 2, 3, 1, 4]);
    const q5 = g.one('Transpose', [g.one('Reshape', [q, shapeQ], `l${l}_q5`)], `l${l}_qh`, [perm]); // (B, NKV, G, T, HS)
    const k5 = g.one('Transpose', [g.one('Reshape', [k, shapeKV], `l${l}_k5`)], `l${l}_kh`, [perm]); // (B, NKV, 1, T, HS)
    const v5 = g.one('Transpose', [g.one('Reshape', [v, shapeKV], `l${l}_v5`)], `l${l}_vh`, [perm]); // (B, NKV, 1, T, HS)
    const qr = rope(q5, `l${l}_qr`);
    const kr = rope(k5, `l${l}_kr`);
    const kt = g.one('Transpose', [kr], `l${l}_kt`, [attrInts('perm', [0, 1, 2, 4, 3])]); // (B, NKV, 1, HS, T)
    const scores = g.one('Mul', [g.one('MatMul', [qr, kt], `l${l}_qk`), attScale], `l${l}_scores`); // (B, NKV, G, T, T)
    const probs = g.one('Softmax', [g.one('Add', [scores, mask], `l${l}_masked`)], `l${l}_probs`, [attrInt('axis', -1)]);
    const ctx = g.one('MatMul', [probs, v5], `l${l}_ctx`); // (B, NKV, G, T, HS)
    const att = g.one('Reshape', [g.one('Transpose', [ctx], `l${l}_ctx_t`, [attrInts('perm', [0, 3, 1, 2, 4])]), flatQ], `l${l}_att`); // (N, NH*HS)
    const x2 = g.one('Add', [x, gemm(att, `${pre}.self_attn.o_proj.weight`, null, `l${l}_o`)], `l${l}_x2`); // (N, C)
    const a2 = rms(x2, `${pre}.post_attention_layernorm.weight`, `l${l}_a2`); // (N, C)
    const gate = gemm(a2, `${pre}.mlp.gate_proj.weight`, null, `l${l}_gate`); // (N, I)
    const up = gemm(a2, `${pre}.mlp.up_proj.weight`, null, `l${l}_up`); // (N, I)
    const m = g.one('Mul', [g.one('Mul', [gate, g.one('Sigmoid', [gate], `l${l}_sig`)], `l${l}_silu`), up], `l${l}_m`); // (N, I)
    x = g.one('Add', [x2, gemm(m, `${pre}.mlp.down_proj.weight`, null, `l${l}_down`)], `resid${l + 1}`); // (N, C)
  }
  const xf = rms(x, 'model.norm.weight', 'final_norm'); // (N, C)
  const head = cfg.tied ? 'model.embed_tokens.weight' : 'lm_head.weight';
  const flat = g.one('Gemm', [xf, w(head)], 'logits_flat', [attrInt('transB', 1)]); // (N, V)
  g.nodes.push({ opType: 'Reshape', input: [flat, shapeLogits], output: ['logits'], name: 'Reshape_logits' }); // (B, T, V)
}

/**
 * The merged model as ONNX bytes (and, for large models, its external data). `adapter` null exports the base model.
 * The adapter must fit the config (core/train/lora checkAdapterFits); a missing target is simply not merged.
 */
export function buildMergedOnnx(cfg: Qwen2Config, adapter: HostAdapter | null, read: TensorReader, opts: MergedOnnxOptions): MergedOnnx {
  if (cfg.heads % cfg.kvHeads !== 0) throw new ShapeError(`ONNX export: ${cfg.heads} heads are not a multiple of ${cfg.kvHeads} key/value heads`);
  const specs = weightSpecs(cfg, adapter, read, opts.dtype);
  const weightBytes = specs.reduce((s, w) => s + specBytes(w), 0);
  const ext = opts.externalData === true || ((opts.externalData ?? 'auto') === 'auto' && weightBytes > ONNX_EMBED_LIMIT);
  const location = opts.externalDataName ?? 'model.onnx.data';

  const g = new Graph();
  const castOf = new Map<string, string>();
  const initializers: ITensorProto[] = [];
  let offset = 0;
  const placed: { spec: WeightSpec; offset: number }[] = [];
  for (const spec of specs) {
    const dataType = spec.store === 'f32' ? DT.FLOAT : DT.FLOAT16;
    if (ext) {
      const bytes = specBytes(spec);
      initializers.push({
        name: spec.name, dims: spec.dims, dataType, dataLocation: onnx.TensorProto.DataLocation.EXTERNAL,
        externalData: [{ key: 'location', value: location }, { key: 'offset', value: String(offset) }, { key: 'length', value: String(bytes) }],
      });
      placed.push({ spec, offset });
      offset = Math.ceil((offset + bytes) / EXTERNAL_ALIGN) * EXTERNAL_ALIGN;
    } else {
      initializers.push({ name: spec.name, dims: spec.dims, dataType, rawData: encode(spec) });
    }
    if (spec.store === 'f16') castOf.set(spec.name, `${spec.name}/f32`);
  }
  const w = (name: string): string => castOf.get(name) ?? name;
  for (const [name, cast] of castOf) g.nodes.push({ opType: 'Cast', input: [name], output: [cast], name: `Cast_${name}`, attribute: [attrInt('to', DT.FLOAT)] });
  buildGraph(g, cfg, w);

  const meta: Record<string, string> = { ...(opts.metadata ?? {}) };
  if (opts.baseModel) meta['base_model'] = opts.baseModel;
  if (adapter) meta['lora'] = JSON.stringify({ rank: adapter.rank, alpha: adapter.alpha, targets: adapter.targets, merged: true });
  meta['weights_dtype'] = opts.dtype;
  const tensorType = (elemType: number, dims: (number | string)[]): OnnxTypes.ITypeProto => ({
    tensorType: { elemType, shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) } },
  });
  const model = onnx.ModelProto.create({
    irVersion: ONNX_IR_VERSION,
    opsetImport: [{ domain: '', version: ONNX_OPSET }],
    producerName: 'MeSP Studio',
    producerVersion: opts.producerVersion ?? APP_VERSION,
    docString: `Qwen2 with a LoRA adapter merged (W + (alpha/r)·B·A); input input_ids int64 (batch, sequence), output logits (batch, sequence, ${cfg.vocab}).`,
    metadataProps: Object.entries(meta).map(([key, value]) => ({ key, value })),
    graph: {
      name: 'qwen2_merged_lora',
      node: g.nodes,
      initializer: [...initializers, ...g.consts],
      input: [{ name: 'input_ids', type: tensorType(DT.INT64, ['batch', 'sequence']) }],
      output: [{ name: 'logits', type: tensorType(DT.FLOAT, ['batch', 'sequence', cfg.vocab]) }],
    },
  });
  const bytes = onnx.ModelProto.encode(model).finish();
  if (!ext) return { model: bytes, external: null };
  const total = placed.length ? placed[placed.length - 1].offset + specBytes(placed[placed.length - 1].spec) : 0;
  return {
    model: bytes,
    external: {
      location,
      bytes: total,
      write(sink) {
        let at = 0;
        for (const { spec, offset: o } of placed) {
          if (o > at) sink(new Uint8Array(o - at));
          const data = encode(spec);
          sink(data);
          at = o + data.length;
        }
      },
    },
  };
}

// Folding a LoRA adapter into the base weights, as PEFT's merge_and_unload: W' = W + s·B·A with s = alpha / r, for
// every projection the adapter covers (W (out, in), A (R, in), B (out, R)). One place for every merged format: the
// merged ONNX graph (core/export/onnx.ts), the merged GGUF (core/export/gguf-model.ts) and the merged Hugging Face
// folder (core/export/hf-merged.ts). The merge always reads the base checkpoint's own weights (never a quantized
// copy of them). Pure TS.
import { ShapeError } from '../common/errors';
import type { Qwen2Config } from '../model/config';
import { projName, projShape, type Projection } from '../model/weights';
import type { HostAdapter } from '../train/lora';

/** Reads one HF tensor of the base model as f32 (row-major). */
export type TensorReader = (name: string) => Float32Array;

/** W' = W + s·B·A for W (out, in), A (R, in), B (out, R); accumulated in f64, rounded once to f32. */
export function mergeLoraWeight(W: Float32Array, A: Float32Array, B: Float32Array, outF: number, inF: number, R: number, s: number): Float32Array {
  if (W.length !== outF * inF || A.length !== R * inF || B.length !== outF * R) {
    throw new ShapeError(`mergeLoraWeight: W has ${W.length} values (want ${outF}×${inF}), A ${A.length} (want ${R}×${inF}), B ${B.length} (want ${outF}×${R})`);
  }
  const out = new Float32Array(outF * inF); // (out, in)
  const row = new Float64Array(inF);
  for (let o = 0; o < outF; o++) {
    row.fill(0);
    for (let r = 0; r < R; r++) {
      const b = B[o * R + r];
      if (b === 0) continue;
      const a0 = r * inF;
      for (let i = 0; i < inF; i++) row[i] += b * A[a0 + i];
    }
    const w0 = o * inF;
    for (let i = 0; i < inF; i++) out[w0 + i] = W[w0 + i] + s * row[i];
  }
  return out;
}

/** HF name "model.layers.{l}.{self_attn|mlp}.{p}_proj.weight" → [l, p], or null for every other tensor. */
function projectionOf(name: string, layers: number): [number, Projection] | null {
  const m = /^model\.layers\.(\d+)\.(?:self_attn|mlp)\.(q|k|v|o|gate|up|down)_proj\.weight$/.exec(name);
  if (!m) return null;
  const l = Number(m[1]);
  const p = m[2] as Projection;
  return l < layers && `${projName(l, p)}.weight` === name ? [l, p] : null;
}

/**
 * A reader of the merged model: projection weights the adapter covers come back as W + (alpha/r)·B·A, every other
 * tensor as the base has it. With no adapter, the base reader itself.
 */
export function mergedReader(cfg: Qwen2Config, adapter: HostAdapter | null, read: TensorReader): TensorReader {
  if (!adapter) return read;
  const s = adapter.alpha / adapter.rank;
  return (name) => {
    const lp = projectionOf(name, cfg.layers);
    const W = read(name);
    if (!lp) return W;
    const [l, p] = lp;
    const A = adapter.A.get(`${l}.${p}`); // (R, in)
    const B = adapter.B.get(`${l}.${p}`); // (out, R)
    if (!A || !B) return W;
    const [outF, inF] = projShape(cfg, p);
    return mergeLoraWeight(W, A, B, outF, inF, adapter.rank, s);
  };
}



// mlx-lm LoRA adapters, bytes in and bytes out (mlx-lm's tuner/lora.py LoRALinear and tuner/utils.py load_adapters):
//   adapters.safetensors: the model's trainable parameters by their module path, for Qwen2
//     `model.layers.{i}.self_attn.{q,k,v,o}_proj.lora_a` (in, R) and `.lora_b` (R, out), mlx's `x @ lora_a @ lora_b`
//     layout, i.e. PEFT's A (R, in) and B (out, R) transposed; metadata {"format": "mlx"} as mx.save_safetensors;
//   adapter_config.json: fine_tune_type "lora", num_layers (LoRA goes on the LAST num_layers blocks),
//     lora_parameters {rank, scale, dropout, keys}, where mlx-lm adds `scale · z` with no division by the rank, so
//     scale = alpha / r reproduces PEFT's output exactly; keys are module paths inside a block ("self_attn.q_proj").
//   Load with mlx_lm.load(base, adapter_path=DIR) or `mlx_lm.generate --model BASE --adapter-path DIR`.
// We also write "lora_alpha" at the top level (mlx-lm keeps unknown top-level keys and ignores them), so our reader
// gets alpha back exactly rather than as scale × r.
// Pure TS: no file system.
import { FormatError, ShapeError } from '../common/errors';
import { parseSafetensors, readTensorF32, writeSafetensors, type TensorToWrite } from '../common/safetensors';
import { PROJECTIONS, type Projection } from '../model/weights';
import type { HostAdapter } from '../train/lora';
import { adapterLayerIndices, checkLoraPairs, parseConfigJson, safetensorsDType, type AdapterDType } from './adapter';

/** The module path of a projection inside a block, as mlx-lm's Qwen2 model names it. */
export const MLX_MODULE: Record<Projection, string> = {
  q: 'self_attn.q_proj', k: 'self_attn.k_proj', v: 'self_attn.v_proj', o: 'self_attn.o_proj',
  gate: 'mlp.gate_proj', up: 'mlp.up_proj', down: 'mlp.down_proj',
};

export function mlxKey(layer: number, p: Projection, which: 'a' | 'b'): string {
  return `model.layers.${layer}.${MLX_MODULE[p]}.lora_${which}`;
}

/** (R, C) row-major → (C, R) row-major. */
export function transpose(x: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = x[r * cols + c];
  return out;
}

export interface MlxAdapterConfig {
  fine_tune_type: 'lora';
  model: string;
  num_layers: number;
  lora_parameters: { rank: number; scale: number; dropout: number; keys: string[] };
  /** Ours: alpha itself (mlx-lm reads only scale). */
  lora_alpha: number;
}

/**
 * adapter_config.json and adapters.safetensors of a host adapter. `layers` is the base model's layer count: mlx-lm
 * converts the last num_layers blocks, so an adapter on every layer has num_layers = layers.
 */
export function writeMlx(a: HostAdapter, baseModel: string, layers: number, dtype: AdapterDType = 'f32'): { config: string; weights: Uint8Array } {
  const st = safetensorsDType(dtype);
  const adapterLayers = adapterLayerIndices(a);
  const first = adapterLayers[0] ?? 0;
  // mlx-lm puts LoRA on layers [layers - num_layers, layers): the adapter must cover exactly such a suffix.
  if (adapterLayers.length !== layers - first || adapterLayers.some((l, i) => l !== first + i)) {
    throw new ShapeError(`MLX writer: the adapter covers layers [${adapterLayers.join(', ')}], but mlx-lm only applies LoRA to the last num_layers of ${layers} layers`);
  }
  const tensors: TensorToWrite[] = [];
  for (const key of a.A.keys()) {
    const [ls, p] = key.split('.') as [string, Projection];
    const l = Number(ls);
    const A = a.A.get(key)!; // (R, in)
    const B = a.B.get(key)!; // (out, R)
    const inF = A.length / a.rank;
    const outF = B.length / a.rank;
    tensors.push({ name: mlxKey(l, p, 'a'), dtype: st, shape: [inF, a.rank], data: transpose(A, a.rank, inF) }); // (in, R)
    tensors.push({ name: mlxKey(l, p, 'b'), dtype: st, shape: [a.rank, outF], data: transpose(B, outF, a.rank) }); // (R, out)
  }
  const config: MlxAdapterConfig = {
    fine_tune_type: 'lora',
    model: baseModel,
    num_layers: layers - first,
    lora_parameters: { rank: a.rank, scale: a.alpha / a.rank, dropout: 0, keys: a.targets.map((p) => MLX_MODULE[p]) },
    lora_alpha: a.alpha,
  };
  return { config: JSON.stringify(config, null, 2) + '\n', weights: writeSafetensors(tensors, { format: 'mlx' }) };
}

const KEY_RE = /^model\.layers\.(\d+)\.(self_attn|mlp)\.(q|k|v|o|gate|up|down)_proj\.lora_([ab])$/;

/**
 * Read an mlx-lm LoRA adapter back to PEFT shapes. alpha = our lora_alpha when present and consistent, else
 * lora_parameters.scale × rank (mlx-lm's semantics). DoRA and full fine-tunes are refused.
 */
export function readMlx(configText: string, weights: Uint8Array, files: { config: string; weights: string }): HostAdapter & { baseModel: string } {
  const cfg = parseConfigJson(configText, files.config);
  if (typeof cfg !== 'object' || cfg === null || Array.isArray(cfg)) throw new FormatError(files.config, 'is not a JSON object');
  const ft = cfg.fine_tune_type ?? 'lora';
  if (ft !== 'lora') throw new FormatError(files.config, `fine_tune_type is ${JSON.stringify(ft)}; only "lora" adapters can be imported (not DoRA or full fine-tunes)`);
  const lp = cfg.lora_parameters as Record<string, unknown> | undefined;
  if (typeof lp !== 'object' || lp === null) throw new FormatError(files.config, 'has no "lora_parameters" object {rank, scale, dropout}');
  const rank = lp.rank;
  const scale = lp.scale;
  if (typeof rank !== 'number' || !Number.isInteger(rank) || rank < 1) throw new FormatError(files.config, `lora_parameters.rank must be a positive integer, got ${JSON.stringify(rank)}`);
  if (typeof scale !== 'number' || !Number.isFinite(scale) || !(scale > 0)) throw new FormatError(files.config, `lora_parameters.scale must be a finite positive number, got ${JSON.stringify(scale)}`);
  let alpha = scale * rank;
  if (typeof cfg.lora_alpha === 'number' && Math.abs(cfg.lora_alpha / rank - scale) <= 1e-9 * scale) alpha = cfg.lora_alpha;
  const st = parseSafetensors(weights, files.weights);
  const A = new Map<string, Float32Array>();
  const B = new Map<string, Float32Array>();
  const targets = new Set<Projection>();
  for (const [name, info] of st.tensors) {
    const m = KEY_RE.exec(name);
    if (!m) throw new FormatError(files.weights, `tensor "${name}" is not an mlx-lm LoRA key of a Qwen2 projection (e.g. model.layers.0.self_attn.q_proj.lora_a)`);
    const [, ls, , ps, which] = m;
    const p = ps as Projection;
    if (info.shape.length !== 2) throw new ShapeError(`${files.weights}: ${name} has shape [${info.shape.join(', ')}], expected 2-D`);
    const r = which === 'a' ? info.shape[1] : info.shape[0]; // lora_a (in, R), lora_b (R, out)
    if (r !== rank) throw new ShapeError(`${files.weights}: rank mismatch: ${name} has shape [${info.shape.join(', ')}], but lora_parameters.rank = ${rank}`);
    const v = readTensorF32(weights, info, files.weights);
    const key = `${Number(ls)}.${p}`;
    if (which === 'a') A.set(key, transpose(v, info.shape[0], rank)); // → (R, in)
    else B.set(key, transpose(v, rank, info.shape[1])); // → (out, R)
    targets.add(p);
  }
  checkLoraPairs(A, B, files.weights, { a: 'lora_a', b: 'lora_b', proj: (p) => `${p}_proj` });
  return { rank, alpha, targets: PROJECTIONS.filter((p) => targets.has(p)), A, B, baseModel: typeof cfg.model === 'string' ? cfg.model : '' };
}

// PEFT LoRA adapters, bytes in and bytes out (DESIGN.md §7; the layout of huggingface/peft's save_pretrained):
//   adapter_config.json: peft_type "LORA", task_type "CAUSAL_LM", r, lora_alpha, target_modules, lora_dropout, bias,
//     base_model_name_or_path (a hub id or a name, never a local path), ...
//   adapter_model.safetensors: base_model.model.model.layers.{i}.{self_attn|mlp}.{q,k,v,o,gate,up,down}_proj.lora_A.weight
//     (r, in) and .lora_B.weight (out, r), in f32, f16 or bf16.
import { FormatError, ShapeError } from '../common/errors';
import { parseSafetensors, readTensorF32, writeSafetensors, type TensorToWrite } from '../common/safetensors';
import { PROJECTIONS, type Projection } from '../model/weights';
import type { HostAdapter } from '../train/lora';
import { checkLoraPairs, parseConfigJson, safetensorsDType, type AdapterDType } from './adapter';

export type { AdapterDType };

const MODULE: Record<Projection, string> = {
  q: 'self_attn.q_proj', k: 'self_attn.k_proj', v: 'self_attn.v_proj', o: 'self_attn.o_proj',
  gate: 'mlp.gate_proj', up: 'mlp.up_proj', down: 'mlp.down_proj',
};

/** PEFT's tensor name of a LoRA matrix. */
export function peftKey(layer: number, p: Projection, which: 'A' | 'B'): string {
  return `base_model.model.model.layers.${layer}.${MODULE[p]}.lora_${which}.weight`;
}

/** PEFT target module name of a projection ("q_proj", ...). */
export function peftModule(p: Projection): string {
  return MODULE[p].split('.')[1];
}

export interface PeftConfig {
  peft_type: 'LORA';
  task_type: 'CAUSAL_LM';
  r: number;
  lora_alpha: number;
  target_modules: string[];
  lora_dropout: number;
  bias: 'none';
  fan_in_fan_out: boolean;
  base_model_name_or_path: string;
  inference_mode: boolean;
  init_lora_weights: boolean;
  use_rslora: boolean;
  use_dora: boolean;
  modules_to_save: null;
  layers_to_transform: null;
  revision: null;
}

/** A base model reference safe to publish: a hub id or a folder name, never an absolute local path. */
export function publishableBaseName(name: string): string {
  const n = name.replace(/\\/g, '/').replace(/\/+$/, '');
  if (/^[\w.-]+\/[\w.-]+$/.test(n)) return n; // hub id "Qwen/Qwen2.5-0.5B"
  const last = n.split('/').filter(Boolean).pop();
  return last ?? 'unknown';
}

export function peftConfig(a: Pick<HostAdapter, 'rank' | 'alpha' | 'targets'>, baseModel: string): PeftConfig {
  return {
    peft_type: 'LORA', task_type: 'CAUSAL_LM', r: a.rank, lora_alpha: a.alpha,
    target_modules: a.targets.map(peftModule), lora_dropout: 0, bias: 'none', fan_in_fan_out: false,
    base_model_name_or_path: publishableBaseName(baseModel), inference_mode: true, init_lora_weights: true,
    use_rslora: false, use_dora: false, modules_to_save: null, layers_to_transform: null, revision: null,
  };
}

/** adapter_config.json and adapter_model.safetensors of a host adapter. */
export function writePeft(a: HostAdapter, baseModel: string, dtype: AdapterDType = 'f32'): { config: string; weights: Uint8Array } {
  const st = safetensorsDType(dtype);
  const tensors: TensorToWrite[] = [];
  for (const key of [...a.A.keys()]) {
    const [ls, p] = key.split('.') as [string, Projection];
    const l = Number(ls);
    const A = a.A.get(key)!;
    const B = a.B.get(key)!;
    tensors.push({ name: peftKey(l, p, 'A'), dtype: st, shape: [a.rank, A.length / a.rank], data: A });
    tensors.push({ name: peftKey(l, p, 'B'), dtype: st, shape: [B.length / a.rank, a.rank], data: B });
  }
  return {
    config: JSON.stringify(peftConfig(a, baseModel), null, 2) + '\n',
    weights: writeSafetensors(tensors, { format: 'pt' }),
  };
}

const KEY_RE = /^base_model\.model\.model\.layers\.(\d+)\.(self_attn|mlp)\.(q|k|v|o|gate|up|down)_proj\.lora_([AB])\.weight$/;

/**
 * Read a PEFT adapter. Checks peft_type, r against the tensor shapes (a rank mismatch names the tensor), and that every
 * layer has both A and B for each target. Fitting the adapter to a model is checkAdapterFits' job (core/train/lora).
 */
export function readPeft(configText: string, weights: Uint8Array, files: { config: string; weights: string }): HostAdapter & { baseModel: string } {
  const cfg = parseConfigJson(configText, files.config);
  if (typeof cfg !== 'object' || cfg === null) throw new FormatError(files.config, 'is not a JSON object');
  if (cfg.peft_type !== undefined && cfg.peft_type !== 'LORA') throw new FormatError(files.config, `peft_type is ${JSON.stringify(cfg.peft_type)}; only LORA adapters are supported`);
  const r = cfg.r;
  const alpha = cfg.lora_alpha;
  if (typeof r !== 'number' || !Number.isInteger(r) || r < 1) throw new FormatError(files.config, `"r" must be a positive integer, got ${JSON.stringify(r)}`);
  if (typeof alpha !== 'number' || !Number.isFinite(alpha) || !(alpha > 0)) throw new FormatError(files.config, `"lora_alpha" must be a finite positive number, got ${JSON.stringify(alpha)}`);
  if (cfg.use_dora === true) throw new FormatError(files.config, 'DoRA adapters (use_dora: true) are not supported');
  if (cfg.use_rslora === true) throw new FormatError(files.config, 'rsLoRA adapters (use_rslora: true) are not supported');
  const st = parseSafetensors(weights, files.weights);
  const A = new Map<string, Float32Array>();
  const B = new Map<string, Float32Array>();
  const targets = new Set<Projection>();
  for (const [name, info] of st.tensors) {
    const m = KEY_RE.exec(name);
    if (!m) throw new FormatError(files.weights, `tensor "${name}" is not a PEFT LoRA key of a Qwen2 projection (e.g. base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight)`);
    const [, ls, , ps, which] = m;
    const p = ps as Projection;
    if (info.shape.length !== 2) throw new ShapeError(`${files.weights}: ${name} has shape [${info.shape.join(', ')}], expected 2-D`);
    const rankDim = which === 'A' ? info.shape[0] : info.shape[1];
    if (rankDim !== r) {
      throw new ShapeError(`${files.weights}: rank mismatch: ${name} has shape [${info.shape.join(', ')}], but adapter_config.json says r = ${r}`);
    }
    targets.add(p);
    (which === 'A' ? A : B).set(`${Number(ls)}.${p}`, readTensorF32(weights, info, files.weights));
  }
  checkLoraPairs(A, B, files.weights, { a: 'lora_A', b: 'lora_B', proj: (p) => `${p}_proj` });
  const base = typeof cfg.base_model_name_or_path === 'string' ? cfg.base_model_name_or_path : '';
  return { rank: r, alpha, targets: PROJECTIONS.filter((p) => targets.has(p)), A, B, baseModel: base };
}

// The frozen Qwen2 weights on the GPU (HF Qwen2ForCausalLM layout), quantized on load when asked (DESIGN.md §4):
// every 2-D matrix (embedding, q/k/v/o, gate/up/down, untied lm_head) is f32, int8 or int4; norms and the q/k/v biases
// stay f32. All of it is ledger category `weights`. In a dry context the same tensors are allocated and nothing is read.
import { PROJECTIONS, type Projection, type QuantName } from '../api/names';
import { ConfigError } from '../common/errors';
import type { GpuContext } from '../gpu/context';
import type { Tensor } from '../gpu/tensor';
import { allocWeight, formatFits, freeWeight, writeWeight, QUANT_GROUP, type WeightFormat, type WeightMatrix } from '../kernels/weight';
import type { Qwen2Config } from './config';

export type Quant = QuantName;
export { PROJECTIONS, type Projection };

export interface LayerWeights {
  inputNorm: Tensor; // (C)
  postNorm: Tensor; // (C)
  proj: Record<Projection, WeightMatrix>; // q (NH*HS, C), k/v (NKV*HS, C), o (C, NH*HS), gate/up (I, C), down (C, I)
  qBias: Tensor; // (NH*HS)
  kBias: Tensor; // (NKV*HS)
  vBias: Tensor; // (NKV*HS)
}

export interface ModelWeights {
  cfg: Qwen2Config;
  quant: Quant;
  embed: WeightMatrix; // (V, C)
  /** The LM head: the embedding itself when tied. */
  head: WeightMatrix; // (V, C)
  finalNorm: Tensor; // (C)
  layers: LayerWeights[];
}

export function formatOf(quant: Quant): WeightFormat {
  return quant === 'none' ? 'f32' : quant;
}

/** HF name of a projection weight of layer l. */
export function projName(l: number, p: Projection): string {
  const mod = p === 'gate' || p === 'up' || p === 'down' ? 'mlp' : 'self_attn';
  const short = p === 'o' ? 'o_proj' : `${p}_proj`;
  return `model.layers.${l}.${mod}.${short}`;
}

/** (out, in) of a projection. */
export function projShape(cfg: Qwen2Config, p: Projection): [number, number] {
  const C = cfg.hidden;
  const qDim = cfg.heads * cfg.headDim;
  const kvDim = cfg.kvHeads * cfg.headDim;
  switch (p) {
    case 'q':
      return [qDim, C];
    case 'k':
    case 'v':
      return [kvDim, C];
    case 'o':
      return [C, qDim];
    case 'gate':
    case 'up':
      return [cfg.intermediate, C];
    case 'down':
      return [C, cfg.intermediate];
  }
}

function checkQuantizable(cfg: Qwen2Config, quant: Quant): void {
  if (quant === 'none') return;
  for (const [what, n] of [['hidden_size', cfg.hidden], ['intermediate_size', cfg.intermediate], ['num_attention_heads × head_dim', cfg.heads * cfg.headDim]] as const) {
    if (!formatFits(formatOf(quant), n)) {
      throw new ConfigError(`--quant ${quant} needs ${what} divisible by ${QUANT_GROUP} (groups of ${QUANT_GROUP} inputs), got ${n}; use --quant none`, { field: what });
    }
  }
}

/** Reads one HF tensor as f32 (row-major); absent in a dry plan. */
export type TensorSource = (name: string) => Float32Array;

function vec(ctx: GpuContext, name: string, n: number, read: TensorSource | null): Tensor {
  const t = ctx.alloc('weights', name, [n]);
  if (read && !ctx.dry) ctx.write(t, read(name));
  return t;
}

function mat(ctx: GpuContext, name: string, rows: number, cols: number, format: WeightFormat, read: TensorSource | null): WeightMatrix {
  const w = allocWeight(ctx, 'weights', name, rows, cols, format);
  if (read && !ctx.dry) writeWeight(ctx, w, read(name));
  return w;
}

/**
 * Allocate the model's weights and fill them from `read` (HF names, f32 values), quantizing matrices on the way.
 * With `read` null (a dry plan), only the allocations happen.
 */
export function loadModelWeights(ctx: GpuContext, cfg: Qwen2Config, quant: Quant, read: TensorSource | null): ModelWeights {
  checkQuantizable(cfg, quant);
  const f = formatOf(quant);
  const C = cfg.hidden;
  // All or nothing: a weight that does not fit the cap (or a bad file) frees what was loaded before it.
  return ctx.scopedSync(() => {
    const embed = mat(ctx, 'model.embed_tokens.weight', cfg.vocab, C, f, read);
    const layers: LayerWeights[] = [];
    for (let l = 0; l < cfg.layers; l++) {
      const pre = `model.layers.${l}`;
      const proj = {} as Record<Projection, WeightMatrix>;
      for (const p of PROJECTIONS) {
        const [rows, cols] = projShape(cfg, p);
        proj[p] = mat(ctx, `${projName(l, p)}.weight`, rows, cols, f, read);
      }
      layers.push({
        inputNorm: vec(ctx, `${pre}.input_layernorm.weight`, C, read),
        postNorm: vec(ctx, `${pre}.post_attention_layernorm.weight`, C, read),
        proj,
        qBias: vec(ctx, `${pre}.self_attn.q_proj.bias`, cfg.heads * cfg.headDim, read),
        kBias: vec(ctx, `${pre}.self_attn.k_proj.bias`, cfg.kvHeads * cfg.headDim, read),
        vBias: vec(ctx, `${pre}.self_attn.v_proj.bias`, cfg.kvHeads * cfg.headDim, read),
      });
    }
    const finalNorm = vec(ctx, 'model.norm.weight', C, read);
    const head = cfg.tied ? embed : mat(ctx, 'lm_head.weight', cfg.vocab, C, f, read);
    return { cfg, quant, embed, head, finalNorm, layers };
  });
}

export function freeModelWeights(ctx: GpuContext, m: ModelWeights): void {
  freeWeight(ctx, m.embed);
  if (m.head !== m.embed) freeWeight(ctx, m.head);
  ctx.free(m.finalNorm);
  for (const L of m.layers) {
    for (const p of PROJECTIONS) freeWeight(ctx, L.proj[p]);
    ctx.free(L.inputNorm, L.postNorm, L.qBias, L.kBias, L.vBias);
  }
  m.layers = [];
}

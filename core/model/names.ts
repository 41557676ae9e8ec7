// The tensor names and shapes of a HF Qwen2ForCausalLM checkpoint (transformers modeling_qwen2.py state dict):
// model.embed_tokens, per layer input_layernorm / self_attn.{q,k,v,o}_proj (q/k/v with bias) /
// post_attention_layernorm / mlp.{gate,up,down}_proj, model.norm, and lm_head only when the embeddings are untied
// (a tied checkpoint may still carry lm_head.weight: it is not expected and is ignored).
import type { Qwen2Config } from './config';

export interface ExpectedTensor {
  name: string;
  shape: number[];
}

/** The tensors of one decoder layer with their shapes. */
export function layerTensors(cfg: Qwen2Config, i: number): ExpectedTensor[] {
  const C = cfg.hidden;
  const I = cfg.intermediate;
  const Q = cfg.heads * cfg.headDim; // NH*HS
  const KV = cfg.kvHeads * cfg.headDim; // NKV*HS
  const p = `model.layers.${i}`;
  return [
    { name: `${p}.input_layernorm.weight`, shape: [C] },
    { name: `${p}.self_attn.q_proj.weight`, shape: [Q, C] },
    { name: `${p}.self_attn.q_proj.bias`, shape: [Q] },
    { name: `${p}.self_attn.k_proj.weight`, shape: [KV, C] },
    { name: `${p}.self_attn.k_proj.bias`, shape: [KV] },
    { name: `${p}.self_attn.v_proj.weight`, shape: [KV, C] },
    { name: `${p}.self_attn.v_proj.bias`, shape: [KV] },
    { name: `${p}.self_attn.o_proj.weight`, shape: [C, Q] },
    { name: `${p}.post_attention_layernorm.weight`, shape: [C] },
    { name: `${p}.mlp.gate_proj.weight`, shape: [I, C] },
    { name: `${p}.mlp.up_proj.weight`, shape: [I, C] },
    { name: `${p}.mlp.down_proj.weight`, shape: [C, I] },
  ];
}

/** Every tensor the engine reads from a checkpoint of this config, in state-dict order. */
export function expectedTensors(cfg: Qwen2Config): ExpectedTensor[] {
  const out: ExpectedTensor[] = [{ name: 'model.embed_tokens.weight', shape: [cfg.vocab, cfg.hidden] }];
  for (let i = 0; i < cfg.layers; i++) out.push(...layerTensors(cfg, i));
  out.push({ name: 'model.norm.weight', shape: [cfg.hidden] });
  if (!cfg.tied) out.push({ name: 'lm_head.weight', shape: [cfg.vocab, cfg.hidden] });
  return out;
}

/** Parameters of the checkpoint (tied embeddings counted once), by arithmetic: nothing is listed or allocated. */
export function parameterCount(cfg: Qwen2Config): number {
  const C = cfg.hidden;
  const Q = cfg.heads * cfg.headDim;
  const KV = cfg.kvHeads * cfg.headDim;
  const perLayer = 2 * C + Q * C + Q + 2 * (KV * C + KV) + C * Q + 3 * cfg.intermediate * C;
  return cfg.vocab * C * (cfg.tied ? 1 : 2) + cfg.layers * perLayer + C;
}

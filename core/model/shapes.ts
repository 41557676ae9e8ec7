// The real Qwen2.5 shapes as HF config.json objects (values of the Qwen/Qwen2.5-{0.5B,1.5B,3B}-Instruct config.json
// files on the Hugging Face Hub), for planning ("will it fit?") and benchmarks without downloading a checkpoint.
// All three: tied embeddings, vocab 151936, rope_theta 1e6, rms_norm_eps 1e-6, 2 KV heads, head_dim 64 or 128.
import { parseQwen2Config, type Qwen2Config } from './config';

export const QWEN25_IDS = ['qwen2.5-0.5b', 'qwen2.5-1.5b', 'qwen2.5-3b'] as const;
export type Qwen25Id = (typeof QWEN25_IDS)[number];

function qwen25(hidden: number, intermediate: number, layers: number, heads: number, kvHeads: number, maxWindowLayers: number): Record<string, unknown> {
  return {
    architectures: ['Qwen2ForCausalLM'],
    attention_dropout: 0.0,
    bos_token_id: 151643,
    eos_token_id: 151645,
    hidden_act: 'silu',
    hidden_size: hidden,
    initializer_range: 0.02,
    intermediate_size: intermediate,
    max_position_embeddings: 32768,
    max_window_layers: maxWindowLayers,
    model_type: 'qwen2',
    num_attention_heads: heads,
    num_hidden_layers: layers,
    num_key_value_heads: kvHeads,
    rms_norm_eps: 1e-6,
    rope_scaling: null,
    rope_theta: 1000000.0,
    sliding_window: null,
    tie_word_embeddings: true,
    torch_dtype: 'bfloat16',
    use_cache: true,
    use_sliding_window: false,
    vocab_size: 151936,
  };
}

/** HF config.json objects of the Qwen2.5 models the app targets. */
export const QWEN25_CONFIGS: Record<Qwen25Id, Record<string, unknown>> = {
  'qwen2.5-0.5b': qwen25(896, 4864, 24, 14, 2, 21), // HS 64
  'qwen2.5-1.5b': qwen25(1536, 8960, 28, 12, 2, 21), // HS 128
  'qwen2.5-3b': qwen25(2048, 11008, 36, 16, 2, 70), // HS 128
};

/** The validated engine config of a built-in Qwen2.5 shape. */
export function qwen25Config(id: Qwen25Id): Qwen2Config {
  return parseQwen2Config(QWEN25_CONFIGS[id], `<built-in ${id}>`);
}

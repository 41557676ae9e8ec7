// Qwen2 config.json validation (HF transformers Qwen2Config: model_type "qwen2", the fields of configuration_qwen2.py
// with HF's defaults where a checkpoint may omit them: tie_word_embeddings false, hidden_act "silu").
// Only what the engine implements is accepted: SiLU, plain RoPE (no rope_scaling), full attention (no sliding window),
// head_dim = hidden_size / num_attention_heads, grouped-query attention with heads % kv_heads == 0.
// Unknown extra fields are kept (in `raw`) and ignored. Every refusal is a ConfigError naming the file and the field.
import { z } from 'zod';
import { ConfigError } from '../common/errors';

export interface Qwen2Config {
  hidden: number; // C
  intermediate: number; // I
  layers: number; // L
  heads: number; // NH
  kvHeads: number; // NKV
  headDim: number; // HS = C / NH
  vocab: number; // V
  eps: number;
  ropeTheta: number;
  tied: boolean;
  maxPositions: number;
  raw: object;
}

const posInt = z.number().int().positive();
const posFinite = z.number().positive().finite();

/**
 * Upper bounds on every size, far above any real checkpoint (Qwen2.5-72B: 80 layers, hidden 8192, MLP 29568, vocab
 * 152064), so that a config.json with `num_hidden_layers: 1e9` is refused before anything is sized from it (a tensor
 * list, a plan, a file to write).
 */
export const CONFIG_LIMITS = {
  hidden_size: 65_536,
  intermediate_size: 262_144,
  num_hidden_layers: 1_024,
  num_attention_heads: 1_024,
  num_key_value_heads: 1_024,
  vocab_size: 4_194_304,
  max_position_embeddings: 16_777_216,
} as const;

/** The schema of the fields we read; other fields pass through. */
export const qwen2ConfigSchema = z.looseObject({
  model_type: z.literal('qwen2'),
  hidden_size: posInt.max(CONFIG_LIMITS.hidden_size),
  intermediate_size: posInt.max(CONFIG_LIMITS.intermediate_size),
  num_hidden_layers: posInt.max(CONFIG_LIMITS.num_hidden_layers),
  num_attention_heads: posInt.max(CONFIG_LIMITS.num_attention_heads),
  num_key_value_heads: posInt.max(CONFIG_LIMITS.num_key_value_heads),
  vocab_size: posInt.max(CONFIG_LIMITS.vocab_size),
  rms_norm_eps: posFinite,
  rope_theta: posFinite,
  max_position_embeddings: posInt.max(CONFIG_LIMITS.max_position_embeddings),
  tie_word_embeddings: z.boolean().default(false),
  hidden_act: z.literal('silu').default('silu'),
  torch_dtype: z.string().nullish(),
  rope_scaling: z.null().optional(),
  use_sliding_window: z.literal(false).nullish(),
  head_dim: posInt.nullish(),
});

type Field = keyof typeof qwen2ConfigSchema.shape;

/** What each field accepts, for messages. */
const ACCEPTED: Record<Field, string> = {
  model_type: '"qwen2" (Qwen2 and Qwen2.5 checkpoints; other architectures are not supported)',
  hidden_size: `a positive integer up to ${CONFIG_LIMITS.hidden_size} (the model width, e.g. 896 for Qwen2.5-0.5B)`,
  intermediate_size: `a positive integer up to ${CONFIG_LIMITS.intermediate_size} (the MLP width, e.g. 4864 for Qwen2.5-0.5B)`,
  num_hidden_layers: `a positive integer up to ${CONFIG_LIMITS.num_hidden_layers} (the number of decoder layers)`,
  num_attention_heads: `a positive integer up to ${CONFIG_LIMITS.num_attention_heads} that divides hidden_size`,
  num_key_value_heads: `a positive integer up to ${CONFIG_LIMITS.num_key_value_heads} that divides num_attention_heads`,
  vocab_size: `a positive integer up to ${CONFIG_LIMITS.vocab_size} (rows of the embedding)`,
  rms_norm_eps: 'a positive number (e.g. 1e-6)',
  rope_theta: 'a positive number (e.g. 1000000.0)',
  max_position_embeddings: `a positive integer up to ${CONFIG_LIMITS.max_position_embeddings} (e.g. 32768)`,
  tie_word_embeddings: 'true or false (absent means false, as in HF)',
  hidden_act: '"silu" (the SwiGLU activation of Qwen2; absent means "silu")',
  torch_dtype: 'a string such as "bfloat16", or absent',
  rope_scaling: 'null or absent (RoPE scaling such as YaRN is not supported; remove it for contexts within max_position_embeddings)',
  use_sliding_window: 'false or absent (sliding-window attention is not supported)',
  head_dim: 'absent, or equal to hidden_size / num_attention_heads',
};

function show(v: unknown): string {
  const s = JSON.stringify(v);
  return s === undefined ? String(v) : s.length > 80 ? `${s.slice(0, 77)}...` : s;
}

/** Validate a parsed config.json (`file` names it in errors) and return the engine's view of it. */
export function parseQwen2Config(json: unknown, file: string): Qwen2Config {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new ConfigError(`a model config must be a JSON object, got ${show(json)}. Point to the folder of a Hugging Face Qwen2 checkpoint.`, { file });
  }
  const obj = json as Record<string, unknown>;
  const res = qwen2ConfigSchema.safeParse(obj);
  if (!res.success) {
    const problems = res.error.issues.map((issue) => {
      const field = String(issue.path[0] ?? '');
      const accepted = ACCEPTED[field as Field] ?? issue.message;
      const what = field in obj ? `is ${show(obj[field])}` : 'is missing';
      return { field, text: `field "${field}" ${what}; accepted: ${accepted}` };
    });
    // model_type first: a wrong architecture explains every other problem.
    problems.sort((a, b) => Number(b.field === 'model_type') - Number(a.field === 'model_type'));
    const more = problems.length > 1 ? ` (and ${problems.length - 1} more: ${problems.slice(1).map((p) => p.field).join(', ')})` : '';
    throw new ConfigError(`${problems[0].text}${more}. Fix config.json or use a Qwen2/Qwen2.5 checkpoint.`, { file, field: problems[0].field });
  }
  const c = res.data;
  if (c.hidden_size % c.num_attention_heads !== 0) {
    throw new ConfigError(
      `hidden_size ${c.hidden_size} is not divisible by num_attention_heads ${c.num_attention_heads}; accepted: ${ACCEPTED.num_attention_heads}.`,
      { file, field: 'num_attention_heads' },
    );
  }
  if (c.num_attention_heads % c.num_key_value_heads !== 0) {
    throw new ConfigError(
      `num_attention_heads ${c.num_attention_heads} is not divisible by num_key_value_heads ${c.num_key_value_heads}; accepted: ${ACCEPTED.num_key_value_heads}.`,
      { file, field: 'num_key_value_heads' },
    );
  }
  const headDim = c.hidden_size / c.num_attention_heads;
  if (c.head_dim != null && c.head_dim !== headDim) {
    throw new ConfigError(
      `head_dim ${c.head_dim} differs from hidden_size / num_attention_heads = ${headDim}; accepted: ${ACCEPTED.head_dim}.`,
      { file, field: 'head_dim' },
    );
  }
  return {
    hidden: c.hidden_size,
    intermediate: c.intermediate_size,
    layers: c.num_hidden_layers,
    heads: c.num_attention_heads,
    kvHeads: c.num_key_value_heads,
    headDim,
    vocab: c.vocab_size,
    eps: c.rms_norm_eps,
    ropeTheta: c.rope_theta,
    tied: c.tie_word_embeddings,
    maxPositions: c.max_position_embeddings,
    raw: obj,
  };
}

// The app's embedded demo model, as bytes: a tiny Qwen2-architecture checkpoint in the HF folder layout (config.json
// as HF Qwen2Config, model.safetensors or shards + model.safetensors.index.json as transformers writes them) with
// deterministic random weights, and optionally the byte-level BPE tokenizer of demo-tokenizer.ts trained on the
// corpus of demo-data.ts. Re-exports those two files' names, so the whole demo is importable from here.
// Pure TS: no Node, no GPU; core/node/demo.ts writes the files to disk.
import { ConfigError } from '../common/errors';
import { Rng, deriveSeed } from '../common/rng';
import { writeSafetensors, type TensorToStream, type TensorToWrite } from '../common/safetensors';
import { parseQwen2Config } from './config';
import { demoCorpus } from './demo-data';
import { buildByteLevelTokenizer, type TokenizerFilesJson } from './demo-tokenizer';
import { expectedTensors } from './names';

export { demoCorpus, demoDatasetJsonl } from './demo-data';
export {
  CHAT_TEMPLATE,
  SPECIAL_TOKENS,
  SPLIT_REGEX,
  buildByteLevelTokenizer,
  bytesToUnicode,
  type TokenizerFilesJson,
} from './demo-tokenizer';

/** n normal values of the given mean and std from a seeded stream. */
function normals(rng: Rng, n: number, std: number, mean = 0): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = mean + std * rng.normal();
  return out;
}

export interface TinyQwen2Options {
  hidden: number;
  layers: number;
  heads: number;
  kvHeads: number;
  intermediate: number;
  vocab: number;
  tied: boolean;
  dtype: 'F32' | 'BF16' | 'F16';
  seed: number;
  /** Split the weights over this many safetensors files with an index (default 1: model.safetensors). */
  shards?: number;
  ropeTheta?: number;
  eps?: number;
  /** Std of the matrices and the embedding (default 0.02, as HF's initializer_range). Biases get half of it. */
  weightScale?: number;
  maxPositions?: number;
  /** Also write tokenizer.json and tokenizer_config.json (default false). */
  tokenizer?: boolean;
  /** Tokens of the tokenizer, specials included (default min(vocab, 4096)); at most vocab. */
  tokenizerVocab?: number;
}

const HF_DTYPE: Record<TinyQwen2Options['dtype'], string> = { F32: 'float32', BF16: 'bfloat16', F16: 'float16' };

/** The deterministic f32 values of one tensor of a tiny model: a function of (seed, name, shape, scale) only. */
export function tinyTensorValues(name: string, shape: readonly number[], seed: number, weightScale = 0.02): Float32Array {
  const n = shape.reduce((a, b) => a * b, 1);
  const rng = new Rng(deriveSeed(seed, name)); // one stream per tensor name: the same values whatever the sharding
  if (name.endsWith('norm.weight')) return normals(rng, n, 0.05, 1); // RMSNorm gains around 1
  if (name.endsWith('.bias')) return normals(rng, n, weightScale / 2);
  return normals(rng, n, weightScale);
}

function pad5(i: number): string {
  return String(i).padStart(5, '0');
}

/**
 * The files of a HF folder holding a tiny Qwen2 model: config.json, model.safetensors (or shards and
 * model.safetensors.index.json), and with `tokenizer: true`, tokenizer.json and tokenizer_config.json.
 */
export function writeTinyQwen2(opts: TinyQwen2Options): Map<string, Uint8Array> {
  const shards = opts.shards ?? 1;
  const weightScale = opts.weightScale ?? 0.02;
  let tok: TokenizerFilesJson | null = null;
  if (opts.tokenizer) {
    const size = opts.tokenizerVocab ?? Math.min(opts.vocab, 4096);
    if (size > opts.vocab) {
      throw new ConfigError(`tokenizerVocab ${size} exceeds the model vocab ${opts.vocab}: every token id must have an embedding row`, { field: 'tokenizerVocab' });
    }
    tok = buildByteLevelTokenizer(demoCorpus(), size);
  }
  const specialId = (content: string): number | null => {
    const added = tok?.tokenizerJson.added_tokens as { id: number; content: string }[] | undefined;
    return added?.find((t) => t.content === content)?.id ?? null;
  };
  const config = {
    architectures: ['Qwen2ForCausalLM'],
    attention_dropout: 0.0,
    bos_token_id: specialId('<|endoftext|>'),
    eos_token_id: specialId('<|im_end|>'),
    hidden_act: 'silu',
    hidden_size: opts.hidden,
    initializer_range: weightScale,
    intermediate_size: opts.intermediate,
    max_position_embeddings: opts.maxPositions ?? 2048,
    max_window_layers: opts.layers,
    model_type: 'qwen2',
    num_attention_heads: opts.heads,
    num_hidden_layers: opts.layers,
    num_key_value_heads: opts.kvHeads,
    rms_norm_eps: opts.eps ?? 1e-6,
    rope_scaling: null,
    rope_theta: opts.ropeTheta ?? 1000000.0,
    sliding_window: null,
    tie_word_embeddings: opts.tied,
    torch_dtype: HF_DTYPE[opts.dtype],
    use_cache: true,
    use_sliding_window: false,
    vocab_size: opts.vocab,
  };
  const cfg = parseQwen2Config(config, 'config.json (tiny model options)');
  const tensors: TensorToWrite[] = expectedTensors(cfg).map((t) => ({
    name: t.name,
    dtype: opts.dtype,
    shape: t.shape,
    data: tinyTensorValues(t.name, t.shape, opts.seed, weightScale),
  }));
  if (!Number.isInteger(shards) || shards < 1 || shards > tensors.length) {
    throw new ConfigError(`shards must be an integer from 1 to ${tensors.length} (the number of tensors), got ${shards}`, { field: 'shards' });
  }

  const enc = new TextEncoder();
  const json = (v: unknown): Uint8Array => enc.encode(JSON.stringify(v, null, 2) + '\n');
  const files = new Map<string, Uint8Array>();
  files.set('config.json', json(config));
  files.set('generation_config.json', json({ bos_token_id: config.bos_token_id, eos_token_id: config.eos_token_id, do_sample: false }));
  const metadata = { format: 'pt' };
  if (shards === 1) {
    files.set('model.safetensors', writeSafetensors(tensors, metadata));
  } else {
    // Contiguous groups in state-dict order, each about total/shards bytes, as transformers' max_shard_size does.
    const bytesOf = (t: TensorToWrite): number => t.data.length * (t.dtype === 'F32' ? 4 : 2);
    const total = tensors.reduce((s, t) => s + bytesOf(t), 0);
    const groups: TensorToWrite[][] = [];
    let cur: TensorToWrite[] = [];
    let acc = 0;
    tensors.forEach((t, k) => {
      const groupsAfter = shards - groups.length - 1; // groups still to open after the current one
      const tensorsLeft = tensors.length - k; // this one included
      if (cur.length > 0 && groupsAfter > 0 && (acc >= (total * (groups.length + 1)) / shards || tensorsLeft <= groupsAfter)) {
        groups.push(cur);
        cur = [];
      }
      cur.push(t);
      acc += bytesOf(t);
    });
    groups.push(cur);
    const weightMap: Record<string, string> = {};
    groups.forEach((g, i) => {
      const file = `model-${pad5(i + 1)}-of-${pad5(shards)}.safetensors`;
      files.set(file, writeSafetensors(g, metadata));
      for (const t of g) weightMap[t.name] = file;
    });
    const sortedMap: Record<string, string> = {};
    for (const k of Object.keys(weightMap).sort()) sortedMap[k] = weightMap[k];
    files.set('model.safetensors.index.json', json({ metadata: { total_size: total }, weight_map: sortedMap }));
  }
  if (tok) {
    files.set('tokenizer.json', enc.encode(JSON.stringify(tok.tokenizerJson)));
    files.set('tokenizer_config.json', json(tok.tokenizerConfig));
  }
  return files;
}

/** The embedded default model of the app: 4 layers, hidden 128, GQA 4/2, vocab 1024, tied, f32, with tokenizer. */
export const DEMO_MODEL: TinyQwen2Options = {
  hidden: 128,
  layers: 4,
  heads: 4,
  kvHeads: 2,
  intermediate: 256,
  vocab: 1024,
  tied: true,
  dtype: 'F32',
  seed: 1234,
  ropeTheta: 10000,
  eps: 1e-6,
  weightScale: 0.02,
  maxPositions: 1024,
  tokenizer: true,
  tokenizerVocab: 1024,
};

/** The files of the demo model folder (see DEMO_MODEL). */
export function demoModelFiles(): Map<string, Uint8Array> {
  return writeTinyQwen2(DEMO_MODEL);
}

// ------------------------------------------------------------------------------------------------ real shapes

/** The seed of a real-shape model's weights when none is given (`mesp demo-model --shape`'s --seed). */
export const SHAPE_SEED = 1234;

export interface ShapeModelOptions {
  /** Default SHAPE_SEED. */
  seed?: number;
  /** Tokens of the demo tokenizer (default 4096, at most the shape's vocab_size). */
  tokenizerVocab?: number;
}

export interface ShapeModel {
  /** config.json (the shape's, with torch_dtype bfloat16 and the demo tokenizer's bos/eos ids). */
  config: Record<string, unknown>;
  /** The weights in state-dict order, bf16, each produced when written (a 3B model never sits in memory). */
  tensors: TensorToStream[];
  /** config.json, generation_config.json, tokenizer.json, tokenizer_config.json. */
  files: Map<string, Uint8Array>;
}

/**
 * A model folder of a real shape (a Qwen2.5 config.json or any Qwen2 config) with deterministic random bf16 weights
 * (tinyTensorValues: normal with std 0.02, HF's initializer_range; RMSNorm gains around 1) and the demo byte-level
 * BPE tokenizer: its tokens are ids 0..tokenizerVocab-1, and the embedding rows above them (up to the shape's
 * vocab_size, 151936 for Qwen2.5) belong to no token, as the rows a real Qwen2.5 checkpoint pads its vocabulary with.
 * For benchmarks and deployment tests of real sizes with nothing to download.
 */
export function demoShapeModel(shapeConfig: Record<string, unknown>, opts: ShapeModelOptions = {}): ShapeModel {
  const seed = opts.seed ?? SHAPE_SEED;
  const base = parseQwen2Config(shapeConfig, 'the shape config');
  const size = Math.min(opts.tokenizerVocab ?? 4096, base.vocab);
  const tok = buildByteLevelTokenizer(demoCorpus(), size);
  const added = tok.tokenizerJson.added_tokens as { id: number; content: string }[];
  const idOf = (content: string): number => added.find((t) => t.content === content)!.id;
  const config = { ...shapeConfig, torch_dtype: 'bfloat16', bos_token_id: idOf('<|endoftext|>'), eos_token_id: idOf('<|im_end|>') };
  const cfg = parseQwen2Config(config, 'the shape config');
  const tensors: TensorToStream[] = expectedTensors(cfg).map((t) => ({
    name: t.name, dtype: 'BF16', shape: t.shape, produce: () => tinyTensorValues(t.name, t.shape, seed, 0.02),
  }));
  const enc = new TextEncoder();
  const json = (v: unknown): Uint8Array => enc.encode(JSON.stringify(v, null, 2) + '\n');
  const files = new Map<string, Uint8Array>([
    ['config.json', json(config)],
    ['generation_config.json', json({ bos_token_id: config.bos_token_id, eos_token_id: config.eos_token_id, do_sample: false })],
    ['tokenizer.json', enc.encode(JSON.stringify(tok.tokenizerJson))],
    ['tokenizer_config.json', json(tok.tokenizerConfig)],
  ]);
  return { config, tensors, files };
}

// The base model with the adapter merged in (core/export/merge.ts) as a plain Hugging Face Qwen2 folder, what
// transformers' save_pretrained writes and transformers / vLLM load as Qwen2ForCausalLM with no PEFT:
//   config.json (the base's, unchanged: same architecture, same torch_dtype), generation_config.json when the base has
//   one, model-00001-of-0000N.safetensors shards, each under 2 GB (HF_SHARD_LIMIT; transformers' max_shard_size
//   splits the same way: contiguous groups in state-dict order), model.safetensors.index.json
//   {"metadata": {"total_size"}, "weight_map": {tensor: shard}}, and the tokenizer files copied from the base.
// Every tensor of the base is written in the base's own dtype (bf16 stays bf16: the merged W + s·B·A is computed in
// f32 and rounded once, as PEFT's merge_and_unload in that dtype); tensors the adapter does not touch are copied
// exactly. Pure TS: the plan of shards and the index; core/node streams the shards.
import { ShapeError } from '../common/errors';
import { safetensorsFileBytes, type TensorToStream, type WriteDtype } from '../common/safetensors';

/** Each shard file stays strictly under this many bytes. */
export const HF_SHARD_LIMIT = 2_000_000_000;
/** Files copied from the base folder when present (tokenizer and generation settings). */
export const HF_COPIED_FILES = [
  'generation_config.json', 'tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json', 'vocab.json', 'merges.txt',
  'added_tokens.json', 'chat_template.jinja',
] as const;
export const HF_INDEX_FILE = 'model.safetensors.index.json';
export const HF_SHARD_METADATA = { format: 'pt' };

export interface HfTensor {
  name: string;
  dtype: WriteDtype;
  shape: readonly number[];
}

export interface HfShard {
  file: string;
  tensors: HfTensor[];
  /** The shard file's size. */
  bytes: number;
}

const SIZE: Record<WriteDtype, number> = { F32: 4, F16: 2, BF16: 2, I32: 4 };

function dataBytes(t: HfTensor): number {
  return t.shape.reduce((a, b) => a * b, 1) * SIZE[t.dtype];
}

function shardName(i: number, n: number): string {
  return `model-${String(i + 1).padStart(5, '0')}-of-${String(n).padStart(5, '0')}.safetensors`;
}

/** Contiguous groups of tensors in the given order, each file under `limit` bytes (header included). */
export function planHfShards(tensors: readonly HfTensor[], limit = HF_SHARD_LIMIT): HfShard[] {
  const groups: HfTensor[][] = [];
  let cur: HfTensor[] = [];
  for (const t of tensors) {
    const alone = safetensorsFileBytes([t], HF_SHARD_METADATA);
    if (alone >= limit) throw new ShapeError(`merged safetensors: tensor "${t.name}" (${dataBytes(t)} bytes) does not fit in a shard of less than ${limit} bytes`);
    if (cur.length && safetensorsFileBytes([...cur, t], HF_SHARD_METADATA) >= limit) {
      groups.push(cur);
      cur = [];
    }
    cur.push(t);
  }
  if (cur.length) groups.push(cur);
  return groups.map((g, i) => ({ file: shardName(i, groups.length), tensors: g, bytes: safetensorsFileBytes(g, HF_SHARD_METADATA) }));
}

/** model.safetensors.index.json for the shards: total_size is the tensor data's bytes (as transformers writes it). */
export function hfIndexJson(shards: readonly HfShard[]): string {
  const map: Record<string, string> = {};
  let total = 0;
  for (const s of shards) {
    for (const t of s.tensors) {
      map[t.name] = s.file;
      total += dataBytes(t);
    }
  }
  const sorted: Record<string, string> = {};
  for (const k of Object.keys(map).sort()) sorted[k] = map[k];
  return JSON.stringify({ metadata: { total_size: total }, weight_map: sorted }, null, 2) + '\n';
}

/** The streamed tensors of one shard, each produced by `produce(name)` (the merged values, as f32). */
export function hfShardTensors(shard: HfShard, produce: (name: string) => Float32Array): TensorToStream[] {
  return shard.tensors.map((t) => ({ ...t, produce: () => produce(t.name) }));
}

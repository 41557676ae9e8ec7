// The tokens that end a generation, merged as transformers resolves them: generation_config.json's eos_token_id
// (an id or a list: Qwen2.5-Instruct lists <|im_end|> and <|endoftext|>), config.json's eos_token_id, and the
// eos_token of tokenizer_config.json. Pure TS: the caller reads the files.
import { isJsonObject } from '../common/errors';

function idsOf(v: unknown): number[] {
  if (typeof v === 'number' && Number.isInteger(v) && v >= 0) return [v];
  if (Array.isArray(v)) return v.filter((x): x is number => typeof x === 'number' && Number.isInteger(x) && x >= 0);
  return [];
}

/** Sorted, distinct ids; [] when no source names one (generation then ends only at max_new_tokens or a stop string). */
export function eosTokenIds(sources: { generationConfig?: unknown; modelConfig?: unknown; tokenizerEosId?: number | null }): number[] {
  const ids = new Set<number>();
  for (const cfg of [sources.generationConfig, sources.modelConfig]) {
    if (isJsonObject(cfg)) for (const id of idsOf(cfg.eos_token_id)) ids.add(id);
  }
  if (sources.tokenizerEosId != null) ids.add(sources.tokenizerEosId);
  return [...ids].sort((a, b) => a - b);
}

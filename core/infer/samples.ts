// Sample replies during training (`mesp train --sample-prompts FILE --sample-every N`): with the trainer's live model
// and adapter, a greedy reply to each prompt, so that the replies of successive steps differ only by what training
// changed. Runs under the run's ledger and cap, between steps, and frees everything it allocates.
import type { TextTokenizer } from '../data/tokenizer';
import type { GpuContext } from '../gpu/context';
import type { LoraAdapter } from '../model/adapter';
import type { ModelWeights } from '../model/weights';
import { generate } from './generate';
import { GREEDY } from './sampling';

/** New tokens per sample reply. */
export const SAMPLE_MAX_NEW_TOKENS = 64;

export interface SampleReply {
  prompt: string;
  /** The reply's text; the token ids, space-separated, for a model folder without tokenizer.json. */
  reply: string;
}

/** A greedy reply (at most SAMPLE_MAX_NEW_TOKENS tokens) to each prompt, in order. */
export async function sampleReplies(
  ctx: GpuContext, model: ModelWeights, lora: LoraAdapter | null, prompts: readonly { label: string; ids: readonly number[] }[],
  opts: { eosIds: readonly number[]; tokenizer: TextTokenizer | null; maxNewTokens?: number },
): Promise<SampleReply[]> {
  const out: SampleReply[] = [];
  for (const p of prompts) {
    const maxNewTokens = Math.max(1, Math.min(opts.maxNewTokens ?? SAMPLE_MAX_NEW_TOKENS, model.cfg.maxPositions - p.ids.length));
    const r = await generate(ctx, model, lora, p.ids, { sampling: GREEDY, maxNewTokens, eosIds: opts.eosIds, stop: [], tokenizer: opts.tokenizer });
    out.push({ prompt: p.label, reply: opts.tokenizer ? r.text : r.tokens.join(' ') });
  }
  return out;
}

// Autoregressive generation (HF transformers' GenerationMixin.generate for one sequence): the prompt is prefilled
// into a KV cache sized for prompt + max_new_tokens (core/infer/decoder.ts), then each chosen token (core/infer/
// sampling.ts) is fed back one at a time until an EOS id, a stop string (core/infer/textstream.ts), max_new_tokens,
// or the caller's stop request. Tokens are streamed through a callback as they are chosen. The cache and every buffer
// of the generation are freed on the way out, also on an error, so the ledger is back at its baseline.
import type { Precision } from '../api/names';
import type { FinishReason, TokenEventData } from '../api/generate';
import { ConfigError } from '../common/errors';
import type { TextTokenizer } from '../data/tokenizer';
import type { GpuContext } from '../gpu/context';
import type { LoraAdapter } from '../model/adapter';
import type { ModelWeights } from '../model/weights';
import { KvDecoder } from './decoder';
import { Sampler, type SamplingSettings } from './sampling';
import { TextStream } from './textstream';

export type { FinishReason };

export interface GenerateSpec {
  sampling: SamplingSettings;
  maxNewTokens: number;
  /** Tokens that end the generation (core/infer/eos.ts); they are kept in `tokens`, not in the text. */
  eosIds: readonly number[];
  /** Strings that end the generation; the text ends before the first one. Needs a tokenizer. */
  stop: readonly string[];
  /** Decodes the text; null: tokens only (a model folder without tokenizer.json). */
  tokenizer: TextTokenizer | null;
  /** f16 storage of the layers' intermediates (default f32). */
  precision?: Precision;
}

/** One streamed token (core/api/generate.ts TokenEventSchema). */
export type TokenEvent = TokenEventData;

export interface GenerateHooks {
  onToken?(e: TokenEvent): void;
  /** Checked between tokens: true ends the generation with finishReason 'cancelled'. */
  shouldStop?(): boolean;
}

export interface GenerateOutcome {
  /** The new token ids (an EOS that ended it included). */
  tokens: number[];
  text: string;
  finishReason: FinishReason;
  promptTokens: number;
  /** Wall time of the prefill, up to the first token's logits on the host. */
  prefillSeconds: number;
  /** Wall time of the one-token steps, and their number. */
  decodeSeconds: number;
  decodeSteps: number;
  kvCacheBytes: number;
}

/** Refuse a prompt the model cannot take, naming the setting. */
export function checkPrompt(model: ModelWeights, promptIds: readonly number[], maxNewTokens: number): void {
  const V = model.cfg.vocab;
  if (promptIds.length === 0) throw new ConfigError('the prompt is empty: give at least one token', { field: 'prompt' });
  const bad = promptIds.findIndex((id) => !Number.isInteger(id) || id < 0 || id >= V);
  if (bad >= 0) throw new ConfigError(`prompt token ${bad} is ${promptIds[bad]}, not a token id of this model (0..${V - 1})`, { field: 'promptIds' });
  if (!Number.isInteger(maxNewTokens) || maxNewTokens < 1) throw new ConfigError(`max new tokens must be an integer ≥ 1, got ${maxNewTokens}`, { field: 'maxNewTokens' });
  const most = model.cfg.maxPositions;
  if (promptIds.length + maxNewTokens > most) {
    throw new ConfigError(
      `the prompt (${promptIds.length} tokens) plus --max-new-tokens ${maxNewTokens} is over the model's max_position_embeddings ${most}; ` +
        `use --max-new-tokens ${Math.max(1, most - promptIds.length)} or less, or a shorter prompt`,
      { field: 'maxNewTokens' },
    );
  }
}

const now = (): number => (typeof performance !== 'undefined' ? performance.now() : Date.now());

export async function generate(
  ctx: GpuContext, model: ModelWeights, lora: LoraAdapter | null, promptIds: readonly number[], spec: GenerateSpec, hooks: GenerateHooks = {},
): Promise<GenerateOutcome> {
  checkPrompt(model, promptIds, spec.maxNewTokens);
  const sampler = new Sampler(spec.sampling, promptIds);
  const text = new TextStream(spec.tokenizer, spec.stop);
  const eos = new Set(spec.eosIds);
  const decoder = KvDecoder.open(ctx, model, lora, promptIds.length + spec.maxNewTokens, { precision: spec.precision }); // refused here, before the prefill
  try {
    const t0 = now();
    let logits = await decoder.prefill(promptIds);
    const prefillSeconds = (now() - t0) / 1000;
    const tokens: number[] = [];
    let finishReason: FinishReason = 'length';
    let decodeSeconds = 0;
    let decodeSteps = 0;
    for (;;) {
      const token = sampler.next(logits);
      tokens.push(token);
      const isEos = eos.has(token);
      const { delta, stopped } = isEos ? { delta: '', stopped: false } : text.push(token);
      hooks.onToken?.({ index: tokens.length - 1, token, text: delta });
      if (isEos) {
        finishReason = 'eos';
        break;
      }
      if (stopped) {
        finishReason = 'stop';
        break;
      }
      if (tokens.length >= spec.maxNewTokens) break;
      if (hooks.shouldStop?.()) {
        finishReason = 'cancelled';
        break;
      }
      const ts = now();
      logits = await decoder.step(token);
      decodeSeconds += (now() - ts) / 1000;
      decodeSteps++;
    }
    const rest = text.finish();
    if (rest) hooks.onToken?.({ index: tokens.length - 1, token: tokens[tokens.length - 1], text: rest });
    return {
      tokens, text: text.text, finishReason, promptTokens: promptIds.length, prefillSeconds, decodeSeconds, decodeSteps,
      kvCacheBytes: decoder.cache.bytes,
    };
  } finally {
    decoder.free();
  }
}

// A run's sample prompts (`mesp train --sample-prompts FILE [--sample-every N]`): read and tokenized before the run
// starts (a bad file fails it at once, naming the line), then answered with the trainer's live model and adapter
// (core/infer/samples.ts) before the first step, every N steps (by default at the validation steps) and after the
// last, each reply a `sample` event in events.jsonl.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { TrainConfig } from '../../api/train';
import { ConfigError } from '../../common/errors';
import type { TextTokenizer } from '../../data/tokenizer';
import { eosTokenIds } from '../../infer/eos';
import { parseSamplePrompts, promptIds } from '../../infer/prompts';
import { sampleReplies, type SampleReply } from '../../infer/samples';
import type { GpuContext } from '../../gpu/context';
import type { LoraAdapter } from '../../model/adapter';
import type { ModelWeights } from '../../model/weights';
import { loadTokenizer } from '../loaders';
import type { ModelFolder } from '../modelfiles';
import { readGenerationConfig } from './generate';

export interface RunSamples {
  prompts: { label: string; ids: number[] }[];
  eosIds: number[];
  tokenizer: TextTokenizer | null;
  /** Sample after every N steps (0: only before the first and after the last). */
  every: number;
}

/** The run's sample prompts, tokenized; null when the run has none. */
export function prepareSamples(cfg: TrainConfig, folder: ModelFolder): RunSamples | null {
  if (!cfg.samplePrompts) return null;
  const file = resolve(cfg.samplePrompts);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new ConfigError(`cannot read the sample prompts: ${(e as Error).message}`, { file, field: 'samplePrompts' });
  }
  const tokenizer = loadTokenizer(folder.dir);
  const prompts = parseSamplePrompts(text, file).map((p) => ({ label: p.label, ids: promptIds(tokenizer, p.prompt) }));
  const eosIds = eosTokenIds({ generationConfig: readGenerationConfig(folder.dir), modelConfig: folder.config.raw, tokenizerEosId: tokenizer?.eosId ?? null });
  return { prompts, eosIds, tokenizer, every: cfg.sampleEvery ?? cfg.valEvery };
}

/** Whether replies are due after `step` steps of a run of `totalSteps`. */
export function samplesDue(s: RunSamples, step: number, totalSteps: number): boolean {
  return step === 0 || step === totalSteps || (s.every > 0 && step % s.every === 0);
}

/** The replies with the live model and adapter. */
export function answerSamples(ctx: GpuContext, model: ModelWeights, lora: LoraAdapter, s: RunSamples): Promise<SampleReply[]> {
  return sampleReplies(ctx, model, lora, s.prompts, s);
}

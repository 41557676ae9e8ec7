// The contract's generation domain (core/api/contract.ts): the app's Chat view asks for one prompt answered by the base
// model and by the base model with a LoRA adapter (a folder or a run's), with the same seed and sampling settings, and
// follows the tokens as service events while they are chosen; it can cancel. The request is core/api/generate.ts's
// (what to load, the prompt, the sampling) plus which answers to give; each answer's result is GenerateResultSchema.
// A generation takes the service's one GPU job slot, as a run does (core/node/service/hoststate.ts). Pure TS.
import { z } from 'zod';
import {
  GenerateModelFields, GenerateResultSchema, PromptSchema, SamplingSchema, TokenEventSchema, checkModel, checkPrompt,
} from '../generate';
import { ServiceErrorSchema } from './shared';

/** base: the model as it is; adapter: the model with the adapter applied (unmerged). */
export const AnswerSchema = z.enum(['base', 'adapter']);
export type Answer = z.infer<typeof AnswerSchema>;

/** generate.start: what to load, the prompt, the sampling (core/api/generate.ts), and the answers, in this order. */
export const GenerateStartSchema = GenerateModelFields.extend(PromptSchema.shape).extend(SamplingSchema.shape).extend({
  answers: z.array(AnswerSchema).min(1).max(2).default(['base', 'adapter']),
}).superRefine((r, ctx) => {
  checkModel(r, ctx);
  checkPrompt(r, ctx);
  if (new Set(r.answers).size !== r.answers.length) ctx.addIssue({ code: 'custom', path: ['answers'], message: 'name each answer once' });
  if (r.answers.includes('adapter') && r.adapterDir === undefined && r.runDir === undefined) {
    ctx.addIssue({ code: 'custom', path: ['adapterDir'], message: 'the answer with the adapter needs an adapter folder or a run' });
  }
});
export type GenerateStartParams = z.input<typeof GenerateStartSchema>;

export const GenerateStartResultSchema = z.object({
  generationId: z.string(),
  answers: z.array(AnswerSchema),
  promptTokens: z.number().int(),
  /** The adapter folder the "adapter" answer uses (a run's adapter/), or null. */
  adapterDir: z.string().nullable(),
});

export const GenerateRefSchema = z.object({ generationId: z.string().min(1) });
export const GenerateCancelResultSchema = z.object({ generationId: z.string(), cancelled: z.boolean() });

/** What a generation reports as it goes: each token of each answer, each answer's result, then the end. */
export const GenerateEventSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('answer'), answer: AnswerSchema }),
  z.object({ type: z.literal('token'), answer: AnswerSchema, ...TokenEventSchema.shape }),
  z.object({ type: z.literal('result'), answer: AnswerSchema, result: GenerateResultSchema }),
  /** The last event: every answer given (done), cancelled, or failed (the error, e.g. a KV cache over the cap). */
  z.object({ type: z.literal('end'), status: z.enum(['done', 'cancelled', 'failed']), error: ServiceErrorSchema.optional() }),
]);
export type GenerateEvent = z.infer<typeof GenerateEventSchema>;

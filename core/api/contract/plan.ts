// The contract's memory plan (core/api/contract.ts): plan.fit's params (the TrainSpec settings a step's memory depends
// on, a model folder or a real Qwen2.5 shape, the profile and the methods) and its predicted peak by method (the
// engine's dry run, DESIGN.md §3), with where in the step the peak happens (the layer and the tensor whose allocation
// made it) and, on request, the step's memory timeline. Also the phone's settings "will it fit?" starts from. Pure TS.
import { z } from 'zod';
import { METHODS, MethodSchema } from '../names';
import { TRAIN_DEFAULTS, TrainInputsSchema, TrainSpecSchema, pickSpec, specMask } from '../train';
import { ByCategorySchema, path } from './shared';
import { StepProjectionSchema } from '../roofline';

/** The real Qwen2.5 shapes "will it fit?" can plan without their weights (core/model/shapes.ts). */
export const FIT_SHAPES = ['qwen2.5-0.5b', 'qwen2.5-1.5b', 'qwen2.5-3b'] as const;

/** The settings a training step's memory depends on (what plan.fit passes to the engine's plan). */
export const FIT_SPEC_KEYS = ['quant', 'seqLen', 'batch', 'rank', 'alpha', 'targets', 'optimizer', 'storeH', 'chunkedHead', 'headChunk', 'capBytes', 'precision'] as const;

/** The settings "will it fit?" shows inline (the rest are the spec's defaults). */
export const PLAN_FORM_KEYS = ['quant', 'seqLen', 'rank', 'targets', 'batch'] as const;

/**
 * What "will it fit?" plans first: a real Qwen2.5 shape with a phone's settings — the spec's defaults (sequences of 256
 * tokens, LoRA rank 8 on q and v, batch 1, AdamW) with int4 weights, as the MeSP paper trains on a phone.
 */
export const PHONE_PLAN = { shape: 'qwen2.5-3b' as (typeof FIT_SHAPES)[number], ...pickSpec(TRAIN_DEFAULTS, PLAN_FORM_KEYS), quant: 'int4' as const };

/** Where a tensor of the schedule lives, from its ledger name (`l12.qr` → layer 12; `head.*`, `ce.*` → the LM head and loss). */
export function tensorPlace(name: string): { layer: number | null; part: string } {
  const m = /^l(\d+)\./.exec(name);
  if (m) return { layer: Number(m[1]), part: `layer ${m[1]}` };
  if (/^(head|ce|logits|nll|lse|final_norm)\b/.test(name)) return { layer: null, part: 'the LM head and loss' };
  if (/^(embed|batch)\b/.test(name)) return { layer: null, part: 'the embedding' };
  if (/^resid\b/.test(name)) return { layer: null, part: 'the residual stream' };
  return { layer: null, part: 'outside the layers' };
}

export const FitParamsSchema = TrainSpecSchema.pick(specMask(FIT_SPEC_KEYS)).extend({
  profile: TrainInputsSchema.shape.profile,
  /** The chosen model folder; or, with `shape`, none. */
  modelDir: path.optional(),
  /** Plan a real Qwen2.5 shape instead of the chosen model (nothing needs to be downloaded). */
  shape: z.enum(FIT_SHAPES).optional(),
  dataPath: path.optional(),
  methods: z.array(MethodSchema).min(1).default([...METHODS]),
  /** Also send each method's memory timeline of one step (for the chart; a few hundred points a method). */
  timeline: z.boolean().default(false),
}).refine((p) => (p.modelDir === undefined) !== (p.shape === undefined), { message: 'give modelDir or shape, not both', path: ['modelDir'] });
export type FitParams = z.input<typeof FitParamsSchema>;

/** The allocation that took a step to its peak: its category and ledger name, and the layer it belongs to. */
export const PeakPlaceSchema = z.object({ category: z.string(), name: z.string(), layer: z.number().nullable(), part: z.string() });
export type PeakPlace = z.infer<typeof PeakPlaceSchema>;

/** One point of a planned step's timeline: live bytes by category after the `x`-th ledger event of the step. */
export const PlanPointSchema = z.object({ x: z.number(), live: ByCategorySchema });
export type PlanPoint = z.infer<typeof PlanPointSchema>;

export const FitMethodSchema = z.object({
  method: MethodSchema,
  /** Highest total live bytes of a training step, predicted by the engine's plan (a dry run of the real schedule). */
  peakBytes: z.number(),
  /** Live bytes by category at that moment (these add up to peakBytes). */
  atPeak: ByCategorySchema,
  peakByCategory: ByCategorySchema,
  workingSetBytes: z.number(),
  fits: z.boolean(),
  error: z.string().nullable(),
  /** Where in the step the peak happens (null when the plan failed). */
  peakAt: PeakPlaceSchema.nullable().default(null),
  /** The step's ledger events, thinned keeping the peak (when asked for with `timeline`). */
  timeline: z.array(PlanPointSchema).default([]),
  /** Ledger events in the planned step (the length of its time axis). */
  events: z.number().default(0),
  /** The roofline projection of the planned step on the profile's GPU, f32 then f16 arithmetic (core/api/roofline.ts); empty when the plan failed. */
  projections: z.array(StepProjectionSchema).default([]),
});
export type FitMethod = z.infer<typeof FitMethodSchema>;

export const FitResultSchema = z.object({
  /** What was planned: the model folder's name or the Qwen2.5 shape id. */
  model: z.string(),
  capBytes: z.number(),
  profileId: z.string(),
  /** Tokens per row the plan used (the longest row of the dataset, at most seqLen). */
  seqLen: z.number(),
  methods: z.array(FitMethodSchema),
});
export type FitResult = z.infer<typeof FitResultSchema>;

// The contract's memory plan (core/api/contract.ts): plan.fit's params (the TrainSpec settings a step's memory depends
// on, a model folder or a real Qwen2.5 shape, the profile and the methods) and its predicted peak by method (the
// engine's dry run, DESIGN.md §3). Pure TS.
import { z } from 'zod';
import { METHODS, MethodSchema } from '../names';
import { TrainInputsSchema, TrainSpecSchema, specMask } from '../train';
import { ByCategorySchema, path } from './shared';
import { StepProjectionSchema } from '../roofline';

/** The real Qwen2.5 shapes "will it fit?" can plan without their weights (core/model/shapes.ts). */
export const FIT_SHAPES = ['qwen2.5-0.5b', 'qwen2.5-1.5b', 'qwen2.5-3b'] as const;

/** The settings a training step's memory depends on (what plan.fit passes to the engine's plan). */
export const FIT_SPEC_KEYS = ['quant', 'seqLen', 'batch', 'rank', 'alpha', 'targets', 'optimizer', 'storeH', 'chunkedHead', 'headChunk', 'capBytes', 'precision'] as const;

export const FitParamsSchema = TrainSpecSchema.pick(specMask(FIT_SPEC_KEYS)).extend({
  profile: TrainInputsSchema.shape.profile,
  /** The chosen model folder; or, with `shape`, none. */
  modelDir: path.optional(),
  /** Plan a real Qwen2.5 shape instead of the chosen model (nothing needs to be downloaded). */
  shape: z.enum(FIT_SHAPES).optional(),
  dataPath: path.optional(),
  methods: z.array(MethodSchema).min(1).default([...METHODS]),
}).refine((p) => (p.modelDir === undefined) !== (p.shape === undefined), { message: 'give modelDir or shape, not both', path: ['modelDir'] });
export type FitParams = z.input<typeof FitParamsSchema>;

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

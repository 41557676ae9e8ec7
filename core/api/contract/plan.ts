// The contract's training settings and memory plan (core/api/contract.ts): the settings plan.fit, runs.start and
// compare.start share, and plan.fit's predicted peak by method (the engine's dry run, DESIGN.md §3). Pure TS.
import { z } from 'zod';
import { QuantSchema } from '../eval';
import { MethodSchema, ProjectionSchema } from '../train';
import { ByCategorySchema, METHOD_NAMES, path } from './shared';

export const TrainSettingsSchema = z.object({
  modelDir: path,
  dataPath: path,
  /** A built-in profile id or a saved user copy's id. */
  profile: z.string().min(1),
  quant: QuantSchema.default('none'),
  rank: z.number().int().min(1).max(256).default(8),
  alpha: z.number().positive().default(16),
  targets: z.array(ProjectionSchema).min(1).default(['q', 'v']),
  seqLen: z.number().int().min(2).max(32768).default(128),
  batch: z.number().int().min(1).max(1024).default(1),
  steps: z.number().int().min(1).max(1_000_000).default(20),
  lr: z.number().positive().default(1e-3),
  optimizer: z.enum(['sgd', 'adamw']).default('sgd'),
  seed: z.number().int().min(0).default(42),
  valFraction: z.number().min(0).max(0.5).default(0),
  valEvery: z.number().int().min(0).default(0),
  checkpointEvery: z.number().int().min(0).default(0),
  mezoEps: z.number().positive().default(1e-3),
  /** A smaller cap than the profile's budget, in bytes (to see what a tighter phone does). */
  capBytes: z.number().int().positive().optional(),
});
export type TrainSettings = z.input<typeof TrainSettingsSchema>;

/** The real Qwen2.5 shapes "will it fit?" can plan without their weights (core/model/shapes.ts). */
export const FIT_SHAPES = ['qwen2.5-0.5b', 'qwen2.5-1.5b', 'qwen2.5-3b'] as const;

export const FitParamsSchema = TrainSettingsSchema.omit({ steps: true, valEvery: true, checkpointEvery: true, valFraction: true, lr: true, mezoEps: true }).extend({
  /** The chosen model folder; or, with `shape`, none. */
  modelDir: path.optional(),
  /** Plan a real Qwen2.5 shape instead of the chosen model (nothing needs to be downloaded). */
  shape: z.enum(FIT_SHAPES).optional(),
  dataPath: path.optional(),
  methods: z.array(MethodSchema).min(1).default([...METHOD_NAMES]),
}).refine((p) => (p.modelDir === undefined) !== (p.shape === undefined), { message: 'give modelDir or shape, not both', path: ['modelDir'] });

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

// The contract's compare domain (core/api/contract.ts): a comparison of methods on the same model, data and profile
// (measured peaks, memory timelines, loss, step time, MeZO's gradient cosine), its controls and its events. Its
// settings are a run's (RunParamsSchema, from the TrainSpec) with the methods in place of one method. Pure TS.
import { z } from 'zod';
import { METHODS, MethodSchema } from '../names';
import { RunEventSchema, TrainSpecSchema, checkSpec } from '../train';
import { RunParamsSchema, RunStatusSchema } from './runs';
import { ByCategorySchema, ServiceErrorSchema } from './shared';

export const CompareSettingsSchema = RunParamsSchema.omit({ method: true }).extend({
  methods: z.array(MethodSchema).min(1).default([...METHODS]),
  /** A comparison is short: the spec's steps, at most 10 000 a method, 8 unless asked. */
  steps: TrainSpecSchema.shape.steps.unwrap().max(10_000).default(8),
  /** How many MeZO directions z to compare with the exact gradient. */
  cosineSamples: z.number().int().min(1).max(64).default(8),
  name: z.string().max(80).optional(),
});
export const CompareStartSchema = CompareSettingsSchema.superRefine(checkSpec);
export type CompareStartParams = z.input<typeof CompareStartSchema>;

export const CompareRefSchema = z.object({ compareId: z.string().min(1) });
/** A comparison runs its methods through the same run lifecycle as a single run: it pauses, resumes and stops. */
export const CompareControlResultSchema = z.object({ compareId: z.string(), status: RunStatusSchema });

export const TimelinePointSchema = z.object({ ms: z.number(), live: ByCategorySchema });
export type TimelinePoint = z.infer<typeof TimelinePointSchema>;

export const CompareMethodSchema = z.object({
  method: MethodSchema,
  status: z.enum(['pending', 'running', 'done', 'stopped', 'failed']),
  runDir: z.string(),
  predictedPeakBytes: z.number().nullable(),
  /** Highest total live bytes measured over the run's steps. */
  peakBytes: z.number().nullable(),
  /** Live bytes by category at the measured peak of the recorded step. */
  atPeak: ByCategorySchema.nullable(),
  workingSetBytes: z.number().nullable(),
  /** One step's memory timeline (live bytes by category against ms since the step began). */
  timeline: z.array(TimelinePointSchema),
  loss: z.array(z.object({ step: z.number(), loss: z.number(), seconds: z.number() })),
  /** Median seconds per step (the first step, which compiles pipelines, is left out when there are more). */
  stepSeconds: z.number().nullable(),
  tokensPerSecond: z.number().nullable(),
  error: ServiceErrorSchema.nullable(),
});
export type CompareMethod = z.infer<typeof CompareMethodSchema>;

export const CosineSchema = z.object({
  /** The exact gradient's method (MeSP; full and MeBP give the same numbers). */
  exactMethod: MethodSchema,
  /** Cosine of each MeZO estimate ĝ = ((L₊ − L₋)/2ε)·z with the exact gradient, one per direction z. */
  samples: z.array(z.number()),
  mean: z.number(),
  meanAbs: z.number(),
  /** Trainable parameters d; a random direction's |cosine| is about sqrt(2/(πd)). */
  parameters: z.number(),
  randomBaseline: z.number(),
  error: z.string().nullable(),
});
export type CosineResult = z.infer<typeof CosineSchema>;

export const ComparisonSchema = z.object({
  version: z.literal(1),
  id: z.string(),
  name: z.string(),
  createdAt: z.string(),
  status: z.enum(['running', 'done', 'stopped', 'failed', 'interrupted']),
  settings: CompareSettingsSchema,
  profileId: z.string(),
  capBytes: z.number(),
  modelName: z.string(),
  methods: z.array(CompareMethodSchema),
  cosine: CosineSchema.nullable(),
  /** Why the comparison as a whole failed (each method's own failure is in its row). */
  error: ServiceErrorSchema.nullable().default(null),
});
export type Comparison = z.infer<typeof ComparisonSchema>;

export const CompareSummarySchema = z.object({
  id: z.string(),
  name: z.string(),
  createdAt: z.string(),
  status: ComparisonSchema.shape.status,
  methods: z.array(MethodSchema),
  profileId: z.string(),
  capBytes: z.number(),
});
export type CompareSummary = z.infer<typeof CompareSummarySchema>;

export const CompareEventSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('start'), comparison: ComparisonSchema }),
  z.object({ type: z.literal('method-start'), method: MethodSchema, index: z.number() }),
  /** The comparison's state as the run lifecycle moves it (running, paused, stopping). */
  z.object({ type: z.literal('status'), status: RunStatusSchema }),
  z.object({ type: z.literal('run'), method: MethodSchema, event: RunEventSchema }),
  z.object({ type: z.literal('method-done'), method: MethodSchema, result: CompareMethodSchema }),
  z.object({ type: z.literal('cosine'), cosine: CosineSchema }),
  z.object({ type: z.literal('done'), comparison: ComparisonSchema }),
]);
export type CompareEvent = z.infer<typeof CompareEventSchema>;

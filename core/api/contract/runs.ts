// The contract's runs domain (core/api/contract.ts): a run's parameters (the TrainSpec plus the chosen model, dataset
// and profile: core/api/train.ts), and starting, pausing, resuming, stopping, listing and opening runs (a run folder,
// core/node/runstore.ts). Pure TS.
import { z } from 'zod';
import { MethodSchema } from '../names';
import { RunConfigSchema, RunEventSchema, TrainInputsSchema, TrainSpecSchema, checkSpec } from '../train';
import { ServiceErrorSchema } from './shared';

export const RunStatusSchema = z.enum(['queued', 'running', 'paused', 'stopping', 'done', 'stopped', 'failed', 'interrupted']);
export type RunStatus = z.infer<typeof RunStatusSchema>;

/** What the app sends for a run: every TrainSpec setting and the ids (paths) of the chosen model, dataset and profile. */
export const RunParamsSchema = TrainInputsSchema.extend(TrainSpecSchema.shape);
export type RunParams = z.input<typeof RunParamsSchema>;

/** A label for the Runs list (the folder name is made from it and the time). */
const label = z.string().max(80).optional();

export const RunStartSchema = RunParamsSchema.extend({ name: label }).superRefine(checkSpec);
export type RunStartParams = z.input<typeof RunStartSchema>;

export const RunSummarySchema = z.object({
  id: z.string(),
  dir: z.string(),
  name: z.string(),
  createdAt: z.string(),
  method: MethodSchema,
  profileId: z.string(),
  capBytes: z.number(),
  modelName: z.string(),
  totalSteps: z.number(),
  stepsDone: z.number(),
  lastLoss: z.number().nullable(),
  status: RunStatusSchema,
  lastCheckpoint: z.object({ step: z.number(), path: z.string() }).nullable(),
  /** A run that did not finish can continue from its last checkpoint (or from step 0 when there is none). */
  resumable: z.boolean(),
  error: ServiceErrorSchema.nullable(),
});
export type RunSummary = z.infer<typeof RunSummarySchema>;

export const RunDetailSchema = z.object({ summary: RunSummarySchema, config: RunConfigSchema, events: z.array(RunEventSchema) });
export type RunDetail = z.infer<typeof RunDetailSchema>;

export const RunRefSchema = z.object({ runId: z.string().min(1) });
export const RunControlResultSchema = z.object({ runId: z.string(), status: RunStatusSchema });

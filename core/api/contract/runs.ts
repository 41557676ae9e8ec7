// The contract's runs domain (core/api/contract.ts): starting, pausing, resuming, stopping, listing and opening
// runs (a run folder, core/node/runstore.ts). Pure TS.
import { z } from 'zod';
import { MethodSchema, RunConfigSchema, RunEventSchema } from '../train';
import { TrainSettingsSchema } from './plan';
import { ServiceErrorSchema } from './shared';

export const RunStatusSchema = z.enum(['queued', 'running', 'paused', 'stopping', 'done', 'stopped', 'failed', 'interrupted']);
export type RunStatus = z.infer<typeof RunStatusSchema>;

export const RunStartSchema = TrainSettingsSchema.extend({
  method: MethodSchema.default('mesp'),
  /** A label for the Runs list (the folder name is made from it and the time). */
  name: z.string().max(80).optional(),
});
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

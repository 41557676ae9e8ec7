// The service contract for training runs: the request (what `mesp train` flags and the app's Train view set), the
// run folder's config.json, and the events a run streams (also written one per line to events.jsonl).
// Pure TS with zod schemas (DESIGN.md §1, §2).
import { z } from 'zod';
import { PeakBytesSchema, QuantSchema } from './eval';

export const MethodSchema = z.enum(['full', 'mebp', 'mesp', 'mezo']);
export type MethodName = z.infer<typeof MethodSchema>;
export const ProjectionSchema = z.enum(['q', 'k', 'v', 'o', 'gate', 'up', 'down']);

export const TrainRequestSchema = z.object({
  modelDir: z.string().min(1),
  dataPath: z.string().min(1),
  /** A separate validation jsonl; otherwise `valFraction` of the data is held out. */
  valPath: z.string().optional(),
  valFraction: z.number().min(0).max(0.5).default(0),
  method: MethodSchema.default('mesp'),
  /** A built-in profile id or a path to a profile JSON file. */
  profile: z.string().default('phone-8gb'),
  /** LoRA rank, alpha and targets: from --init-adapter when given, else 8, 16 and PEFT's Qwen2 default (q, v). */
  rank: z.number().int().min(1).max(256).optional(),
  alpha: z.number().positive().optional(),
  targets: z.array(ProjectionSchema).min(1).optional(),
  seqLen: z.number().int().min(2).max(32768).default(256),
  batch: z.number().int().min(1).max(1024).default(1),
  /** Total optimizer steps; with `epochs`, steps = epochs × batches per epoch. */
  steps: z.number().int().min(1).optional(),
  epochs: z.number().int().min(1).optional(),
  lr: z.number().positive().default(1e-3),
  optimizer: z.enum(['sgd', 'adamw']).default('sgd'),
  schedule: z.enum(['constant', 'cosine']).default('constant'),
  warmupSteps: z.number().int().min(0).default(0),
  weightDecay: z.number().min(0).default(0.01),
  /** Clip the global gradient norm (off by default). */
  clipNorm: z.number().positive().nullable().default(null),
  seed: z.number().int().min(0).default(42),
  quant: QuantSchema.default('none'),
  initAdapter: z.string().optional(),
  /** The run folder. */
  outDir: z.string().min(1),
  checkpointEvery: z.number().int().min(0).default(0),
  valEvery: z.number().int().min(0).default(0),
  mezoEps: z.number().positive().default(1e-3),
  /** MeSP ablation: keep h = x·Aᵀ instead of recomputing it. */
  storeH: z.boolean().default(false),
  /** MeSP: run the LM head and loss in chunks of tokens (turn off for the ablation). */
  chunkedHead: z.boolean().default(true),
  headChunk: z.number().int().min(1).optional(),
  /** Override the profile's cap (bytes): to try a smaller budget than the phone's. */
  capBytes: z.number().int().positive().optional(),
  /** A jsonl of prompts ("text", {"prompt"} or {"messages"}) answered greedily with the live adapter during the run. */
  samplePrompts: z.string().min(1).optional(),
  /** Sample replies every N steps (default: at the validation steps); always before the first step and after the last. */
  sampleEvery: z.number().int().min(1).optional(),
});
export type TrainRequest = z.input<typeof TrainRequestSchema>;
export type TrainConfig = z.output<typeof TrainRequestSchema>;

/** config.json of a run folder: the resolved request plus what identifies the inputs. */
export const RunConfigSchema = z.object({
  version: z.literal(1),
  createdAt: z.string(),
  request: TrainRequestSchema,
  totalSteps: z.number().int(),
  lora: z.object({ rank: z.number().int(), alpha: z.number(), targets: z.array(ProjectionSchema) }),
  model: z.object({
    dir: z.string(),
    /** A name safe to publish (hub id or folder name). */
    name: z.string(),
    fingerprint: z.string(),
    layers: z.number().int(),
    hidden: z.number().int(),
    vocab: z.number().int(),
    parameters: z.number().int(),
  }),
  data: z.object({ trainRows: z.number().int(), valRows: z.number().int(), trainTokens: z.number().int() }),
  loraParameters: z.number().int(),
  capBytes: z.number(),
  profileId: z.string(),
});
export type RunConfig = z.infer<typeof RunConfigSchema>;

const base = { t: z.number() /* ms since epoch */ };

export const RunEventSchema = z.discriminatedUnion('type', [
  z.object({ ...base, type: z.literal('start'), runDir: z.string(), totalSteps: z.number(), startStep: z.number(), method: MethodSchema, adapter: z.string(), predictedPeakBytes: z.number().optional() }),
  z.object({
    ...base, type: z.literal('step'), step: z.number(), steps: z.number(), loss: z.number(), lr: z.number(), tokens: z.number(),
    tokensPerSecond: z.number(), stepSeconds: z.number(), peakBytes: PeakBytesSchema, workingSetBytes: z.number(),
    elapsedSeconds: z.number(), etaSeconds: z.number(),
  }),
  z.object({ ...base, type: z.literal('val'), step: z.number(), valLoss: z.number(), tokens: z.number() }),
  z.object({ ...base, type: z.literal('checkpoint'), step: z.number(), path: z.string() }),
  /** A greedy reply to one of the run's sample prompts after `step` steps (0: before training). */
  z.object({ ...base, type: z.literal('sample'), step: z.number(), prompt: z.string(), reply: z.string() }),
  /** One step's ledger timeline (the step after the first), for the memory-over-time chart. */
  z.object({
    ...base, type: z.literal('timeline'), step: z.number(),
    points: z.array(z.object({ ms: z.number(), seq: z.number(), name: z.string(), kind: z.enum(['alloc', 'free', 'mark']), live: PeakBytesSchema.omit({ total: true }) })),
  }),
  z.object({ ...base, type: z.literal('done'), step: z.number(), reason: z.enum(['done', 'stopped']), adapterDir: z.string() }),
  z.object({
    ...base, type: z.literal('error'), step: z.number(), code: z.string(), message: z.string(),
    /** For OUT_OF_BUDGET: the refused request, live bytes by category, the overshoot. */
    budget: z.object({ request: z.object({ name: z.string(), category: z.string(), bytes: z.number() }), liveByCategory: z.record(z.string(), z.number()), capBytes: z.number(), overshootBytes: z.number() }).optional(),
    lastCheckpoint: z.string().nullable(),
  }),
]);
export type RunEvent = z.infer<typeof RunEventSchema>;

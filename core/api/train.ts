// One TrainSpec: every setting of a training run, with one set of defaults and ranges and each field's flag, help,
// label and unit (core/api/fields.ts). Everything else is derived from it, never copied:
//  - `mesp train`'s flags, parsing and --help (TrainRequestSchema: the spec, the input files and the run folder);
//  - the app's run parameters (RunParamsSchema in contract/runs.ts: the spec plus the chosen model, dataset and
//    profile) and its settings form and field errors (safeParse);
//  - what the engine receives: picks of the spec (core/train/trainer.ts TrainLoopSpec, core/train/plan.ts).
// Also the run folder's config.json and the events a run streams (and writes one per line to events.jsonl); the
// trainer's event types are these schemas' inferred types. Pure TS (DESIGN.md §1, §2).
import { z } from 'zod';
import { described } from './fields';
import { ByCategorySchema, DEFAULT_PROFILE_ID, METHODS, MethodSchema, OPTIMIZERS, PeakBytesSchema, PrecisionSchema, ProjectionSchema, PROJECTIONS, QUANTS, QuantSchema, SCHEDULES, parseTargets } from './names';

export { MethodSchema, ProjectionSchema, type MethodName } from './names';

const int = (min: number, max: number): z.ZodNumber => z.number().int().min(min).max(max);

/** Every setting of a run. Groups: the method, the run's length and data, LoRA, the optimizer, checkpoints, sample replies, memory. */
export const TrainSpecSchema = z.object({
  method: described(MethodSchema.default('mesp'), {
    label: 'Method', arg: 'M', group: 'method', help: `the backward: ${METHODS.join(' | ')} (core/train/methods.ts)`,
  }),
  steps: described(int(1, 10_000_000).optional(), {
    label: 'Steps', arg: 'N', unit: 'steps', group: 'run', help: 'optimizer steps (default: one epoch, or --epochs)',
  }),
  epochs: described(int(1, 10_000).optional(), {
    label: 'Epochs', arg: 'E', group: 'run', help: 'whole passes over the training rows, instead of --steps',
  }),
  seqLen: described(int(2, 32768).default(256), {
    label: 'Sequence length', arg: 'N', unit: 'tokens', group: 'run', help: 'truncate rows to N tokens',
  }),
  batch: described(int(1, 1024).default(1), { label: 'Batch', arg: 'B', unit: 'rows', group: 'run', help: 'rows per step' }),
  seed: described(int(0, 2 ** 31 - 1).default(42), { label: 'Seed', arg: 'S', group: 'run', help: 'LoRA init, shuffling and MeZO directions' }),
  valFraction: described(z.number().min(0).max(0.5).default(0), {
    label: 'Validation share', arg: 'F', group: 'run', help: 'hold out this share of the rows for validation (unless --val)',
  }),
  valEvery: described(int(0, 10_000_000).default(0), {
    label: 'Validate every', arg: 'N', unit: 'steps', group: 'run', help: 'validation loss every N steps (0: at the end only)',
  }),
  quant: described(QuantSchema.default('none'), { label: 'Weights', arg: 'Q', group: 'memory', help: `quantize the frozen weights on load: ${QUANTS.join(' | ')}` }),
  rank: described(int(1, 256).default(8), { label: 'LoRA rank', arg: 'R', group: 'lora', help: 'LoRA rank r (an --init-adapter brings its own)' }),
  alpha: described(z.number().positive().max(100_000).default(16), { label: 'LoRA alpha', arg: 'A', group: 'lora', help: 'LoRA alpha; the scale is alpha / r' }),
  targets: described(z.array(ProjectionSchema).min(1).default(['q', 'v']), {
    label: 'LoRA on', arg: 'LIST', group: 'lora', help: `projections to adapt: any of ${PROJECTIONS.join(',')}, or all`, fromText: parseTargets,
  }),
  lr: described(z.number().positive().max(10).default(1e-3), { label: 'Learning rate', arg: 'LR', group: 'optimizer', help: 'peak learning rate' }),
  optimizer: described(z.enum(OPTIMIZERS).default('adamw'), { label: 'Optimizer', arg: 'O', group: 'optimizer', help: `${OPTIMIZERS.join(' | ')}` }),
  schedule: described(z.enum(SCHEDULES).default('constant'), {
    label: 'Schedule', arg: 'S', group: 'optimizer', help: `learning-rate schedule after the warmup: ${SCHEDULES.join(' | ')}`,
  }),
  warmupSteps: described(int(0, 10_000_000).default(0), {
    label: 'Warmup', flag: 'warmup', arg: 'N', unit: 'steps', group: 'optimizer', help: 'linear warmup over the first N steps',
  }),
  weightDecay: described(z.number().min(0).max(10).default(0.01), { label: 'Weight decay', arg: 'W', group: 'optimizer', help: 'AdamW decoupled weight decay' }),
  clipNorm: described(z.number().positive().nullable().default(null), {
    label: 'Clip norm', arg: 'X', group: 'optimizer', help: 'clip the global gradient norm to X (off when not given)',
  }),
  mezoEps: described(z.number().positive().max(1).default(1e-3), { label: 'MeZO ε', arg: 'E', group: 'optimizer', help: "MeZO's perturbation size" }),
  checkpointEvery: described(int(0, 10_000_000).default(50), {
    label: 'Checkpoint every', arg: 'N', unit: 'steps', group: 'run', help: 'also checkpoint every N steps (0: only at the end and when stopped)',
  }),
  storeH: described(z.boolean().default(false), { label: 'Store h', group: 'ablation', help: 'MeSP ablation: keep h = x·Aᵀ instead of recomputing it' }),
  chunkedHead: described(z.boolean().default(true), {
    label: 'Chunked head', group: 'ablation', help: 'MeSP runs the LM head and loss in chunks of tokens; off, the (T, V) logits exist whole (the paper\'s ablation)',
  }),
  precision: described(PrecisionSchema.default('f32'), {
    label: 'Precision', arg: 'P', group: 'memory',
    help: 'f16 stores the checkpoints, the layers\' saved tensors and the LoRA weights in f16, half their bytes (MeZO keeps its LoRA weights f32); every kernel still computes and accumulates in f32; needs an adapter with shader-f16 (f32 | f16)',
  }),
  headChunk: described(int(1, 32768).default(16), { label: 'Head chunk', arg: 'N', unit: 'tokens', group: 'ablation', help: 'tokens per chunk of the chunked head' }),
  samplePrompts: described(z.string().min(1).optional(), {
    label: 'Sample prompts', arg: 'FILE', group: 'samples',
    help: 'jsonl of prompts ("text", {"prompt"} or {"messages"}) answered greedily with the live adapter before the first step, at the validation steps and after the last',
  }),
  sampleEvery: described(int(1, 10_000_000).optional(), {
    label: 'Sample every', arg: 'N', unit: 'steps', group: 'samples', help: 'answer the sample prompts every N steps instead of at the validation steps',
  }),
  capBytes: described(z.number().int().positive().optional(), {
    label: 'Cap override', arg: 'BYTES', unit: 'bytes', group: 'memory', help: "a smaller memory cap than the profile's budget",
  }),
});
export type TrainSpec = z.output<typeof TrainSpecSchema>;
export type TrainSpecInput = z.input<typeof TrainSpecSchema>;
export type TrainSpecKey = keyof TrainSpec;

/** The spec's defaults, for code that runs without a request (the engine's own defaults, the memory plan). */
export const TRAIN_DEFAULTS: TrainSpec = TrainSpecSchema.parse({});

/** A mask for `TrainSpecSchema.pick` from a list of keys. */
export function specMask<K extends TrainSpecKey>(keys: readonly K[]): { [P in K]: true } {
  return Object.fromEntries(keys.map((k) => [k, true])) as { [P in K]: true };
}

/** The values of some spec keys (what a part of the engine receives). */
export function pickSpec<K extends TrainSpecKey>(spec: TrainSpec, keys: readonly K[]): Pick<TrainSpec, K> {
  return Object.fromEntries(keys.map((k) => [k, spec[k]])) as Pick<TrainSpec, K>;
}

/** Refinements over a whole request: --steps and --epochs exclude each other. */
export function checkSpec(s: { steps?: number; epochs?: number }, ctx: z.core.$RefinementCtx): void {
  if (s.steps !== undefined && s.epochs !== undefined) {
    ctx.addIssue({ code: 'custom', path: ['epochs'], message: 'give steps or epochs, not both', params: { conflictsWith: 'steps' } });
  }
}

const path = (label: string, help: string, flag: string, arg: string): z.ZodString => described(z.string().min(1, 'give a path'), { label, help, flag, arg, group: 'inputs' });

/** The input files of a run: model, data (and validation data), the starting adapter, the device profile. */
export const TrainInputsSchema = z.object({
  modelDir: path('Model', 'HF Qwen2 folder (config.json, model.safetensors[.index.json], tokenizer.json), or a hub id OWNER/NAME[@REV] (pulled on first use)', 'model', 'DIR'),
  dataPath: path('Dataset', 'jsonl: {"text"}, {"prompt","completion"}, {"messages":[...]} or {"input_ids"[,"labels"]}; or hf://datasets/OWNER/NAME[@REV]/PATH.jsonl', 'data', 'FILE'),
  valPath: described(z.string().min(1).optional(), { label: 'Validation file', flag: 'val', arg: 'FILE', group: 'inputs', help: 'validation jsonl (else --val-fraction of the data)' }),
  initAdapter: described(z.string().min(1).optional(), {
    label: 'Start from adapter', arg: 'DIR', group: 'inputs', help: 'start from a PEFT adapter folder (its rank, alpha and targets)',
  }),
  profile: described(z.string().min(1).default(DEFAULT_PROFILE_ID), {
    label: 'Device profile', arg: 'ID|FILE', group: 'inputs', help: `device profile whose budget is the hard cap (see \`mesp profiles\`)`,
  }),
});

/** `mesp train`'s request: the spec, the inputs and the run folder. */
export const TrainRequestSchema = TrainSpecSchema.extend(TrainInputsSchema.shape).extend({
  outDir: described(z.string().min(1), { label: 'Run folder', flag: 'out', arg: 'RUN_DIR', group: 'inputs', help: 'the run folder: config.json, events.jsonl, checkpoints/, adapter/' }),
}).superRefine(checkSpec);
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

/** A budget-exceeded report, as the engine's OutOfBudgetError carries it. */
export const BudgetReportSchema = z.object({
  request: z.object({ name: z.string(), category: z.string(), bytes: z.number() }),
  liveByCategory: z.record(z.string(), z.number()),
  capBytes: z.number(),
  overshootBytes: z.number(),
});
export type BudgetReport = z.infer<typeof BudgetReportSchema>;

const base = { t: z.number() /* ms since epoch */ };

export const StepEventSchema = z.object({
  ...base, type: z.literal('step'),
  /** 1-based number of the step just finished, of `steps`. */
  step: z.number(), steps: z.number(), loss: z.number(), lr: z.number(), tokens: z.number(),
  tokensPerSecond: z.number(), stepSeconds: z.number(), peakBytes: PeakBytesSchema, workingSetBytes: z.number(),
  elapsedSeconds: z.number(), etaSeconds: z.number(),
  /** Live bytes by category at the moment this step's total peaked (they add up to peakBytes.total); absent in runs written before. */
  atPeak: ByCategorySchema.optional(),
});
export const ValEventSchema = z.object({ ...base, type: z.literal('val'), step: z.number(), valLoss: z.number(), tokens: z.number() });

export const RunEventSchema = z.discriminatedUnion('type', [
  z.object({
    ...base, type: z.literal('start'), runDir: z.string(), totalSteps: z.number(), startStep: z.number(), method: MethodSchema, adapter: z.string(),
    predictedPeakBytes: z.number().optional(),
    /** The cap this attempt runs under (config.json's capBytes; a resume with a new cap records it there too). */
    capBytes: z.number().optional(),
    /** On a resume: newer checkpoints that failed validation and were skipped, and why. */
    skippedCheckpoints: z.array(z.object({ path: z.string(), reason: z.string() })).optional(),
  }),
  StepEventSchema,
  ValEventSchema,
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
    budget: BudgetReportSchema.optional(),
    lastCheckpoint: z.string().nullable(),
  }),
]);
export type RunEvent = z.infer<typeof RunEventSchema>;
export type RunEventOf<T extends RunEvent['type']> = Extract<RunEvent, { type: T }>;
/** What the training loop reports (core/train/trainer.ts); the run adds the time stamp. */
export type LoopEvent = Omit<z.infer<typeof StepEventSchema>, 't'> | Omit<z.infer<typeof ValEventSchema>, 't'>;

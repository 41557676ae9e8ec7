// The app's service contract (DESIGN.md §1–2): every request, response and event between the renderer and the training
// service, as zod schemas. Electron's main process validates each message against these before relaying it over the
// MessagePort to the service (a utilityProcess); in browser mode the WebSocket server does the same; the client
// (core/api/client.ts) validates what comes back. One table, CONTRACT, maps a method name to its params and result.
// Pure TS (no Node, no GPU): the renderer, the preload, main, the service and the tests all import it.
import { z } from 'zod';
import { DeviceProfileSchema } from '../profiles/schema';
import { PeakBytesSchema, QuantSchema } from './eval';
import {
  EXPORT_FORMATS, ExportDTypeSchema, ExportFormatSchema, ExportPreviewSchema, ExportResultSchema, type ExportFormat, type ExportPreview, type ExportResult,
} from './export';
import { MethodSchema, ProjectionSchema, RunConfigSchema, RunEventSchema } from './train';

export { DeviceProfileSchema };
export type { DeviceProfile } from '../profiles/schema';

// ---------------------------------------------------------------------------------------------------------------
// Shared pieces

/** Live or peak bytes by ledger category (DESIGN.md §3). */
export const ByCategorySchema = PeakBytesSchema.omit({ total: true });
export type ByCategoryBytes = z.infer<typeof ByCategorySchema>;
export const CATEGORY_NAMES = ['weights', 'adapter', 'grads', 'optimizer', 'activations', 'workspace'] as const;
export type CategoryName = (typeof CATEGORY_NAMES)[number];
export const METHOD_NAMES = ['full', 'mebp', 'mesp', 'mezo'] as const;

const path = z.string().min(1, 'give a path');
const empty = z.object({}).strict();

/** A budget-exceeded report, as the engine's OutOfBudgetError carries it. */
export const BudgetReportSchema = z.object({
  request: z.object({ name: z.string(), category: z.string(), bytes: z.number() }),
  liveByCategory: z.record(z.string(), z.number()),
  capBytes: z.number(),
  overshootBytes: z.number(),
});
export type BudgetReport = z.infer<typeof BudgetReportSchema>;

/** An error as a response carries it: a code for programs, a message that says what, where and what to do. */
export const ServiceErrorSchema = z.object({
  code: z.string(),
  message: z.string(),
  /** The request field the error is about, when there is one (the UI highlights it). */
  field: z.string().optional(),
  budget: BudgetReportSchema.optional(),
});
export type ServiceError = z.infer<typeof ServiceErrorSchema>;

// ---------------------------------------------------------------------------------------------------------------
// App, files

export const AppInfoSchema = z.object({
  version: z.string(),
  mode: z.enum(['electron', 'browser', 'test']),
  /** Native file dialogs (Electron) or path/upload choosing (browser mode). */
  nativeDialogs: z.boolean(),
  dataDir: z.string(),
  runsDir: z.string(),
  comparisonsDir: z.string(),
  /** Folders whose files the service may read (browser mode: the folders it was started with, plus dataDir). */
  roots: z.array(z.string()),
  demo: z.object({ modelDir: z.string(), dataPath: z.string() }),
  recent: z.object({ models: z.array(z.string()), datasets: z.array(z.string()) }),
  /** The run being trained now, if any (a window opened during a run picks it up). */
  activeRunId: z.string().nullable(),
  activeCompareId: z.string().nullable(),
});
export type AppInfo = z.infer<typeof AppInfoSchema>;

export const FileKindSchema = z.enum(['model', 'dataset', 'exportDir', 'profile']);
export type FileKind = z.infer<typeof FileKindSchema>;

export const FileCheckSchema = z.object({
  ok: z.boolean(),
  /** The absolute path. */
  path: z.string(),
  error: z.string().nullable(),
});
export type FileCheck = z.infer<typeof FileCheckSchema>;

export const BrowseEntrySchema = z.object({ name: z.string(), path: z.string(), kind: z.enum(['dir', 'file']), bytes: z.number() });
export const BrowseResultSchema = z.object({
  dir: z.string().nullable(),
  parent: z.string().nullable(),
  entries: z.array(BrowseEntrySchema),
  roots: z.array(z.string()),
});
export type BrowseResult = z.infer<typeof BrowseResultSchema>;

/** Browser-mode upload: one file a call; files of one model folder share an uploadId. At most 64 MiB a file. */
export const UploadParamsSchema = z.object({
  kind: z.enum(['dataset', 'model']),
  uploadId: z.string().regex(/^[a-z0-9-]{1,64}$/).optional(),
  name: z.string().min(1).max(200).regex(/^[^/\\]+$/, 'a file name, without folders'),
  base64: z.string().max(90_000_000),
});

// ---------------------------------------------------------------------------------------------------------------
// Profiles

export const ProfileEntrySchema = z.object({
  profile: DeviceProfileSchema,
  source: z.enum(['builtin', 'user']),
  /** The JSON file of a user copy. */
  path: z.string().nullable(),
  capBytes: z.number(),
});
export type ProfileEntry = z.infer<typeof ProfileEntrySchema>;

export const ProfileIssueSchema = z.object({ path: z.string(), message: z.string() });
export type ProfileIssue = z.infer<typeof ProfileIssueSchema>;

// ---------------------------------------------------------------------------------------------------------------
// Model and data

export const ModelInfoSchema = z.object({
  dir: z.string(),
  name: z.string(),
  architecture: z.string(),
  parameters: z.number(),
  layers: z.number(),
  hidden: z.number(),
  intermediate: z.number(),
  heads: z.number(),
  kvHeads: z.number(),
  vocab: z.number(),
  tiedEmbeddings: z.boolean(),
  /** The checkpoint's stored dtypes (F32, BF16, ...). */
  dtypes: z.array(z.string()),
  /** Bytes of tensor data in the safetensors files. */
  fileBytes: z.number(),
  shards: z.number(),
  /** GPU bytes of the frozen weights for each on-load quantization (the engine's own allocation, dry). */
  weightsBytes: z.object({ none: z.number().nullable(), int8: z.number().nullable(), int4: z.number().nullable() }),
  hasTokenizer: z.boolean(),
  hasChatTemplate: z.boolean(),
});
export type ModelInfo = z.infer<typeof ModelInfoSchema>;

export const PreviewTokenSchema = z.object({ id: z.number(), text: z.string(), trained: z.boolean() });
export type PreviewToken = z.infer<typeof PreviewTokenSchema>;

export const DatasetInfoSchema = z.object({
  path: z.string(),
  rows: z.number(),
  tokens: z.number(),
  /** Tokens whose label is not masked (the loss is computed on these). */
  trainedTokens: z.number(),
  truncatedRows: z.number(),
  maxRowTokens: z.number(),
  meanRowTokens: z.number(),
  formats: z.record(z.string(), z.number()),
  seqLen: z.number(),
  preview: z.object({ index: z.number(), line: z.number(), format: z.string(), tokens: z.array(PreviewTokenSchema) }).nullable(),
});
export type DatasetInfo = z.infer<typeof DatasetInfoSchema>;

// ---------------------------------------------------------------------------------------------------------------
// Training settings shared by plan.fit, runs.start and compare.start

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

export const FitParamsSchema = TrainSettingsSchema.omit({ steps: true, valEvery: true, checkpointEvery: true, valFraction: true, lr: true, mezoEps: true }).extend({
  dataPath: path.optional(),
  methods: z.array(MethodSchema).min(1).default([...METHOD_NAMES]),
});

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
  capBytes: z.number(),
  profileId: z.string(),
  /** Tokens per row the plan used (the longest row of the dataset, at most seqLen). */
  seqLen: z.number(),
  methods: z.array(FitMethodSchema),
});
export type FitResult = z.infer<typeof FitResultSchema>;

// ---------------------------------------------------------------------------------------------------------------
// Runs

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

// ---------------------------------------------------------------------------------------------------------------
// Compare

export const CompareStartSchema = TrainSettingsSchema.extend({
  methods: z.array(MethodSchema).min(1).default([...METHOD_NAMES]),
  steps: z.number().int().min(1).max(10_000).default(8),
  /** How many MeZO directions z to compare with the exact gradient. */
  cosineSamples: z.number().int().min(1).max(64).default(8),
  name: z.string().max(80).optional(),
});
export type CompareStartParams = z.input<typeof CompareStartSchema>;

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
  settings: CompareStartSchema,
  profileId: z.string(),
  capBytes: z.number(),
  modelName: z.string(),
  methods: z.array(CompareMethodSchema),
  cosine: CosineSchema.nullable(),
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
  z.object({ type: z.literal('run'), method: MethodSchema, event: RunEventSchema }),
  z.object({ type: z.literal('method-done'), method: MethodSchema, result: CompareMethodSchema }),
  z.object({ type: z.literal('cosine'), cosine: CosineSchema }),
  z.object({ type: z.literal('done'), comparison: ComparisonSchema }),
]);
export type CompareEvent = z.infer<typeof CompareEventSchema>;

// ---------------------------------------------------------------------------------------------------------------
// Export (the exporter's own schemas, core/api/export.ts; the app names a run by id instead of its folder)

export const ExportPreviewParamsSchema = z.object({
  runId: z.string().min(1),
  formats: z.array(ExportFormatSchema).min(1).default([...EXPORT_FORMATS]),
  dtype: ExportDTypeSchema.default('f32'),
  /** The bundle folder (default: the run's exports/ folder); the preview lists files an export there would replace. */
  destDir: z.string().optional(),
});
export const ExportRunParamsSchema = ExportPreviewParamsSchema.extend({ overwrite: z.boolean().default(false) });
export type ExportRunParams = z.input<typeof ExportRunParamsSchema>;
export { EXPORT_FORMATS, ExportFormatSchema, ExportPreviewSchema, ExportResultSchema };
export type { ExportFormat, ExportPreview, ExportResult };

// ---------------------------------------------------------------------------------------------------------------
// The table: method name → params and result

export const CONTRACT = {
  'app.info': { params: empty, result: AppInfoSchema },
  'files.choose': { params: z.object({ kind: FileKindSchema, defaultPath: z.string().optional() }), result: z.object({ path: z.string().nullable() }) },
  'files.check': { params: z.object({ kind: FileKindSchema, path }), result: FileCheckSchema },
  'files.browse': { params: z.object({ dir: z.string().optional() }), result: BrowseResultSchema },
  'files.upload': { params: UploadParamsSchema, result: z.object({ path: z.string(), uploadId: z.string() }) },
  'profiles.list': { params: empty, result: z.object({ profiles: z.array(ProfileEntrySchema) }) },
  'profiles.validate': {
    params: z.object({ profile: z.unknown() }),
    result: z.object({ ok: z.boolean(), issues: z.array(ProfileIssueSchema), capBytes: z.number().nullable() }),
  },
  'profiles.save': { params: z.object({ profile: z.unknown() }), result: z.object({ entry: ProfileEntrySchema }) },
  'profiles.delete': { params: z.object({ id: z.string().min(1) }), result: z.object({ deleted: z.boolean() }) },
  'model.inspect': { params: z.object({ modelDir: path }), result: ModelInfoSchema },
  'dataset.inspect': {
    params: z.object({ dataPath: path, modelDir: path, seqLen: z.number().int().min(2).default(128), previewIndex: z.number().int().min(0).default(0) }),
    result: DatasetInfoSchema,
  },
  'plan.fit': { params: FitParamsSchema, result: FitResultSchema },
  'runs.start': { params: RunStartSchema, result: z.object({ runId: z.string(), runDir: z.string() }) },
  'runs.pause': { params: RunRefSchema, result: RunControlResultSchema },
  'runs.resume': { params: RunRefSchema.extend({ capBytes: z.number().int().positive().optional() }), result: RunControlResultSchema },
  'runs.stop': { params: RunRefSchema, result: RunControlResultSchema },
  'runs.list': { params: empty, result: z.object({ runs: z.array(RunSummarySchema) }) },
  'runs.open': { params: RunRefSchema, result: RunDetailSchema },
  'compare.start': { params: CompareStartSchema, result: z.object({ compareId: z.string() }) },
  'compare.stop': { params: z.object({ compareId: z.string().min(1) }), result: z.object({ compareId: z.string(), stopping: z.boolean() }) },
  'compare.list': { params: empty, result: z.object({ comparisons: z.array(CompareSummarySchema) }) },
  'compare.open': { params: z.object({ compareId: z.string().min(1) }), result: z.object({ comparison: ComparisonSchema }) },
  'export.preview': { params: ExportPreviewParamsSchema, result: ExportPreviewSchema },
  'export.run': { params: ExportRunParamsSchema, result: ExportResultSchema },
} as const;

export type ContractMethod = keyof typeof CONTRACT;
export type ParamsOf<M extends ContractMethod> = z.input<(typeof CONTRACT)[M]['params']>;
export type ParsedParamsOf<M extends ContractMethod> = z.output<(typeof CONTRACT)[M]['params']>;
export type ResultOf<M extends ContractMethod> = z.output<(typeof CONTRACT)[M]['result']>;
export const CONTRACT_METHODS = Object.keys(CONTRACT) as ContractMethod[];

// ---------------------------------------------------------------------------------------------------------------
// Events and envelopes

export const ServiceEventSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('run'), runId: z.string(), event: RunEventSchema }),
  z.object({ type: z.literal('run.status'), runId: z.string(), status: RunStatusSchema }),
  z.object({ type: z.literal('compare'), compareId: z.string(), event: CompareEventSchema }),
  /** The service's own state, as main or the WebSocket client sees it (a restarted service lost its live runs). */
  z.object({ type: z.literal('service'), state: z.enum(['ready', 'down', 'restarted']), message: z.string() }),
]);
export type ServiceEvent = z.infer<typeof ServiceEventSchema>;

export const RequestEnvelopeSchema = z.object({
  id: z.number().int().nonnegative(),
  method: z.enum(CONTRACT_METHODS as [ContractMethod, ...ContractMethod[]]),
  params: z.unknown(),
});
export type RequestEnvelope = z.infer<typeof RequestEnvelopeSchema>;

export const ResponseEnvelopeSchema = z.discriminatedUnion('ok', [
  z.object({ id: z.number(), ok: z.literal(true), result: z.unknown() }),
  z.object({ id: z.number(), ok: z.literal(false), error: ServiceErrorSchema }),
]);
export type ResponseEnvelope = z.infer<typeof ResponseEnvelopeSchema>;

/** What travels from the service to a client: a response to one request, or an event for every client. */
export const ServerMessageSchema = z.union([ResponseEnvelopeSchema, z.object({ event: ServiceEventSchema })]);
export type ServerMessage = ResponseEnvelope | { event: ServiceEvent };

/** A message that broke the contract: names the method and the first bad field. */
export class ContractError extends Error {
  readonly code = 'BAD_MESSAGE';
  readonly field: string | undefined;
  constructor(message: string, field?: string) {
    super(message);
    this.name = 'ContractError';
    this.field = field;
  }
}

function issueText(error: z.ZodError): { text: string; field?: string } {
  const first = error.issues[0];
  const field = first?.path.map(String).join('.') || undefined;
  const text = error.issues
    .slice(0, 3)
    .map((i) => `${i.path.length ? i.path.map(String).join('.') : '(value)'}: ${i.message}`)
    .join('; ');
  return { text, field };
}

/** Parse a request envelope and its params; throws ContractError naming the method and the bad field. */
export function parseRequest(raw: unknown): { id: number; method: ContractMethod; params: unknown } {
  const env = RequestEnvelopeSchema.safeParse(raw);
  if (!env.success) {
    const { text, field } = issueText(env.error);
    throw new ContractError(`not a MeSP request (${text}); the method must be one of ${CONTRACT_METHODS.join(', ')}.`, field);
  }
  return { id: env.data.id, method: env.data.method, params: parseParams(env.data.method, env.data.params ?? {}) };
}

export function parseParams<M extends ContractMethod>(method: M, raw: unknown): ParsedParamsOf<M> {
  const r = CONTRACT[method].params.safeParse(raw ?? {});
  if (!r.success) {
    const { text, field } = issueText(r.error);
    throw new ContractError(`${method}: bad request: ${text}. Fix the field and try again.`, field);
  }
  return r.data as ParsedParamsOf<M>;
}

export function parseResult<M extends ContractMethod>(method: M, raw: unknown): ResultOf<M> {
  const r = CONTRACT[method].result.safeParse(raw);
  if (!r.success) {
    const { text, field } = issueText(r.error);
    throw new ContractError(`${method}: the service sent a result that breaks the contract (${text}). Update the app so both sides match.`, field);
  }
  return r.data as ResultOf<M>;
}

export function parseEvent(raw: unknown): ServiceEvent {
  const r = ServiceEventSchema.safeParse(raw);
  if (!r.success) {
    const { text, field } = issueText(r.error);
    throw new ContractError(`the service sent an event that breaks the contract (${text}).`, field);
  }
  return r.data;
}

/**
 * What Electron's preload exposes as `window.mesp`, and what the WebSocket transport implements in browser mode:
 * request/response plus an event stream, nothing else.
 */
export interface MespBridge {
  readonly kind: 'electron' | 'websocket' | 'memory';
  request(req: RequestEnvelope): Promise<ResponseEnvelope>;
  /** Subscribe to service events; returns the unsubscribe function. */
  onEvent(listener: (event: ServiceEvent) => void): () => void;
}

export { IPC } from './ipc';

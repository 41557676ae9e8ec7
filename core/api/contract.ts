// The app's service contract (DESIGN.md §1–2): every request, response and event between the renderer and the training
// service, as zod schemas. Electron's main process validates each message against these before relaying it over the
// MessagePort to the service (a utilityProcess); in browser mode the WebSocket server does the same; the client
// (core/api/client.ts) validates what comes back. One table, CONTRACT, maps a method name to its params and result;
// the schemas live by domain in core/api/contract/ (shared, files, profiles, inspect, plan, runs, compare, export,
// hub, service-events) and are all re-exported here, so this module stays the one import.
// Pure TS (no Node, no GPU): the renderer, the preload, main, the service and the tests all import it.
import { z } from 'zod';
import { DeviceProfileSchema } from '../profiles/schema';
import { ExportPreviewSchema, ExportResultSchema } from './export';
import { CompareControlResultSchema, CompareRefSchema, CompareStartSchema, CompareSummarySchema, ComparisonSchema } from './contract/compare';
import { ExportPreviewParamsSchema, ExportRunParamsSchema } from './contract/export';
import { ServiceEventSchema, type ServiceEvent } from './contract/service-events';
import { AppInfoSchema, BrowseResultSchema, FileCheckSchema, FileKindSchema, UploadParamsSchema, UploadResultSchema } from './contract/files';
import { DatasetInfoSchema, ModelInfoSchema } from './contract/inspect';
import { FitParamsSchema, FitResultSchema } from './contract/plan';
import {
  CatalogueParamsSchema, CatalogueSchema, HubCachedSchema, HubCancelResultSchema, HubDeleteParamsSchema, HubDeleteResultSchema,
  HubPullParamsSchema, HubPullRefSchema, HubPullResultSchema,
} from './contract/hub';
import { ProfileEntrySchema, ProfileIssueSchema } from './contract/profiles';
import { RunControlResultSchema, RunDetailSchema, RunRefSchema, RunStartSchema, RunSummarySchema } from './contract/runs';
import { empty, path, ServiceErrorSchema } from './contract/shared';

export { DeviceProfileSchema };
export { APP_VERSION, DEFAULT_PROFILE_ID } from './names';
export type { DeviceProfile } from '../profiles/schema';
export {
  ByCategorySchema, BudgetReportSchema, CATEGORIES, CATEGORY_INFO, METHODS, METHOD_INFO, PROJECTIONS, ServiceErrorSchema,
  type BudgetReport, type ByCategory, type CategoryName, type MethodName, type Projection, type ServiceError,
} from './contract/shared';
export * from './contract/files';
export * from './contract/profiles';
export * from './contract/inspect';
export * from './contract/plan';
export * from './contract/runs';
export * from './contract/compare';
export * from './contract/export';
export * from './contract/hub';
export * from './contract/service-events';

// ---------------------------------------------------------------------------------------------------------------
// The table: method name → params and result

export const CONTRACT = {
  'app.info': { params: empty, result: AppInfoSchema },
  'files.choose': { params: z.object({ kind: FileKindSchema, defaultPath: z.string().optional() }), result: z.object({ path: z.string().nullable() }) },
  'files.check': { params: z.object({ kind: FileKindSchema, path }), result: FileCheckSchema },
  'files.browse': { params: z.object({ dir: z.string().optional() }), result: BrowseResultSchema },
  'files.upload': { params: UploadParamsSchema, result: UploadResultSchema },
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
  'compare.pause': { params: CompareRefSchema, result: CompareControlResultSchema },
  'compare.resume': { params: CompareRefSchema, result: CompareControlResultSchema },
  'compare.stop': { params: CompareRefSchema, result: CompareControlResultSchema },
  'compare.list': { params: empty, result: z.object({ comparisons: z.array(CompareSummarySchema) }) },
  'compare.open': { params: CompareRefSchema, result: z.object({ comparison: ComparisonSchema }) },
  'export.preview': { params: ExportPreviewParamsSchema, result: ExportPreviewSchema },
  'export.run': { params: ExportRunParamsSchema, result: ExportResultSchema },
  'hub.catalogue': { params: CatalogueParamsSchema, result: CatalogueSchema },
  'hub.cached': { params: empty, result: HubCachedSchema },
  'hub.pull': { params: HubPullParamsSchema, result: HubPullResultSchema },
  'hub.cancel': { params: HubPullRefSchema, result: HubCancelResultSchema },
  'hub.delete': { params: HubDeleteParamsSchema, result: HubDeleteResultSchema },
} as const;

export type ContractMethod = keyof typeof CONTRACT;
export type ParamsOf<M extends ContractMethod> = z.input<(typeof CONTRACT)[M]['params']>;
export type ParsedParamsOf<M extends ContractMethod> = z.output<(typeof CONTRACT)[M]['params']>;
export type ResultOf<M extends ContractMethod> = z.output<(typeof CONTRACT)[M]['result']>;
export const CONTRACT_METHODS = Object.keys(CONTRACT) as ContractMethod[];

// ---------------------------------------------------------------------------------------------------------------
// Envelopes

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

function contractIssues(error: z.ZodError): { text: string; field?: string } {
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
    const { text, field } = contractIssues(env.error);
    throw new ContractError(`not a MeSP request (${text}); the method must be one of ${CONTRACT_METHODS.join(', ')}.`, field);
  }
  return { id: env.data.id, method: env.data.method, params: parseParams(env.data.method, env.data.params ?? {}) };
}

export function parseParams<M extends ContractMethod>(method: M, raw: unknown): ParsedParamsOf<M> {
  const r = CONTRACT[method].params.safeParse(raw ?? {});
  if (!r.success) {
    const { text, field } = contractIssues(r.error);
    throw new ContractError(`${method}: bad request: ${text}. Fix the field and try again.`, field);
  }
  return r.data as ParsedParamsOf<M>;
}

export function parseResult<M extends ContractMethod>(method: M, raw: unknown): ResultOf<M> {
  const r = CONTRACT[method].result.safeParse(raw);
  if (!r.success) {
    const { text, field } = contractIssues(r.error);
    throw new ContractError(`${method}: the service sent a result that breaks the contract (${text}). Update the app so both sides match.`, field);
  }
  return r.data as ResultOf<M>;
}

export function parseEvent(raw: unknown): ServiceEvent {
  const r = ServiceEventSchema.safeParse(raw);
  if (!r.success) {
    const { text, field } = contractIssues(r.error);
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

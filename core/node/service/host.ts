// The service behind the app (DESIGN.md §2): implements every method of core/api/contract.ts on top of the training
// service (runTrain), the engine's memory plan (planTrainStep), the run store and the compare service, validating each
// request's params and each result against the contract's zod schemas. Transport-free: Electron's utilityProcess
// (electron/service/index.ts), the browser-mode WebSocket server (core/node/server/web.ts) and the tests all wrap
// one ServiceHost. One GPU job (a run or a comparison) at a time: the GPU and the CPU cores are shared.
// Runs survive the app: everything a run does is in its folder as it happens, so a run whose process died shows as
// "interrupted" and resumes from its last checkpoint (runTrain({ resume })).
// This file is the dispatcher; the handlers live by domain (handlers-app.ts: app, files, profiles, inspection, plan;
// handlers-runs.ts: runs and export; handlers-compare.ts; handlers-hub.ts: the hub catalogue, pulls and the cache)
// over the state they share (hoststate.ts).
import { resolve } from 'node:path';
import {
  CONTRACT,
  ContractError,
  parseParams,
  parseRequest,
  type ContractMethod,
  type ResponseEnvelope,
  type ResultOf,
  type ServiceEvent,
} from '../../api/contract';
import type { AppData } from './appdata';
import { appHandlers } from './handlers-app';
import { compareHandlers } from './handlers-compare';
import { hubHandlers } from './handlers-hub';
import { runHandlers } from './handlers-runs';
import { HostState, LOCAL_CALLER, toServiceError, type CallContext, type Handlers, type HostOptions } from './hoststate';
import type { PathPolicy } from './paths';

export { LOCAL_CALLER, toServiceError, type CallContext, type HostOptions };

export class ServiceHost {
  readonly data: AppData;
  readonly paths: PathPolicy;
  readonly mode: HostOptions['mode'];
  private readonly state: HostState;
  private readonly handlers: Handlers;

  constructor(opts: HostOptions) {
    this.state = new HostState(opts);
    this.data = this.state.data;
    this.paths = this.state.paths;
    this.mode = this.state.mode;
    this.handlers = { ...appHandlers(this.state), ...runHandlers(this.state), ...compareHandlers(this.state), ...hubHandlers(this.state) };
  }

  onEvent(listener: (e: ServiceEvent) => void): () => void {
    return this.state.onEvent(listener);
  }

  /** Desktop app only: main grants a path the user picked in a native dialog, for the life of a window (`scope`). */
  grant(path: string, scope: string): void {
    this.paths.grant(resolve(path), scope);
  }

  /** The window of `scope` closed: its grants end. */
  revoke(scope: string): void {
    this.paths.revoke(scope);
  }

  /** A browser-mode page connection closed: its unfinished uploads are removed. */
  endClient(client: string): void {
    this.state.uploads.endClient(client);
  }

  /** One request envelope in, one response envelope out; never throws. `ctx`: who asks (a page connection). */
  async handle(raw: unknown, ctx: CallContext = LOCAL_CALLER): Promise<ResponseEnvelope> {
    const id = typeof raw === 'object' && raw !== null && typeof (raw as { id?: unknown }).id === 'number' ? (raw as { id: number }).id : 0;
    try {
      const req = parseRequest(raw);
      const result = await (this.handlers[req.method] as (p: unknown, c: CallContext) => unknown)(req.params, ctx);
      const checked = CONTRACT[req.method].result.safeParse(result);
      if (!checked.success) throw new ContractError(`${req.method}: internal error, the result breaks the contract: ${checked.error.issues[0]?.message}`);
      return { id, ok: true, result: checked.data };
    } catch (e) {
      return { id, ok: false, error: toServiceError(e) };
    }
  }

  /** In-process call (tests, the CLI): params validated like a request, the error thrown as a typed error. */
  async call<M extends ContractMethod>(method: M, params: unknown, ctx: CallContext = LOCAL_CALLER): Promise<ResultOf<M>> {
    const p = parseParams(method, params);
    const r = await (this.handlers[method] as (p: unknown, c: CallContext) => unknown)(p, ctx);
    return CONTRACT[method].result.parse(r) as ResultOf<M>;
  }

  /** Resolves when no run, comparison or hub pull is in progress. */
  async idle(): Promise<void> {
    for (;;) {
      const waits = [...this.state.live.values()].map((r) => r.done).concat([...this.state.compares.values()].map((c) => c.done))
        .concat([...this.state.pulls.values()].map((p) => p.done));
      if (!waits.length) return;
      await Promise.allSettled(waits);
    }
  }

  /** Stop whatever runs (the process is closing); runs end with a checkpoint, pulls keep their bytes to resume. */
  async shutdown(): Promise<void> {
    for (const c of this.state.compares.values()) c.control.stop();
    for (const p of this.state.pulls.values()) p.abort.abort();
    for (const r of this.state.live.values()) r.control.stop();
    await this.idle();
  }
}

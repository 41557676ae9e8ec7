// The contract client the renderer uses (DESIGN.md §2): typed calls `client.call('runs.start', {...})` and an event
// stream, over any MespBridge — Electron's `window.mesp` (preload) or a WebSocket to the browser-mode server. Results
// and events are validated against core/api/contract.ts, so a mismatch is reported where it happens, not later.
// Pure TS: the WebSocket is the platform's (a browser's, or one handed in by a test).
import {
  ContractError,
  ServerMessageSchema,
  parseEvent,
  parseResult,
  type ContractMethod,
  type MespBridge,
  type ParamsOf,
  type RequestEnvelope,
  type ResponseEnvelope,
  type ResultOf,
  type ServiceError,
  type ServiceEvent,
} from './contract';

/** A failed call: the service's error (code, message that says what, where and what to do; field; budget report). */
export class ServiceCallError extends Error {
  readonly code: string;
  readonly field: string | undefined;
  readonly budget: ServiceError['budget'];
  readonly method: string;
  constructor(method: string, e: ServiceError) {
    super(e.message);
    this.name = 'ServiceCallError';
    this.code = e.code;
    this.field = e.field;
    this.budget = e.budget;
    this.method = method;
  }
}

export interface MespClient {
  readonly transport: MespBridge['kind'];
  call<M extends ContractMethod>(method: M, params: ParamsOf<M>): Promise<ResultOf<M>>;
  on(listener: (e: ServiceEvent) => void): () => void;
}

export function createClient(bridge: MespBridge): MespClient {
  let next = 1;
  return {
    transport: bridge.kind,
    async call(method, params) {
      const res = await bridge.request({ id: next++, method, params });
      if (!res.ok) throw new ServiceCallError(method, res.error);
      return parseResult(method, res.result);
    },
    on: (listener) => bridge.onEvent(listener),
  };
}

/** The minimal WebSocket surface used here (the browser's WebSocket and the `ws` package both have it). */
export interface SocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(): void;
  onopen: ((ev: unknown) => void) | null;
  onclose: ((ev: unknown) => void) | null;
  onerror: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
}

export interface WebSocketBridgeOptions {
  /** Makes a socket (default: the global WebSocket). */
  connect?: (url: string) => SocketLike;
  /** Milliseconds before reconnecting after a drop (doubles up to 5 s). */
  retryMs?: number;
}

const OPEN = 1;

/**
 * A MespBridge over a WebSocket carrying the contract as JSON text. Calls made while connecting wait for the socket;
 * a dropped connection fails the calls in flight with a message that says what to do, then reconnects.
 */
export function webSocketBridge(url: string, opts: WebSocketBridgeOptions = {}): MespBridge & { close(): void } {
  const connect = opts.connect ?? ((u: string) => new WebSocket(u) as unknown as SocketLike);
  const listeners = new Set<(e: ServiceEvent) => void>();
  const pending = new Map<number, { resolve: (r: ResponseEnvelope) => void; reject: (e: Error) => void }>();
  let queue: string[] = [];
  let socket: SocketLike | null = null;
  let closed = false;
  let retry = opts.retryMs ?? 250;
  let everOpened = false;

  const emit = (e: ServiceEvent): void => {
    for (const l of listeners) l(e);
  };

  const open = (): void => {
    const s = connect(url);
    socket = s;
    s.onopen = () => {
      retry = opts.retryMs ?? 250;
      if (everOpened) emit({ type: 'service', state: 'restarted', message: `reconnected to the MeSP service at ${url}` });
      everOpened = true;
      for (const m of queue) s.send(m);
      queue = [];
    };
    s.onmessage = (ev) => {
      let msg: unknown;
      try {
        msg = JSON.parse(String(ev.data));
      } catch {
        return;
      }
      const r = ServerMessageSchema.safeParse(msg);
      if (!r.success) return;
      const m = r.data;
      if ('event' in m) {
        emit(parseEvent(m.event));
        return;
      }
      const p = pending.get(m.id);
      if (p) {
        pending.delete(m.id);
        p.resolve(m);
      }
    };
    s.onerror = () => {};
    s.onclose = () => {
      socket = null;
      const lost = new ContractError(
        everOpened
          ? `lost the connection to the MeSP service at ${url}. Check that \`npm run web\` is still running, then retry.`
          : `could not connect to the MeSP service at ${url}: check that \`npm run web\` is running and that this page was opened ` +
            `from the address it printed (its token changes at each launch).`,
      );
      for (const p of pending.values()) p.reject(lost);
      pending.clear();
      if (closed) return;
      emit({ type: 'service', state: 'down', message: lost.message });
      setTimeout(open, retry);
      retry = Math.min(5000, retry * 2);
    };
  };
  open();

  return {
    kind: 'websocket',
    request(req: RequestEnvelope) {
      return new Promise<ResponseEnvelope>((resolve, reject) => {
        pending.set(req.id, { resolve, reject });
        const text = JSON.stringify(req);
        if (socket && socket.readyState === OPEN) socket.send(text);
        else queue.push(text);
      });
    },
    onEvent(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    close() {
      closed = true;
      socket?.close();
    },
  };
}

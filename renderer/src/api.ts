// The renderer's one way to the service (DESIGN.md §1–2): a contract client (core/api/client.ts) over `window.mesp`
// in Electron, or over a WebSocket to the browser-mode server that served this page. Tests install their own client.
// Browser mode's launch token (core/api/web.ts) comes in this page's own URL fragment (`#token=…`, never sent to any
// server); it is kept in sessionStorage (this tab only, so a reload still connects) and taken out of the address bar,
// and it travels only in the WebSocket handshake's subprotocol list.
import type { Ref } from 'vue';
import { createClient, webSocketBridge, type MespClient, type SocketLike } from '../../core/api/client';
import type { MespBridge } from '../../core/api/contract';
import { TOKEN_PATTERN, WS_PATH, handshakeProtocols, tokenFromHash } from '../../core/api/web';

let client: MespClient | null = null;

const TOKEN_KEY = 'mesp.token';

/** This launch's token: from the fragment (then removed from the address bar), else from this tab's storage. */
export function launchToken(loc: Pick<Location, 'hash' | 'pathname' | 'search'> = location, store: Storage = sessionStorage, hist: Pick<History, 'replaceState'> = history): string | null {
  const fromHash = tokenFromHash(loc.hash);
  if (fromHash) {
    store.setItem(TOKEN_KEY, fromHash);
    hist.replaceState(null, '', `${loc.pathname}${loc.search}`);
    return fromHash;
  }
  const kept = store.getItem(TOKEN_KEY);
  return kept && TOKEN_PATTERN.test(kept) ? kept : null;
}

/** A bridge whose every call fails with what to do: the page was opened without its token. */
function noTokenBridge(): MespBridge {
  const message = 'This page was opened without its launch token, so the service refuses it. Open the address `npm run web` printed ' +
    '(http://127.0.0.1:PORT/#token=…): the token changes at each launch.';
  return { kind: 'websocket', request: () => Promise.reject(new Error(message)), onEvent: () => () => {} };
}

function browserBridge(): MespBridge {
  const token = launchToken();
  if (!token) return noTokenBridge();
  const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}${WS_PATH}`;
  return webSocketBridge(url, { connect: (u) => new WebSocket(u, handshakeProtocols(token)) as unknown as SocketLike });
}

export function getClient(): MespClient {
  if (!client) client = createClient(window.mesp ?? browserBridge());
  return client;
}

/** Replace the client (component and store tests). */
export function setClient(c: MespClient | null): void {
  client = c;
}

/** The message of an error from a call, for the UI. */
export function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/**
 * A service call behind a busy flag, for the stores: `apply` takes the result, the error clears and the answer is
 * true; a failure shows its message (after `prefix`) and answers false. The flag drops either way.
 */
export async function trackCall<T>(busy: Ref<boolean>, error: Ref<string | null>, call: () => Promise<T>, apply: (result: T) => void, prefix = ''): Promise<boolean> {
  busy.value = true;
  try {
    apply(await call());
    error.value = null;
    return true;
  } catch (e) {
    error.value = `${prefix}${errorText(e)}`;
    return false;
  } finally {
    busy.value = false;
  }
}

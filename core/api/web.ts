// Browser mode's handshake and limits, shared by the server (core/node/server/web.ts) and the page
// (renderer/src/api.ts), so both sides read them from one place. Pure TS.
//
// The launch token: `npm run web` makes a secret at each launch and prints the address to open with it in the URL's
// fragment (`http://127.0.0.1:5317/#token=…`). A fragment never leaves the browser (no request line, no Referer, no
// server log); the page moves it to sessionStorage and out of the address bar, and offers it in the WebSocket
// handshake as a subprotocol (`Sec-WebSocket-Protocol: mesp.v1, mesp.token.<token>`), so it is in no URL either. The
// server answers with `mesp.v1` only, never echoing the token.
import { UPLOAD_CHUNK_BYTES, base64Length } from './contract/files';

/** Where the page opens the WebSocket. */
export const WS_PATH = '/mesp';
/** The subprotocol the server selects. */
export const WS_PROTOCOL = 'mesp.v1';
const TOKEN_PROTOCOL_PREFIX = 'mesp.token.';
/** 32 random bytes in base64url are 43 characters; tokens a launcher supplies (MESP_WEB_TOKEN) must be as long. */
export const TOKEN_PATTERN = /^[A-Za-z0-9_-]{43,128}$/;
/** The fragment parameter of the printed address. */
export const TOKEN_PARAM = 'token';

/** The subprotocols a page offers: the one it speaks and the one carrying the token. */
export function handshakeProtocols(token: string): string[] {
  return [WS_PROTOCOL, `${TOKEN_PROTOCOL_PREFIX}${token}`];
}

/** The token offered in a `Sec-WebSocket-Protocol` list, or null. */
export function tokenFromProtocols(protocols: Iterable<string>): string | null {
  for (const p of protocols) if (p.startsWith(TOKEN_PROTOCOL_PREFIX)) return p.slice(TOKEN_PROTOCOL_PREFIX.length);
  return null;
}

/** The address `npm run web` prints: the page's origin with the token in the fragment. */
export function tokenUrl(origin: string, token: string): string {
  return `${origin}/#${TOKEN_PARAM}=${token}`;
}

/** The token in a location's fragment (`#token=…`), or null. */
export function tokenFromHash(hash: string): string | null {
  const v = new URLSearchParams(hash.replace(/^#/, '')).get(TOKEN_PARAM);
  return v && TOKEN_PATTERN.test(v) ? v : null;
}

/**
 * The largest WebSocket message the server reads (ws's maxPayload: a frame announcing more is refused from its header,
 * before any of it is buffered). The largest legitimate message is one upload piece in base64 plus its envelope.
 */
export const MAX_MESSAGE_BYTES = base64Length(UPLOAD_CHUNK_BYTES) + 64 * 1024;
/** Nesting of a request's JSON: contract messages nest a handful of levels; deeper ones are refused unparsed. */
export const MAX_JSON_DEPTH = 64;

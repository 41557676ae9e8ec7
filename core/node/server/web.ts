// Browser mode (DESIGN.md §2): one ServiceHost behind an HTTP server on 127.0.0.1 that serves the built renderer
// (out/renderer) and carries the contract over a WebSocket at /mesp (the `ws` package, RFC 6455): a request envelope
// in, its response out, and every service event to every connected page. Static files get the same strict CSP as
// the desktop app's window.
//
// Who may connect (core/api/web.ts has the handshake): a page that holds this launch's secret token (offered as a
// WebSocket subprotocol, compared in constant time), from an allowed Origin (this server's own, by 127.0.0.1,
// localhost or [::1]), addressed by an allowed Host (the same names with this port: a DNS-rebound name is refused, for
// static files too). Anything else is answered 403 and closed, and no refusal repeats the token.
//
// What a connection may cost: a frame over MAX_MESSAGE_BYTES is refused from its header (close 1009) before it is
// buffered; a message nested deeper than MAX_JSON_DEPTH is refused unparsed; a few requests of one connection run at
// once, the rest wait in a bounded queue (the socket is not read meanwhile; a page that floods past the queue is
// disconnected, and a closed page's waiting requests are dropped); a page whose unread answers pass maxBufferedBytes
// is disconnected (it reconnects by itself when it reads again). A malformed frame (RSV bits, bad UTF-8, an unmasked
// frame, a bad opcode) closes only that connection, with the code RFC 6455 gives; socket errors close only their
// socket. None of them reaches the process.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { WebSocketServer, type WebSocket } from 'ws';
import { MAX_JSON_DEPTH, MAX_MESSAGE_BYTES, TOKEN_PATTERN, WS_PATH, WS_PROTOCOL, tokenFromProtocols, tokenUrl } from '../../api/web';
import type { ServiceHost } from '../service/host';

export interface WebLimits {
  /** The largest message read (ws's maxPayload). */
  maxMessageBytes: number;
  maxJsonDepth: number;
  /** Unread answers and events queued for one page before it is disconnected. */
  maxBufferedBytes: number;
  /** Requests of one connection handled at once; more wait in its queue (and its socket is not read meanwhile). */
  maxInFlight: number;
  /** Requests, and their bytes, one connection may have waiting; a page that sends more is disconnected. */
  maxQueued: number;
  maxQueuedBytes: number;
  /** Pages connected at once. */
  maxClients: number;
}

export const DEFAULT_LIMITS: WebLimits = {
  maxMessageBytes: MAX_MESSAGE_BYTES,
  maxJsonDepth: MAX_JSON_DEPTH,
  maxBufferedBytes: 32 * 1024 * 1024,
  maxInFlight: 8,
  maxQueued: 256,
  maxQueuedBytes: 2 * MAX_MESSAGE_BYTES,
  maxClients: 32,
};

export interface WebServerOptions {
  host: ServiceHost;
  /** 0 picks a free port. */
  port: number;
  /** The built renderer (index.html and assets). */
  staticDir: string;
  /** The launch token (default: 32 random bytes); a launcher restarting the server in place passes the old one. */
  token?: string;
  limits?: Partial<WebLimits>;
  /** Refusals and dropped connections, one line each (never the token). */
  log?: (line: string) => void;
}

export interface WebServer {
  /** The server's origin, http://127.0.0.1:PORT. */
  origin: string;
  /** The address to open: the origin with the token in the fragment. */
  url: string;
  port: number;
  token: string;
  close(): Promise<void>;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8', '.svg': 'image/svg+xml', '.png': 'image/png', '.ico': 'image/x-icon', '.json': 'application/json',
  '.woff2': 'font/woff2', '.map': 'application/json', '.wasm': 'application/wasm',
};

/** The page may load only its own scripts, styles and images, and connect only back to this server. */
export function contentSecurityPolicy(wsOrigin: string): string {
  return [
    "default-src 'self'", "script-src 'self'", "style-src 'self' 'unsafe-inline'", "img-src 'self' data: blob:", "font-src 'self'",
    `connect-src 'self' ${wsOrigin}`, "object-src 'none'", "base-uri 'none'", "frame-ancestors 'none'", "form-action 'none'",
  ].join('; ');
}

/** The names this server answers to, with its port: what a Host header may say, and (with http://) an Origin. */
export function allowedHosts(port: number): string[] {
  return [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`];
}

/** Does `text` nest arrays/objects deeper than `max`? A linear scan that skips strings; nothing is parsed. */
export function jsonDeeperThan(text: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > max) return true;
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return false;
}

function sameToken(offered: string | null, token: string): boolean {
  if (offered === null) return false;
  const a = Buffer.from(offered);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Answer an upgrade we refuse: a status, a reason for a person reading it, and close. */
function refuseUpgrade(socket: Duplex, status: number, reason: string): void {
  const body = `${reason}\n`;
  const text = { 400: 'Bad Request', 403: 'Forbidden', 404: 'Not Found', 503: 'Service Unavailable' }[status] ?? 'Error';
  endSocket(socket, `HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
}

/** Write a last answer and close: destroyed once it is flushed, or after a second if the peer does not take it. */
function endSocket(socket: Duplex, text: string): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  socket.once('finish', () => socket.destroy());
  setTimeout(() => socket.destroy(), 1000).unref();
  socket.end(text);
}

/** One log line per reason at most every 10 s (a flood of refusals does not flood the terminal). */
function throttled(log: (line: string) => void): (key: string, line: string) => void {
  const last = new Map<string, number>();
  return (key, line) => {
    const now = Date.now();
    if ((last.get(key) ?? -Infinity) > now - 10_000) return;
    last.set(key, now);
    log(line);
  };
}

export async function startWebServer(o: WebServerOptions): Promise<WebServer> {
  const root = resolve(o.staticDir);
  const index = join(root, 'index.html');
  if (!statSync(index, { throwIfNoEntry: false })?.isFile()) {
    throw new Error(`${index} is missing: build the renderer first (npm run build), or give --renderer-dir.`);
  }
  const token = o.token ?? randomBytes(32).toString('base64url');
  if (!TOKEN_PATTERN.test(token)) throw new Error('the launch token must be 43 to 128 characters of A-Z a-z 0-9 - _ (32 random bytes in base64url).');
  const limits: WebLimits = { ...DEFAULT_LIMITS, ...o.limits };
  const note = throttled(o.log ?? (() => {}));
  let port = 0;
  const hostOk = (host: string | undefined): boolean => host !== undefined && allowedHosts(port).includes(host.toLowerCase());

  const serve = (req: IncomingMessage, res: ServerResponse): void => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    let file = normalize(join(root, decodeURIComponent(url.pathname)));
    if (file !== root && !file.startsWith(root + sep)) {
      res.writeHead(403).end('forbidden');
      return;
    }
    if (!statSync(file, { throwIfNoEntry: false })?.isFile()) file = index; // one page: every route is index.html
    res.writeHead(200, {
      'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
      'content-security-policy': contentSecurityPolicy(`ws://${req.headers.host}`),
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
      'cross-origin-opener-policy': 'same-origin',
      'cache-control': 'no-store',
    });
    res.end(req.method === 'HEAD' ? undefined : readFileSync(file));
  };
  // requireHostHeader off: a request without Host gets our 403 and its reason, not Node's bare 400.
  const http = createServer({ requireHostHeader: false }, (req, res) => {
    if (!hostOk(req.headers.host)) {
      note('host', `refused an HTTP request for Host "${String(req.headers.host).slice(0, 100)}" (only ${allowedHosts(port).join(', ')})`);
      res.writeHead(403, { 'content-type': 'text/plain; charset=utf-8' }).end(`MeSP Studio answers only to ${allowedHosts(port).join(', ')}.\n`);
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405).end();
      return;
    }
    try {
      serve(req, res);
    } catch {
      if (!res.headersSent) res.writeHead(500).end('could not read the file');
      else res.destroy();
    }
  });
  // A malformed HTTP request (or a reset mid-request) closes its own socket.
  http.on('clientError', (_err, socket) => endSocket(socket, 'HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n'));

  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: limits.maxMessageBytes,
    perMessageDeflate: false,
    // Select our protocol, never the one carrying the token.
    handleProtocols: (offered) => (offered.has(WS_PROTOCOL) ? WS_PROTOCOL : false),
  });
  wss.on('error', (e) => note('wss', `WebSocket server error: ${e.message}`));
  wss.on('wsClientError', (e, socket) => {
    note('handshake', `refused a malformed WebSocket handshake: ${e.message}`);
    refuseUpgrade(socket, 400, 'malformed WebSocket handshake');
  });
  const sockets = new Set<WebSocket>();

  http.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const origin = req.headers.origin;
    const allowedOrigins = allowedHosts(port).map((h) => `http://${h}`);
    const offered = tokenFromProtocols(String(req.headers['sec-websocket-protocol'] ?? '').split(',').map((s) => s.trim()));
    let refusal: [number, string, string] | null = null;
    if (!hostOk(req.headers.host)) refusal = [403, 'host', `Host "${String(req.headers.host).slice(0, 100)}" is not one of ${allowedHosts(port).join(', ')}`];
    else if (url.pathname !== WS_PATH) refusal = [404, 'path', `no WebSocket at ${url.pathname.slice(0, 100)} (it is at ${WS_PATH})`];
    else if (origin === undefined) refusal = [403, 'origin', 'no Origin header: only the page this server serves may connect'];
    else if (!allowedOrigins.includes(origin.toLowerCase())) refusal = [403, 'origin', `Origin "${origin.slice(0, 100)}" is not this server's page`];
    else if (!sameToken(offered, token)) refusal = [403, 'token', `${offered === null ? 'no' : 'a wrong'} launch token: open the address \`npm run web\` printed (it changes at each launch)`];
    else if (sockets.size >= limits.maxClients) refusal = [503, 'clients', `${limits.maxClients} pages are connected already`];
    if (refusal) {
      note(refusal[1], `refused a WebSocket: ${refusal[2]}`);
      refuseUpgrade(socket, refusal[0], refusal[2]);
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  });

  /** Send to one page, or drop it when it does not read what it was sent. */
  const send = (ws: WebSocket, text: string): void => {
    if (ws.readyState !== ws.OPEN) return;
    if (ws.bufferedAmount + text.length > limits.maxBufferedBytes) {
      note('slow', `disconnected a page that is not reading: ${(ws.bufferedAmount / 1e6).toFixed(1)} MB of answers waiting`);
      ws.terminate();
      return;
    }
    ws.send(text);
  };
  const badMessage = (ws: WebSocket, message: string): void =>
    send(ws, JSON.stringify({ id: 0, ok: false, error: { code: 'BAD_MESSAGE', message } }));

  wss.on('connection', (ws: WebSocket) => {
    const client = `p-${randomBytes(6).toString('hex')}`;
    let inFlight = 0;
    const queue: string[] = [];
    let queuedBytes = 0;
    sockets.add(ws);
    ws.on('error', (e) => {
      // ws has sent the close frame with RFC 6455's code; a peer that does not answer it is cut off soon after.
      note('frame', `closed a connection after a protocol error: ${e.message}`);
      setTimeout(() => ws.terminate(), 1000).unref();
    });
    ws.on('close', () => {
      sockets.delete(ws);
      queue.length = 0; // nobody is waiting for these answers
      o.host.endClient(client);
    });
    const run = async (text: string): Promise<void> => {
      if (jsonDeeperThan(text, limits.maxJsonDepth)) {
        badMessage(ws, `the message nests deeper than ${limits.maxJsonDepth} levels: no MeSP request does.`);
        return;
      }
      let msg: unknown;
      try {
        msg = JSON.parse(text);
      } catch {
        badMessage(ws, 'not JSON: each WebSocket message must be one JSON request envelope {id, method, params}.');
        return;
      }
      send(ws, JSON.stringify(await o.host.handle(msg, { client })));
    };
    const pump = (): void => {
      while (inFlight < limits.maxInFlight && queue.length && ws.readyState === ws.OPEN) {
        const text = queue.shift()!;
        queuedBytes -= text.length;
        inFlight++;
        void run(text).finally(() => {
          inFlight--;
          pump();
        });
      }
      if (queue.length === 0 && ws.isPaused) ws.resume();
    };
    ws.on('message', (data, isBinary) => {
      if (isBinary) {
        badMessage(ws, 'binary frame: each WebSocket message must be one JSON request envelope {id, method, params} as text.');
        return;
      }
      const text = data.toString();
      if (queue.length >= limits.maxQueued || queuedBytes + text.length > limits.maxQueuedBytes) {
        note('flood', `disconnected a page that sent ${queue.length} requests without waiting for answers`);
        ws.terminate();
        return;
      }
      queue.push(text);
      queuedBytes += text.length;
      pump();
      if (queue.length) ws.pause(); // read no more of it until its queue drains
    });
  });
  const unsubscribe = o.host.onEvent((event) => {
    const text = JSON.stringify({ event });
    for (const ws of sockets) send(ws, text);
  });

  await new Promise<void>((ok, fail) => {
    http.once('error', fail);
    http.listen(o.port, '127.0.0.1', () => ok());
  });
  port = (http.address() as AddressInfo).port;
  const origin = `http://127.0.0.1:${port}`;
  return {
    origin,
    url: tokenUrl(origin, token),
    port,
    token,
    close: async () => {
      unsubscribe();
      for (const ws of sockets) ws.terminate();
      wss.close();
      http.closeAllConnections();
      await new Promise<void>((r) => http.close(() => r()));
    },
  };
}

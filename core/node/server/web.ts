// Browser mode (DESIGN.md §2): one ServiceHost behind an HTTP server on 127.0.0.1 that serves the built renderer
// (out/renderer) and carries the contract over a WebSocket at /mesp (the `ws` package): a request envelope in, its
// response out, and every service event to every connected page. The WebSocket accepts pages of its own origin only,
// so another site open in the same browser cannot drive the service. Static files get the same strict CSP as the
// desktop app's window.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { WebSocketServer, type WebSocket } from 'ws';
import type { ServiceHost } from '../service/host';

export interface WebServerOptions {
  host: ServiceHost;
  /** 0 picks a free port. */
  port: number;
  /** The built renderer (index.html and assets). */
  staticDir: string;
  log?: (line: string) => void;
}

export interface WebServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8', '.svg': 'image/svg+xml', '.png': 'image/png', '.ico': 'image/x-icon', '.json': 'application/json',
  '.woff2': 'font/woff2', '.map': 'application/json',
};

/** The page may load only its own scripts, styles and images, and connect only back to this server. */
export function contentSecurityPolicy(wsOrigin: string): string {
  return [
    "default-src 'self'", "script-src 'self'", "style-src 'self' 'unsafe-inline'", "img-src 'self' data: blob:", "font-src 'self'",
    `connect-src 'self' ${wsOrigin}`, "object-src 'none'", "base-uri 'none'", "frame-ancestors 'none'", "form-action 'none'",
  ].join('; ');
}

/** Every page message is one JSON request envelope; 64 MiB uploads in base64 fit under this. */
const MAX_MESSAGE = 100 * 1024 * 1024;

export async function startWebServer(o: WebServerOptions): Promise<WebServer> {
  const root = resolve(o.staticDir);
  const index = join(root, 'index.html');
  if (!existsSync(index)) {
    throw new Error(`${index} is missing: build the renderer first (npm run build), or give --renderer-dir.`);
  }
  let origin = '';
  const serve = (req: IncomingMessage, res: ServerResponse): void => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    let file = normalize(join(root, decodeURIComponent(url.pathname)));
    if (file !== root && !file.startsWith(root + sep)) {
      res.writeHead(403).end('forbidden');
      return;
    }
    if (!existsSync(file) || statSync(file).isDirectory()) file = index; // one page: every route is index.html
    res.writeHead(200, {
      'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
      'content-security-policy': contentSecurityPolicy(origin.replace(/^http/, 'ws')),
      'x-content-type-options': 'nosniff',
      'cache-control': 'no-store',
    });
    res.end(req.method === 'HEAD' ? undefined : readFileSync(file));
  };
  const http = createServer((req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405).end();
      return;
    }
    try {
      serve(req, res);
    } catch (e) {
      res.writeHead(500).end(String(e));
    }
  });
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: MAX_MESSAGE,
  });
  const sockets = new Set<WebSocket>();
  http.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const from = req.headers.origin;
    const port = (http.address() as AddressInfo).port;
    const allowed = [`http://127.0.0.1:${port}`, `http://localhost:${port}`];
    if (url.pathname !== '/mesp' || (from !== undefined && !allowed.includes(from))) {
      socket.write('HTTP/1.1 403 Forbidden\r\n\r\n');
      socket.destroy();
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  });
  wss.on('connection', (ws: WebSocket) => {
    sockets.add(ws);
    ws.on('close', () => sockets.delete(ws));
    ws.on('message', async (data) => {
      let msg: unknown;
      try {
        msg = JSON.parse(data.toString());
      } catch {
        ws.send(JSON.stringify({ id: 0, ok: false, error: { code: 'BAD_MESSAGE', message: 'not JSON: each WebSocket message must be one JSON request envelope {id, method, params}.' } }));
        return;
      }
      const res = await o.host.handle(msg);
      if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(res));
    });
  });
  const unsubscribe = o.host.onEvent((event) => {
    const text = JSON.stringify({ event });
    for (const ws of sockets) if (ws.readyState === ws.OPEN) ws.send(text);
  });
  await new Promise<void>((ok, fail) => {
    http.once('error', fail);
    http.listen(o.port, '127.0.0.1', () => ok());
  });
  const port = (http.address() as AddressInfo).port;
  origin = `http://127.0.0.1:${port}`;
  return {
    url: origin,
    port,
    close: async () => {
      unsubscribe();
      for (const ws of sockets) ws.terminate();
      wss.close();
      await new Promise<void>((r) => http.close(() => r()));
    },
  };
}

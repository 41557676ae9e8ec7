// Browser mode's server (core/node/server/web.ts), in process: serves the renderer with a strict CSP and no referrer,
// carries the contract over a WebSocket (the client of core/api/client.ts talks to it, offering the launch token as
// the page does), refuses a WebSocket from another origin, and never serves a file outside the renderer folder; the
// depth scan that guards JSON.parse. The attacks on real sockets are in web-security.test.ts.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { createClient, webSocketBridge, type SocketLike } from '../../core/api/client';
import { ServiceHost } from '../../core/node/service/host';
import { jsonDeeperThan, startWebServer, type WebServer } from '../../core/node/server/web';
import { handshakeProtocols, tokenFromHash, tokenFromProtocols } from '../../core/api/web';

let server: WebServer;
let host: ServiceHost;
let base: string;

beforeAll(async () => {
  base = mkdtempSync(join(tmpdir(), 'mesp-web-'));
  const stat = join(base, 'renderer');
  mkdirSync(stat);
  writeFileSync(join(stat, 'index.html'), '<!doctype html><title>MeSP</title>');
  writeFileSync(join(base, 'secret.txt'), 'no');
  host = new ServiceHost({ dataDir: join(base, 'data'), mode: 'browser' });
  server = await startWebServer({ host, port: 0, staticDir: stat });
});
afterAll(async () => {
  await server?.close();
});

function get(path: string): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((ok, fail) => {
    const req = request({ host: '127.0.0.1', port: server.port, path }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => ok({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', fail);
    req.end();
  });
}

describe('browser-mode server', () => {
  it('listens on 127.0.0.1, gives the address with its token, and serves the renderer with a strict CSP', async () => {
    expect(server.origin).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(server.url).toBe(`${server.origin}/#token=${server.token}`);
    expect(tokenFromHash(new URL(server.url).hash)).toBe(server.token);
    const r = await get('/');
    expect(r.status).toBe(200);
    expect(r.body).toContain('<title>MeSP</title>');
    expect(String(r.headers['content-security-policy'])).toContain("script-src 'self'");
    expect(String(r.headers['content-security-policy'])).toContain(`connect-src 'self' ws://127.0.0.1:${server.port}`);
    expect(r.headers['referrer-policy']).toBe('no-referrer');
  });

  it('never serves a file outside the renderer folder', async () => {
    const r = await get('/../secret.txt');
    expect(r.body).not.toBe('no');
    const r2 = await get('/%2e%2e/secret.txt');
    expect(r2.body).not.toBe('no');
  });

  it('carries the contract over the WebSocket, events included', async () => {
    const bridge = webSocketBridge(`ws://127.0.0.1:${server.port}/mesp`, {
      connect: (u) => new WebSocket(u, handshakeProtocols(server.token), { origin: server.origin }) as unknown as SocketLike,
    });
    const client = createClient(bridge);
    const info = await client.call('app.info', {});
    expect(info.mode).toBe('browser');
    const { profiles } = await client.call('profiles.list', {});
    expect(profiles.length).toBeGreaterThanOrEqual(7);
    await expect(client.call('model.inspect', { modelDir: '/etc' })).rejects.toThrow(/outside the allowed folders/);
    bridge.close();
  });

  it('refuses a WebSocket opened by a page of another origin', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}/mesp`, handshakeProtocols(server.token), { origin: 'https://evil.example' });
    const outcome = await new Promise<string>((ok) => {
      ws.on('open', () => ok('open'));
      ws.on('error', (e) => ok(String(e)));
    });
    expect(outcome).toMatch(/403/);
  });

  it('takes a launcher\'s token only if it looks like one', async () => {
    await expect(startWebServer({ host, port: 0, staticDir: join(base, 'renderer'), token: 'short' })).rejects.toThrow(/43 to 128 characters/);
  });
});

describe('the handshake and the depth scan', () => {
  it('finds the token among the offered subprotocols, and in a fragment only when it looks like one', () => {
    const t = 'a'.repeat(43);
    expect(tokenFromProtocols(handshakeProtocols(t))).toBe(t);
    expect(tokenFromProtocols(['mesp.v1'])).toBeNull();
    expect(tokenFromHash(`#token=${t}`)).toBe(t);
    expect(tokenFromHash('#token=short')).toBeNull();
    expect(tokenFromHash(`#other=${t}`)).toBeNull();
  });

  it('counts nesting outside strings only', () => {
    expect(jsonDeeperThan('[[[]]]', 3)).toBe(false);
    expect(jsonDeeperThan('[[[[]]]]', 3)).toBe(true);
    expect(jsonDeeperThan('{"a":"[[[[[[[["}', 1), 'brackets in a string do not nest').toBe(false);
    expect(jsonDeeperThan('{"a":"\\"[[[["}', 1), 'an escaped quote does not end the string').toBe(false);
    expect(jsonDeeperThan('{"a":{"b":{"c":[1,{"d":2}]}}}', 5)).toBe(false);
    expect(jsonDeeperThan('{"a":{"b":{"c":[1,{"d":2}]}}}', 4)).toBe(true);
  });
});

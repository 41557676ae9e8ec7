// Browser mode's server (core/node/server/web.ts): serves the renderer with a strict CSP, carries the contract over
// a WebSocket (the client of core/api/client.ts talks to it), refuses a WebSocket from another origin, and never
// serves a file outside the renderer folder.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { createClient, webSocketBridge, type SocketLike } from '../../core/api/client';
import { ServiceHost } from '../../core/node/service/host';
import { startWebServer, type WebServer } from '../../core/node/server/web';

let server: WebServer;
let host: ServiceHost;

beforeAll(async () => {
  const base = mkdtempSync(join(tmpdir(), 'mesp-web-'));
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
  it('listens on 127.0.0.1 and serves the renderer with a strict CSP', async () => {
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const r = await get('/');
    expect(r.status).toBe(200);
    expect(r.body).toContain('<title>MeSP</title>');
    expect(String(r.headers['content-security-policy'])).toContain("script-src 'self'");
    expect(String(r.headers['content-security-policy'])).toContain(`connect-src 'self' ws://127.0.0.1:${server.port}`);
  });

  it('never serves a file outside the renderer folder', async () => {
    const r = await get('/../secret.txt');
    expect(r.body).not.toBe('no');
    const r2 = await get('/%2e%2e/secret.txt');
    expect(r2.body).not.toBe('no');
  });

  it('carries the contract over the WebSocket, events included', async () => {
    const bridge = webSocketBridge(`ws://127.0.0.1:${server.port}/mesp`, {
      connect: (u) => new WebSocket(u, { origin: server.url }) as unknown as SocketLike,
    });
    const client = createClient(bridge);
    const info = await client.call('app.info', {});
    expect(info.mode).toBe('browser');
    const { profiles } = await client.call('profiles.list', {});
    expect(profiles.length).toBeGreaterThanOrEqual(7);
    await expect(client.call('model.inspect', { modelDir: '/etc' })).rejects.toThrow(/outside the folders this service may read/);
    bridge.close();
  });

  it('refuses a WebSocket opened by a page of another origin', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}/mesp`, { origin: 'https://evil.example' });
    const outcome = await new Promise<string>((ok) => {
      ws.on('open', () => ok('open'));
      ws.on('error', (e) => ok(String(e)));
    });
    expect(outcome).toMatch(/403/);
  });
});

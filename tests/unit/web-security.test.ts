// Browser mode under attack, on real sockets: the real `npm run web` (bin/mesp-web.js, tests/helpers/web.ts) in a child
// process, with a --root folder that holds a FIFO, symbolic links that lead outside it and a folder of many files.
// Upgrades without an Origin, from a foreign Origin, for a foreign Host (DNS rebinding), without the launch token or
// with a wrong one are refused 403 (static files too are served only to 127.0.0.1, localhost and [::1]); malformed
// frames written byte by byte (RSV bits, bad UTF-8, unmasked, a header announcing 101 MiB, a reserved opcode, an
// oversized control frame) close only their connection with RFC 6455's code; an oversized or too deeply nested
// message is refused and the server keeps serving; a page that never reads is disconnected; a 200 MB upload arrives
// whole in pieces (and one over the limit is refused with the limit); uploads of two connections stay apart; bad
// names are refused; a FIFO and links out are refused without being opened (the server does not freeze, and no
// outside byte is echoed); the data folder and its files are 0700 / 0600. After each attack a fresh page still gets
// answers from the same process.
import { createHash, randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { createReadStream, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { connect as netConnect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { UPLOAD_CHUNK_BYTES, UPLOAD_MAX_BYTES } from '../../core/api/contract';
import { createClient, webSocketBridge, type MespClient, type SocketLike } from '../../core/api/client';
import { MAX_MESSAGE_BYTES, TOKEN_PATTERN, WS_PROTOCOL, handshakeProtocols } from '../../core/api/web';
import { startWeb, type WebApp } from '../helpers/web';

let web: WebApp;
let base: string;
let dataDir: string;
let root: string;
let outside: string;
const SECRET = 'TOP-SECRET-OUTSIDE-BYTES-7f3a';
const bridges: { close(): void }[] = [];

beforeAll(async () => {
  base = mkdtempSync(join(tmpdir(), 'mesp-websec-'));
  const renderer = join(base, 'renderer');
  mkdirSync(renderer);
  writeFileSync(join(renderer, 'index.html'), '<!doctype html><title>MeSP</title>'); // the server's page; the renderer is not under test here
  dataDir = join(base, 'data');
  root = join(base, 'root');
  outside = join(base, 'outside');
  mkdirSync(root);
  mkdirSync(outside);
  writeFileSync(join(outside, 'secret.jsonl'), `{"text":"${SECRET}"}\n`);
  writeFileSync(join(outside, 'config.json'), `{"secret":"${SECRET}"}`);
  writeFileSync(join(root, 'data.jsonl'), '{"text":"hello"}\n');
  symlinkSync(join(root, 'data.jsonl'), join(root, 'link-in.jsonl'));
  symlinkSync(join(outside, 'secret.jsonl'), join(root, 'link-out.jsonl'));
  mkdirSync(join(root, 'model-linked'));
  symlinkSync(join(outside, 'config.json'), join(root, 'model-linked', 'config.json'));
  mkdirSync(join(root, 'model-fifo'));
  for (const f of [join(root, 'fifo.jsonl'), join(root, 'model-fifo', 'config.json')]) {
    const r = spawnSync('mkfifo', [f]);
    if (r.status !== 0) throw new Error(`mkfifo ${f} failed: ${r.stderr}`);
  }
  mkdirSync(join(root, 'many'));
  for (let i = 0; i < 2000; i++) writeFileSync(join(root, 'many', `${String(i).padStart(5, '0')}-${'x'.repeat(90)}.jsonl`), '');
  web = await startWeb(dataDir, 0, [root], { rendererDir: renderer });
});

afterAll(async () => {
  for (const b of bridges) b.close();
  await web?.kill('SIGKILL');
});

/** A client as the page makes one: the token in the subprotocol list, the server's own Origin. */
function client(): MespClient & { close(): void } {
  const bridge = webSocketBridge(`ws://127.0.0.1:${web.port}/mesp`, {
    connect: (u) => new WebSocket(u, handshakeProtocols(web.token), { origin: web.origin }) as unknown as SocketLike,
  });
  bridges.push(bridge);
  return Object.assign(createClient(bridge), { close: () => bridge.close() });
}

/** The process is up and a fresh page gets an answer. */
async function stillServing(what: string): Promise<void> {
  expect(web.proc.exitCode, `the server exited after ${what}:\n${web.log.join('')}`).toBeNull();
  const c = client();
  const info = await c.call('app.info', {});
  expect(info.mode, what).toBe('browser');
  c.close();
}

const key = (): string => randomBytes(16).toString('base64');

/** Send an upgrade request by hand; answers the status line's code, the whole response head and body, and the socket. */
function rawUpgrade(headers: Record<string, string | undefined>, path = '/mesp'): Promise<{ status: number; text: string; socket: Socket; rest: Buffer }> {
  return new Promise((ok, fail) => {
    const socket = netConnect(web.port, '127.0.0.1');
    const lines = [`GET ${path} HTTP/1.1`];
    const all: Record<string, string | undefined> = {
      Host: `127.0.0.1:${web.port}`, Upgrade: 'websocket', Connection: 'Upgrade', 'Sec-WebSocket-Key': key(), 'Sec-WebSocket-Version': '13', ...headers,
    };
    for (const [k, v] of Object.entries(all)) if (v !== undefined) lines.push(`${k}: ${v}`);
    let buf = Buffer.alloc(0);
    let done = false;
    const finish = (): void => {
      if (done) return;
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      const head = buf.subarray(0, end).toString();
      const status = Number(/^HTTP\/1\.1 (\d+)/.exec(head)?.[1] ?? 0);
      if (status === 101) {
        done = true;
        socket.removeAllListeners('data');
        ok({ status, text: head, socket, rest: buf.subarray(end + 4) });
      }
    };
    socket.on('data', (b: Buffer) => {
      buf = Buffer.concat([buf, b]);
      finish();
    });
    socket.on('close', () => {
      if (!done) {
        done = true;
        const text = buf.toString();
        ok({ status: Number(/^HTTP\/1\.1 (\d+)/.exec(text)?.[1] ?? 0), text, socket, rest: Buffer.alloc(0) });
      }
    });
    socket.on('error', (e) => {
      if (!done) fail(e);
    });
    socket.write(`${lines.join('\r\n')}\r\n\r\n`);
  });
}

const good = (): Record<string, string> => ({ Origin: web.origin, 'Sec-WebSocket-Protocol': handshakeProtocols(web.token).join(', ') });

/** A WebSocket frame as a client writes it (masked unless told), with an optional length that lies. */
function frame(o: { opcode: number; payload?: Buffer; fin?: boolean; rsv?: number; mask?: boolean; announce?: number }): Buffer {
  const payload = o.payload ?? Buffer.alloc(0);
  const len = o.announce ?? payload.length;
  const mask = o.mask ?? true;
  const head: number[] = [((o.fin ?? true) ? 0x80 : 0) | ((o.rsv ?? 0) << 4) | o.opcode];
  const m = mask ? 0x80 : 0;
  if (len < 126) head.push(m | len);
  else if (len < 65536) head.push(m | 126, len >> 8, len & 0xff);
  else {
    head.push(m | 127);
    const b = Buffer.alloc(8);
    b.writeBigUInt64BE(BigInt(len));
    head.push(...b);
  }
  const maskKey = randomBytes(4);
  const body = Buffer.from(payload);
  if (mask) for (let i = 0; i < body.length; i++) body[i] ^= maskKey[i % 4];
  return Buffer.concat([Buffer.from(head), mask ? maskKey : Buffer.alloc(0), body]);
}

/** The close code in the first close frame among the server's frames (unmasked), or null while none has arrived. */
function closeCode(buf: Buffer): number | null {
  for (let at = 0; at + 2 <= buf.length; ) {
    const opcode = buf[at] & 0x0f;
    let len = buf[at + 1] & 0x7f;
    let head = 2;
    if (len === 126) {
      if (at + 4 > buf.length) return null;
      len = buf.readUInt16BE(at + 2);
      head = 4;
    } else if (len === 127) {
      if (at + 10 > buf.length) return null;
      len = Number(buf.readBigUInt64BE(at + 2));
      head = 10;
    }
    if (at + head + len > buf.length) return null;
    if (opcode === 8) return len >= 2 ? buf.readUInt16BE(at + head) : 1005;
    at += head + len;
  }
  return null;
}

/** Write bytes on an open connection; resolves with the close code the server sent (0: it closed without one). */
function closeCodeAfter(socket: Socket, rest: Buffer, bytes: Buffer): Promise<number> {
  return new Promise((ok) => {
    let buf = rest;
    socket.on('data', (b: Buffer) => {
      buf = Buffer.concat([buf, b]);
      const code = closeCode(buf);
      if (code !== null) {
        socket.destroy();
        ok(code);
      }
    });
    socket.on('error', () => {});
    socket.on('close', () => ok(closeCode(buf) ?? 0));
    socket.write(bytes);
  });
}

function httpGet(host: string, path = '/'): Promise<{ status: number; body: string }> {
  return new Promise((ok, fail) => {
    const req = request({ host: '127.0.0.1', port: web.port, path, headers: { host } }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => ok({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', fail);
    req.end();
  });
}

describe('who may connect', () => {
  it('prints the address to open, with a fresh token in the fragment', async () => {
    expect(web.url).toBe(`${web.origin}/#token=${web.token}`);
    expect(web.token).toMatch(TOKEN_PATTERN);
    const again = await startWeb(mkdtempSync(join(tmpdir(), 'mesp-websec2-')), 0, [], { rendererDir: join(base, 'renderer') });
    expect(again.token, 'each launch makes its own token').not.toBe(web.token);
    await again.kill('SIGKILL');
    await stillServing('the token check');
  });

  it('accepts the page with the token, by 127.0.0.1, localhost and [::1]', async () => {
    for (const host of [`127.0.0.1:${web.port}`, `localhost:${web.port}`, `[::1]:${web.port}`]) {
      const r = await rawUpgrade({ ...good(), Host: host, Origin: `http://${host}` });
      expect(r.status, host).toBe(101);
      expect(r.text, `${host}: the server selects ${WS_PROTOCOL}, never the token`).toMatch(new RegExp(`Sec-WebSocket-Protocol: ${WS_PROTOCOL.replace('.', '\\.')}\\r?$`, 'mi'));
      expect(r.text, host).not.toContain(web.token);
      r.socket.destroy();
    }
  });

  it('refuses an upgrade without Origin, from another Origin, for another Host, without or with a wrong token', async () => {
    const wrong = randomBytes(32).toString('base64url');
    const cases: [string, Record<string, string | undefined>, RegExp][] = [
      ['no Origin (any local process)', { ...good(), Origin: undefined }, /no Origin/],
      ['a foreign Origin', { ...good(), Origin: 'https://evil.example' }, /Origin .*evil\.example/],
      ['this host on another port', { ...good(), Origin: `http://127.0.0.1:${web.port + 1}` }, /Origin/],
      ['a rebound DNS name', { ...good(), Host: `evil.example:${web.port}`, Origin: `http://evil.example:${web.port}` }, /Host "evil\.example/],
      ['a foreign Host with our Origin', { ...good(), Host: `evil.example:${web.port}` }, /Host/],
      ['no Host', { ...good(), Host: undefined }, /Host/],
      ['no token', { Origin: web.origin, 'Sec-WebSocket-Protocol': WS_PROTOCOL }, /no launch token/],
      ['no subprotocol at all', { Origin: web.origin }, /no launch token/],
      ['a wrong token', { Origin: web.origin, 'Sec-WebSocket-Protocol': handshakeProtocols(wrong).join(', ') }, /wrong launch token/],
      ['a token cut short', { Origin: web.origin, 'Sec-WebSocket-Protocol': handshakeProtocols(web.token.slice(0, -1)).join(', ') }, /wrong launch token/],
    ];
    for (const [what, headers, reason] of cases) {
      const r = await rawUpgrade(headers);
      expect(r.status, what).toBe(403);
      expect(r.text, what).toMatch(reason);
      expect(r.text, `${what}: the refusal never repeats the token`).not.toContain(web.token);
    }
    // The token in the URL instead of the handshake does not count.
    const inQuery = await rawUpgrade({ Origin: web.origin }, `/mesp?token=${web.token}`);
    expect(inQuery.status).not.toBe(101);
    await stillServing('refused upgrades');
  });

  it('serves static files only to 127.0.0.1, localhost and [::1]', async () => {
    for (const host of [`127.0.0.1:${web.port}`, `localhost:${web.port}`, `[::1]:${web.port}`]) {
      const r = await httpGet(host);
      expect(r.status, host).toBe(200);
      expect(r.body, host).toContain('<title>MeSP</title>');
    }
    for (const host of [`evil.example:${web.port}`, 'localhost', `127.0.0.1:${web.port + 1}`, `localhost.evil.example:${web.port}`]) {
      const r = await httpGet(host);
      expect(r.status, host).toBe(403);
      expect(r.body, host).not.toContain('<title>');
    }
  });
});

describe('what a connection cannot do to the server', () => {
  it('survives malformed frames: each closes only its own connection, with RFC 6455 code', async () => {
    const text = (s: string): Buffer => Buffer.from(s);
    const cases: [string, Buffer, number][] = [
      ['RSV1 set without an extension', frame({ opcode: 1, rsv: 4, payload: text('{}') }), 1002],
      ['RSV2+RSV3 set', frame({ opcode: 1, rsv: 3, payload: text('{}') }), 1002],
      ['invalid UTF-8 in a text frame', frame({ opcode: 1, payload: Buffer.from([0x7b, 0xff, 0xfe, 0x7d]) }), 1007],
      ['an unmasked client frame', frame({ opcode: 1, mask: false, payload: text('{"id":1}') }), 1002],
      ['a header announcing 101 MiB', frame({ opcode: 1, announce: 101 * 1024 * 1024 }), 1009],
      ['a reserved opcode', frame({ opcode: 3, payload: text('x') }), 1002],
      ['a control frame over 125 bytes', frame({ opcode: 9, payload: Buffer.alloc(200, 1) }), 1002],
      ['a fragmented control frame', frame({ opcode: 9, fin: false, payload: text('x') }), 1002],
      ['a continuation with nothing to continue', frame({ opcode: 0, payload: text('x') }), 1002],
    ];
    for (const [what, bytes, code] of cases) {
      const up = await rawUpgrade(good());
      expect(up.status, what).toBe(101);
      expect(await closeCodeAfter(up.socket, up.rest, bytes), what).toBe(code);
      await stillServing(what);
    }
    // Garbage instead of a handshake, and a connection reset mid-frame.
    const junk = netConnect(web.port, '127.0.0.1');
    junk.on('error', () => {});
    junk.write('\x16\x03\x01 not http at all\r\n\r\n');
    let answer = '';
    junk.on('data', (d) => (answer += String(d)));
    await new Promise((r) => junk.once('close', r));
    expect(answer).toMatch(/^HTTP\/1\.1 400/);
    const up = await rawUpgrade(good());
    up.socket.write(frame({ opcode: 1, payload: Buffer.alloc(1000, 0x20) }).subarray(0, 300));
    up.socket.resetAndDestroy();
    await stillServing('garbage and a reset');
  });

  it('refuses an oversized message and one nested too deep, and keeps serving', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${web.port}/mesp`, handshakeProtocols(web.token), { origin: web.origin });
    await new Promise((r) => ws.once('open', r));
    const closed = new Promise<number>((r) => ws.once('close', (code) => r(code)));
    ws.on('error', () => {});
    ws.send(JSON.stringify({ id: 1, method: 'app.info', params: { pad: 'x'.repeat(MAX_MESSAGE_BYTES + 10) } }));
    expect(await closed, 'a message over the limit closes with 1009 (message too big)').toBe(1009);
    await stillServing('an oversized message');

    const ws2 = new WebSocket(`ws://127.0.0.1:${web.port}/mesp`, handshakeProtocols(web.token), { origin: web.origin });
    await new Promise((r) => ws2.once('open', r));
    const answers: { id: number; ok: boolean; error?: { message: string } }[] = [];
    ws2.on('message', (d) => answers.push(JSON.parse(String(d))));
    ws2.send(`${'['.repeat(200_000)}${']'.repeat(200_000)}`);
    ws2.send('{"id": 2, "method": "app.info", "params": {}}');
    await expect.poll(() => answers.length).toBe(2);
    expect(answers[0]).toMatchObject({ id: 0, ok: false });
    expect(answers[0].error!.message).toMatch(/nests deeper than 64 levels/);
    expect(answers[1], 'the same connection still answers').toMatchObject({ id: 2, ok: true });
    ws2.close();
  });

  it('disconnects a page that never reads its answers instead of buffering them', async () => {
    const up = await rawUpgrade(good());
    expect(up.status).toBe(101);
    up.socket.pause(); // never read
    const closed = new Promise<void>((r) => up.socket.once('close', () => r()));
    up.socket.on('error', () => {});
    const req = Buffer.concat(
      Array.from({ length: 150 }, (_, i) => frame({ opcode: 1, payload: Buffer.from(JSON.stringify({ id: i + 1, method: 'files.browse', params: { dir: join(root, 'many') } })) })),
    );
    up.socket.write(req);
    await expect.poll(() => web.log.join(''), { timeout: 60_000 }).toMatch(/disconnected a page that is not reading: [\d.]+ MB of answers waiting/);
    up.socket.resume();
    await closed;
    const rss = Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${web.proc.pid}/status`, 'utf8'))?.[1] ?? 0) * 1024;
    console.log(`[slow reader] the server's peak RSS so far: ${(rss / 1e6).toFixed(1)} MB (150 answers of ${2000} entries were asked for)`);
    await stillServing('a page that never reads');
  });
});

describe('uploads', () => {
  /** Piece i of a deterministic 200 MB file. */
  const pieceOf = (i: number, size: number): Buffer => {
    const n = Math.min(UPLOAD_CHUNK_BYTES, size - i * UPLOAD_CHUNK_BYTES);
    const b = Buffer.alloc(n, i % 251);
    b.writeUInt32LE(i, 0);
    return b;
  };

  it('takes a 200 MB file in pieces, written to disk as they come, and refuses one over the limit with the limit', async () => {
    const c = client();
    const size = 200_000_000;
    const hash = createHash('sha256');
    const status = (): number => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${web.proc.pid}/status`, 'utf8'))?.[1] ?? 0) * 1024;
    const rssBefore = status();
    let rssMax = rssBefore;
    let r = await c.call('files.upload', { kind: 'model', name: 'model.safetensors', size, offset: 0, base64: pieceOf(0, size).toString('base64') });
    hash.update(pieceOf(0, size));
    const pieces = Math.ceil(size / UPLOAD_CHUNK_BYTES);
    for (let i = 1; i < pieces; i++) {
      const b = pieceOf(i, size);
      hash.update(b);
      r = await c.call('files.upload', { kind: 'model', uploadId: r.uploadId, name: 'model.safetensors', size, offset: i * UPLOAD_CHUNK_BYTES, base64: b.toString('base64') });
      if (i % 20 === 0) rssMax = Math.max(rssMax, status());
      expect(r.done, `piece ${i}`).toBe(i === pieces - 1);
    }
    expect(r.received).toBe(size);
    const file = join(r.path, 'model.safetensors');
    expect(lstatSync(file).size).toBe(size);
    const onDisk = createHash('sha256');
    await new Promise<void>((ok, fail) => createReadStream(file).on('data', (d) => onDisk.update(d)).on('end', () => ok()).on('error', fail));
    expect(onDisk.digest('hex'), 'the file on disk is the one sent').toBe(hash.digest('hex'));
    expect(readdirSync(r.path).filter((n) => n.endsWith('.part')), 'no part file is left').toEqual([]);
    console.log(`[200 MB upload] ${pieces} pieces of ${UPLOAD_CHUNK_BYTES} bytes; server RSS ${(rssBefore / 1e6).toFixed(1)} MB before, at most ${(rssMax / 1e6).toFixed(1)} MB during`);
    expect(rssMax - rssBefore, 'the server does not hold the file in memory').toBeLessThan(size / 2);

    await expect(c.call('files.upload', { kind: 'model', name: 'huge.safetensors', size: UPLOAD_MAX_BYTES + 1, offset: 0, base64: '' })).rejects.toThrow(/uploads take files up to 8 GB/);
    await expect(c.call('files.upload', { kind: 'dataset', name: 'big.jsonl', size: 10, offset: 0, base64: Buffer.alloc(UPLOAD_CHUNK_BYTES + 3).toString('base64') })).rejects.toThrow(/a piece is at most/);
    await stillServing('a 200 MB upload');
  });

  it('keeps the uploads of two pages apart, in order, and leaves no part behind when a page goes', async () => {
    const a = client();
    const b = client();
    const text = Buffer.from('{"text":"a"}\n');
    const ra = await a.call('files.upload', { kind: 'dataset', name: 'same.jsonl', size: text.length, offset: 0, base64: text.toString('base64') });
    const rb = await b.call('files.upload', { kind: 'dataset', name: 'same.jsonl', size: text.length, offset: 0, base64: text.toString('base64') });
    expect(ra.path).not.toBe(rb.path);
    expect(ra.path.split('/').slice(-3, -2)[0], 'each page has its own folder').not.toBe(rb.path.split('/').slice(-3, -2)[0]);
    // B cannot add to, or overwrite, what A started.
    const started = await a.call('files.upload', { kind: 'model', name: 'config.json', size: 10, offset: 0, base64: Buffer.from('{"a":').toString('base64') });
    expect(started.done).toBe(false);
    await expect(b.call('files.upload', { kind: 'model', uploadId: started.uploadId, name: 'config.json', size: 10, offset: 5, base64: Buffer.from('1}   ').toString('base64') })).rejects.toThrow(/not started by this page/);
    await expect(a.call('files.upload', { kind: 'model', uploadId: started.uploadId, name: 'config.json', size: 10, offset: 7, base64: 'AAAA' })).rejects.toThrow(/expected the piece at byte 5/);
    // A page that goes away mid-upload leaves no part file.
    const folder = started.path;
    expect(readdirSync(folder)).toEqual(['.config.json.part']);
    a.close();
    await expect.poll(() => readdirSync(folder)).toEqual([]);
    b.close();
  });

  it('refuses names that are ".", "..", hidden, with folders, newlines or control characters', async () => {
    const c = client();
    for (const name of ['.', '..', '.hidden.jsonl', 'a/b.jsonl', '..\\x.jsonl', 'line\nbreak.jsonl', 'cr\r.jsonl', 'tab\t.jsonl', 'nul\u0000.jsonl', 'del\u007f.jsonl', 'c1\u0085.jsonl', 'sep\u2028.jsonl', '']) {
      const e = await c.call('files.upload', { kind: 'dataset', name, size: 0, offset: 0, base64: '' }).then(() => null, (x: Error) => x);
      expect(e, JSON.stringify(name)).not.toBeNull();
      expect(e!.message, JSON.stringify(name)).toMatch(/name/);
    }
    expect(existsSync(join(dataDir, 'uploads', '..', 'x.jsonl'))).toBe(false);
  });
});

describe('files under --root', () => {
  it('refuses a FIFO without opening it (the server does not freeze)', async () => {
    const c = client();
    const check = await c.call('files.check', { kind: 'dataset', path: join(root, 'fifo.jsonl') });
    expect(check.ok).toBe(false);
    expect(check.error).toMatch(/fifo\.jsonl is not a regular file or folder \(a FIFO/);
    await expect(c.call('dataset.inspect', { dataPath: join(root, 'fifo.jsonl'), modelDir: (await c.call('app.info', {})).demo.modelDir })).rejects.toThrow(/FIFO/);
    await expect(c.call('model.inspect', { modelDir: join(root, 'model-fifo') })).rejects.toThrow(/model-fifo\/config\.json is not a regular file/);
    const listed = (await c.call('files.browse', { dir: root })).entries.map((e) => e.name);
    expect(listed).toEqual(expect.arrayContaining(['data.jsonl', 'link-in.jsonl', 'many', 'model-fifo', 'model-linked']));
    expect(listed).not.toContain('fifo.jsonl');
    expect(listed, 'a link out is not offered').not.toContain('link-out.jsonl');
    await stillServing('a FIFO');
  });

  it('refuses links that lead outside the allowed folders, and never echoes what is there', async () => {
    const c = client();
    const demo = (await c.call('app.info', {})).demo.modelDir;
    expect((await c.call('files.check', { kind: 'dataset', path: join(root, 'link-in.jsonl') })).ok, 'a link inside is fine').toBe(true);
    const out = await c.call('files.check', { kind: 'dataset', path: join(root, 'link-out.jsonl') });
    expect(out.ok).toBe(false);
    expect(out.error).toMatch(/link-out\.jsonl leads \(through a symbolic link\) to .*outside\/secret\.jsonl, outside the allowed folders/);
    const errors: string[] = [];
    for (const call of [
      () => c.call('dataset.inspect', { dataPath: join(root, 'link-out.jsonl'), modelDir: demo }),
      () => c.call('model.inspect', { modelDir: join(root, 'model-linked') }),
      () => c.call('plan.fit', { modelDir: join(root, 'model-linked'), profile: 'phone-6gb' }),
      () => c.call('runs.start', { modelDir: demo, dataPath: join(root, 'link-out.jsonl'), profile: 'phone-6gb', steps: 1 }),
    ]) {
      errors.push(await call().then(() => 'accepted', (e: Error) => e.message));
    }
    expect(errors[1]).toMatch(/model-linked\/config\.json is a symbolic link to .*outside\/config\.json, outside the allowed folders/);
    for (const [i, e] of errors.entries()) {
      expect(e, `call ${i}`).not.toBe('accepted');
      expect(e, `call ${i} echoes the outside file`).not.toContain(SECRET);
    }
  });
});

describe('the data folder', () => {
  it('is private: folders 0700, files 0600', async () => {
    const c = client();
    await c.call('dataset.inspect', { dataPath: join(root, 'data.jsonl'), modelDir: (await c.call('app.info', {})).demo.modelDir }); // writes settings.json
    const bad: string[] = [];
    let files = 0;
    const walk = (d: string): void => {
      for (const e of readdirSync(d, { withFileTypes: true })) {
        const p = join(d, e.name);
        const mode = lstatSync(p).mode & 0o777;
        if (e.isDirectory()) {
          if (mode !== 0o700) bad.push(`${p} ${mode.toString(8)}`);
          walk(p);
        } else {
          files++;
          if (mode !== 0o600) bad.push(`${p} ${mode.toString(8)}`);
        }
      }
    };
    expect((lstatSync(dataDir).mode & 0o777).toString(8)).toBe('700');
    walk(dataDir);
    expect(files).toBeGreaterThan(3); // settings, the demo model and dataset, uploads
    expect(existsSync(join(dataDir, 'settings.json'))).toBe(true);
    expect(bad).toEqual([]);
  });
});

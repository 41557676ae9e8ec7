// A local stand-in for the Hugging Face Hub on 127.0.0.1, speaking the protocol @huggingface/hub (2.17) calls:
//   GET  /api/{models|datasets}/O/N/revision/REV        repo info with `sha` (the commit), `gated`, `siblings`
//   GET  /api/{models|datasets}/O/N/tree/REV[/PATH]     the file tree: oid (git blob id), size, lfs {oid = sha256, size}
//   POST /api/{models|datasets}/O/N/paths-info/REV      {"paths": [...], "expand": bool} → the entries that exist
//   GET  /[datasets/]O/N/resolve/REV/PATH               small files: 200 with the bytes; LFS files: 302 to another path
//                                                        (/lfs-store/..., as the hub redirects to its CDN)
// with Range (206 + Content-Range, 416), ETag, X-Linked-Size / X-Linked-ETag, X-Repo-Commit, and errors as the hub
// sends them: 404 (401 without a token) with X-Error-Code RepoNotFound, 404 RevisionNotFound / EntryNotFound, 401/403
// GatedRepo. Fault modes per file, on body requests (not the `Range: bytes=0-0` probe): the connection cut after N
// bytes, HTTP 500 answers, a corrupted byte, a stall, a server that ignores Range. Every request is logged.
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export type RepoKind = 'model' | 'dataset';

export interface HubRepo {
  kind: RepoKind;
  id: string;
  files: Map<string, Uint8Array>;
  /** Branches and tags → commit; `main` → the commit by default. */
  refs: Record<string, string>;
  commit: string;
  gated?: boolean;
  /** Paths stored with LFS (sha256 reported); default: *.safetensors, *.bin, *.jsonl and files of 1 MB or more. */
  lfs?: (path: string, bytes: Uint8Array) => boolean;
}

export interface Fault {
  /** Close the connection after this many bytes of the body, `times` times. */
  cutAfter?: number;
  /** Answer HTTP 500 this many times first. */
  fail500?: number;
  /** Flip the byte at this offset of the file in every answer. */
  corruptAt?: number;
  /** Send this many bytes, then nothing more (until the client gives up). */
  stallAfter?: number;
  /** Answer 200 with the whole file even to a Range request. */
  ignoreRange?: boolean;
  /** How many body requests the cut or stall applies to (default 1). */
  times?: number;
}

export interface LoggedRequest {
  method: string;
  path: string;
  range: string | null;
  /** The Authorization header as received (tests compare it; it is never printed). */
  auth: string | null;
  status: number;
}

const enc = new TextEncoder();

export function gitBlobId(bytes: Uint8Array): string {
  return createHash('sha1').update(`blob ${bytes.length}\0`).update(bytes).digest('hex');
}

export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function defaultLfs(path: string, bytes: Uint8Array): boolean {
  return /\.(safetensors|bin|jsonl|gguf)$/.test(path) || bytes.length >= 1_000_000;
}

/** A repo from file name → content; its commit is derived from the contents (deterministic). */
export function makeRepo(kind: RepoKind, id: string, files: Record<string, Uint8Array | string> | Map<string, Uint8Array>, opts: Partial<Pick<HubRepo, 'gated' | 'lfs' | 'refs'>> = {}): HubRepo {
  const map = new Map<string, Uint8Array>();
  for (const [k, v] of files instanceof Map ? files : Object.entries(files)) map.set(k, typeof v === 'string' ? enc.encode(v) : v);
  const h = createHash('sha1').update(`${kind}:${id}`);
  for (const [k, v] of [...map].sort(([a], [b]) => (a < b ? -1 : 1))) h.update(`${k}:${gitBlobId(v)}\n`);
  const commit = h.digest('hex');
  return { kind, id, files: map, commit, refs: { main: commit, ...opts.refs }, gated: opts.gated, lfs: opts.lfs };
}

export class HubServer {
  readonly log: LoggedRequest[] = [];
  readonly tokens = new Set<string>();
  /** Faults by "REPO_ID/PATH". */
  readonly faults = new Map<string, Fault>();
  private readonly repos = new Map<string, HubRepo>();
  private readonly used = new Map<string, { cuts: number; stalls: number; fails: number }>();
  private readonly sockets = new Set<Socket>();
  private server: Server | null = null;
  url = '';

  add(repo: HubRepo): HubRepo {
    this.repos.set(`${repo.kind}:${repo.id}`, repo);
    return repo;
  }

  fault(repoId: string, path: string, f: Fault): void {
    this.faults.set(`${repoId}/${path}`, f);
    this.used.delete(`${repoId}/${path}`);
  }

  clearFaults(): void {
    this.faults.clear();
    this.used.clear();
  }

  /** Requests for a path (without the query), e.g. every body request of a file. */
  requests(match: (r: LoggedRequest) => boolean): LoggedRequest[] {
    return this.log.filter(match);
  }

  async start(): Promise<string> {
    this.server = createServer((req, res) => void this.handle(req, res));
    this.server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this.url;
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }

  private isLfs(repo: HubRepo, path: string, bytes: Uint8Array): boolean {
    return (repo.lfs ?? defaultLfs)(path, bytes);
  }

  private entry(repo: HubRepo, path: string, expand: boolean): Record<string, unknown> {
    const bytes = repo.files.get(path)!;
    const lfs = this.isLfs(repo, path, bytes);
    return {
      type: 'file', path, size: bytes.length, oid: lfs ? gitBlobId(enc.encode(`version https://git-lfs.github.com/spec/v1\noid sha256:${sha256(bytes)}\nsize ${bytes.length}\n`)) : gitBlobId(bytes),
      ...(lfs ? { lfs: { oid: sha256(bytes), size: bytes.length, pointerSize: 134 } } : {}),
      ...(expand ? { lastCommit: { id: repo.commit, title: 'upload', date: '2026-01-01T00:00:00.000Z' }, securityFileStatus: { status: 'safe' } } : {}),
    };
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const u = new URL(req.url ?? '/', 'http://x');
    const logged: LoggedRequest = { method: req.method ?? 'GET', path: u.pathname, range: req.headers.range ?? null, auth: req.headers.authorization ?? null, status: 0 };
    this.log.push(logged);
    const send = (status: number, body: unknown, headers: Record<string, string> = {}): void => {
      logged.status = status;
      const text = typeof body === 'string' ? body : JSON.stringify(body);
      res.writeHead(status, { 'Content-Type': typeof body === 'string' ? 'text/plain' : 'application/json', ...headers });
      res.end(text);
    };
    const fail = (status: number, code: string, message: string): void => send(status, { error: message }, { 'X-Error-Code': code, 'X-Error-Message': message });
    const seg = u.pathname.split('/').filter(Boolean).map(decodeURIComponent);
    const token = (req.headers.authorization ?? '').replace(/^Bearer /, '');
    const authed = token !== '' && this.tokens.has(token);

    const repoOf = (kind: RepoKind, o: string, n: string): HubRepo | null => {
      const r = this.repos.get(`${kind}:${o}/${n}`);
      if (!r) {
        fail(req.headers.authorization ? 404 : 401, 'RepoNotFound', `Repository not found: ${o}/${n}`);
        return null;
      }
      return r;
    };
    const commitOf = (r: HubRepo, rev: string): string | null => {
      const c = r.refs[rev === 'HEAD' ? 'main' : rev] ?? (rev === r.commit ? r.commit : null);
      if (!c) fail(404, 'RevisionNotFound', `Invalid rev id: ${rev}`);
      return c;
    };

    // /lfs-store/KIND/O/N/SHA256: where LFS files are served from (the CDN of the real hub; public, like a signed URL)
    if (seg[0] === 'lfs-store' && seg.length === 5) {
      const repo = this.repos.get(`${seg[1]}:${seg[2]}/${seg[3]}`);
      const path = repo && [...repo.files].find(([p, b]) => this.isLfs(repo, p, b) && sha256(b) === seg[4])?.[0];
      if (!repo || !path) return fail(404, 'EntryNotFound', 'no such object');
      return this.body(req, res, logged, repo, path, { ETag: `"${seg[4]}"` });
    }

    if (seg[0] === 'api' && (seg[1] === 'models' || seg[1] === 'datasets') && seg.length >= 6) {
      const kind: RepoKind = seg[1] === 'models' ? 'model' : 'dataset';
      const repo = repoOf(kind, seg[2], seg[3]);
      if (!repo) return;
      const action = seg[4];
      if (action === 'revision') {
        const commit = commitOf(repo, seg.slice(5).join('/'));
        if (!commit) return;
        return send(200, {
          _id: `id-${repo.id}`, id: repo.id, sha: commit, private: false, gated: repo.gated ? 'manual' : false, downloads: 0, likes: 0,
          lastModified: '2026-01-01T00:00:00.000Z', siblings: [...repo.files.keys()].map((rfilename) => ({ rfilename })),
        });
      }
      if (action === 'tree' && req.method === 'GET') {
        const commit = commitOf(repo, seg[5]);
        if (!commit) return;
        const prefix = seg.slice(6).join('/');
        const recursive = u.searchParams.get('recursive') === 'true';
        const out: Record<string, unknown>[] = [];
        const dirs = new Set<string>();
        for (const path of [...repo.files.keys()].sort()) {
          if (prefix && !path.startsWith(`${prefix}/`)) continue;
          const rest = prefix ? path.slice(prefix.length + 1) : path;
          if (!recursive && rest.includes('/')) {
            const d = (prefix ? `${prefix}/` : '') + rest.split('/')[0];
            if (!dirs.has(d)) out.push({ type: 'directory', path: d, size: 0, oid: gitBlobId(enc.encode(d)) });
            dirs.add(d);
            continue;
          }
          out.push(this.entry(repo, path, u.searchParams.get('expand') === 'true'));
        }
        return send(200, out);
      }
      if (action === 'paths-info' && req.method === 'POST') {
        const commit = commitOf(repo, seg.slice(5).join('/'));
        if (!commit) return;
        let body = '';
        for await (const c of req) body += String(c);
        const p = JSON.parse(body || '{}') as { paths?: string[]; expand?: boolean };
        return send(200, (p.paths ?? []).filter((x) => repo.files.has(x)).map((x) => this.entry(repo, x, !!p.expand)));
      }
      return fail(404, 'EntryNotFound', 'unknown API route');
    }

    // /[datasets/]O/N/resolve/REV/PATH
    const ds = seg[0] === 'datasets';
    const s = ds ? seg.slice(1) : seg;
    if (s.length >= 5 && s[2] === 'resolve') {
      const repo = repoOf(ds ? 'dataset' : 'model', s[0], s[1]);
      if (!repo) return;
      const commit = commitOf(repo, s[3]);
      if (!commit) return;
      if (repo.gated && !authed) {
        return fail(req.headers.authorization ? 403 : 401, 'GatedRepo', `Access to ${repo.kind} ${repo.id} is restricted. You must have access to it and be authenticated to access it. Please log in.`);
      }
      const path = s.slice(4).join('/');
      const bytes = repo.files.get(path);
      if (!bytes) return fail(404, 'EntryNotFound', `${path} does not exist on "${s[3]}"`);
      if (this.isLfs(repo, path, bytes)) {
        const sum = sha256(bytes);
        logged.status = 302;
        res.writeHead(302, {
          Location: `/lfs-store/${repo.kind}/${repo.id}/${sum}`, 'X-Repo-Commit': commit, 'X-Linked-Size': String(bytes.length), 'X-Linked-ETag': `"${sum}"`, ETag: `"${sum}"`,
        });
        return void res.end();
      }
      return this.body(req, res, logged, repo, path, { ETag: `"${gitBlobId(bytes)}"`, 'X-Repo-Commit': commit });
    }
    fail(404, 'EntryNotFound', `no route for ${u.pathname}`);
  }

  /** A file's bytes, with Range and the faults of that file. */
  private body(req: IncomingMessage, res: ServerResponse, logged: LoggedRequest, repo: HubRepo, path: string, headers: Record<string, string>): void {
    let bytes = repo.files.get(path)!;
    const key = `${repo.id}/${path}`;
    const f = this.faults.get(key) ?? {};
    const used = this.used.get(key) ?? { cuts: 0, stalls: 0, fails: 0 };
    this.used.set(key, used);
    const probe = req.headers.range === 'bytes=0-0';
    if (f.corruptAt !== undefined) {
      bytes = bytes.slice();
      bytes[f.corruptAt] ^= 0x5a;
    }
    if (!probe && f.fail500 !== undefined && used.fails < f.fail500) {
      used.fails++;
      logged.status = 500;
      res.writeHead(500, { 'Content-Type': 'text/plain' });
      return void res.end('Internal Server Error');
    }
    const size = bytes.length;
    let start = 0;
    let end = size - 1;
    let status = 200;
    const m = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
    if (m && !(f.ignoreRange && !probe)) {
      start = Number(m[1]);
      end = m[2] ? Math.min(Number(m[2]), size - 1) : size - 1;
      if (start >= size) {
        logged.status = 416;
        res.writeHead(416, { 'Content-Range': `bytes */${size}`, ...headers });
        return void res.end();
      }
      status = 206;
    }
    const part = bytes.subarray(start, end + 1);
    logged.status = status;
    res.writeHead(status, {
      'Content-Type': 'application/octet-stream', 'Content-Length': String(part.length), 'Accept-Ranges': 'bytes',
      ...(status === 206 ? { 'Content-Range': `bytes ${start}-${end}/${size}` } : {}), ...headers,
    });
    const times = f.times ?? 1;
    if (!probe && f.cutAfter !== undefined && used.cuts < times && part.length > f.cutAfter) {
      used.cuts++;
      return void res.write(part.subarray(0, f.cutAfter), () => res.socket?.destroy());
    }
    if (!probe && f.stallAfter !== undefined && used.stalls < times && part.length > f.stallAfter) {
      used.stalls++;
      return void res.write(part.subarray(0, f.stallAfter)); // and nothing more
    }
    res.end(part);
  }
}

/** Start a hub with these repos; stop it in afterAll. */
export async function startHub(...repos: HubRepo[]): Promise<HubServer> {
  const hub = new HubServer();
  for (const r of repos) hub.add(r);
  await hub.start();
  return hub;
}

/**
 * A model repo as the hub holds one: the embedded demo model (a Qwen2 checkpoint with a real tokenizer, from
 * core/model/demo.ts) plus what a pull must leave alone: pickled weights, a README, a folder of ONNX files.
 */
export function demoModelRepo(id: string, files: Map<string, Uint8Array>, opts: Partial<Pick<HubRepo, 'gated' | 'refs'>> = {}): HubRepo {
  const all = new Map(files);
  all.set('pytorch_model.bin', new Uint8Array(4096).fill(7));
  all.set('README.md', enc.encode(`# ${id}\n`));
  all.set('.gitattributes', enc.encode('*.safetensors filter=lfs diff=lfs merge=lfs -text\n'));
  all.set('onnx/model.onnx', new Uint8Array(64).fill(1));
  return makeRepo('model', id, all, opts);
}

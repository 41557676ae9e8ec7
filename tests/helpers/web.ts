// Starts browser mode for real, as a user does: `node bin/mesp-web.js` (the `npm run web` entry) in a child process,
// in its own data folder, and reads the address it prints, which carries the launch token (core/api/web.ts). Used by
// the e2e harness (tests/e2e/harness.ts) and the browser-mode security test. A restart in place passes the previous
// token in $MESP_WEB_TOKEN, so open pages reconnect by themselves.
import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../..');

export interface WebApp {
  /** The printed address to open: http://127.0.0.1:PORT/#token=… */
  url: string;
  /** http://127.0.0.1:PORT */
  origin: string;
  port: number;
  token: string;
  proc: ChildProcess;
  /** Everything the process printed so far (stdout and stderr). */
  log: string[];
  /** Kill the service process (signal SIGKILL: as if it crashed). */
  kill(signal?: NodeJS.Signals): Promise<void>;
}

export interface StartWebOptions {
  /** The built renderer to serve (default out/renderer). */
  rendererDir?: string;
  /** Reuse a launch token (a restart in place). */
  token?: string;
}

const PRINTED = /at (http:\/\/127\.0\.0\.1:(\d+))\/#token=([A-Za-z0-9_-]+)/;

/** Start `npm run web` on a port (0 = any) with its own data folder; resolves with the printed address. */
export function startWeb(dataDir: string, port = 0, roots: string[] = [], opts: StartWebOptions = {}): Promise<WebApp> {
  const args = [join(ROOT, 'bin/mesp-web.js'), '--port', String(port), '--data-dir', dataDir, '--renderer-dir', opts.rendererDir ?? join(ROOT, 'out/renderer'), ...roots.flatMap((r) => ['--root', r])];
  const env = { ...process.env };
  delete env.MESP_WEB_TOKEN;
  if (opts.token) env.MESP_WEB_TOKEN = opts.token;
  const proc = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env });
  const log: string[] = [];
  return new Promise((ok, fail) => {
    const timer = setTimeout(() => fail(new Error(`mesp web did not start within 60 s:\n${log.join('')}`)), 60_000);
    let started = false;
    const onData = (b: Buffer): void => {
      log.push(b.toString());
      const m = PRINTED.exec(log.join(''));
      if (m && !started) {
        started = true;
        clearTimeout(timer);
        ok({
          url: m[0].slice(3), origin: m[1], port: Number(m[2]), token: m[3], proc, log,
          kill: (signal = 'SIGKILL') => new Promise<void>((done) => {
            if (proc.exitCode !== null || proc.signalCode !== null) return done();
            proc.once('exit', () => done());
            proc.kill(signal);
          }),
        });
      }
    };
    proc.stdout!.on('data', onData);
    proc.stderr!.on('data', (b: Buffer) => log.push(b.toString()));
    proc.once('exit', (code) => {
      clearTimeout(timer);
      if (!started) fail(new Error(`mesp web exited with ${code}:\n${log.join('')}`));
    });
  });
}

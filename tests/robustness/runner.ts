// Running `mesp` for the robustness corpus: the CLI bundle in a child process (bin/child.js, as bin/mesp.js runs it), with a wall-clock
// limit (a command that hangs is killed with SIGKILL and reported as such, never waited on), and a small pool that
// runs cases in parallel. The child's environment has no HF_* variable of the machine (as tests/helpers/cli.ts).
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from '../helpers/cli';

export interface Outcome {
  /** Exit status, or null when killed. */
  status: number | null;
  signal: NodeJS.Signals | null;
  /** Killed by the wall-clock limit. */
  timedOut: boolean;
  stdout: string;
  stderr: string;
  ms: number;
}

/** The CLI's bundle, as bin/mesp.js builds it (ensureBundle, called once by `ensureCli`). */
const BUNDLE = join(ROOT, 'out/cli/mesp.mjs');

/** Build the CLI's bundle when its sources changed (bin/mesp.js does this on every start; the corpus once). */
export async function ensureCli(): Promise<void> {
  const { ensureBundle } = (await import(join(ROOT, 'bin/bundle.js'))) as { ensureBundle(entry: string, out: string, name: string): Promise<string> };
  await ensureBundle('core/node/cli/main.ts', 'out/cli/mesp.mjs', 'mesp');
}

/**
 * Run `mesp ...args` in `cwd`, killed after `limitMs`: the bundle's main in a child process, as bin/mesp.js runs it
 * (bin/child.js), without bin/mesp.js's own launcher process (call ensureCli first).
 */
export function mesp(args: readonly string[], o: { cwd?: string; env?: Record<string, string>; limitMs?: number } = {}): Promise<Outcome> {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('HF_') && !k.startsWith('HUGGINGFACE_')));
  const t0 = Date.now();
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [join(ROOT, 'bin/child.js'), BUNDLE, 'main', ...args], { cwd: o.cwd, stdio: ['ignore', 'pipe', 'pipe'], env: { ...clean, ...o.env } });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      p.kill('SIGKILL');
    }, o.limitMs ?? 90_000);
    p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    p.on('error', reject);
    p.on('close', (status, signal) => {
      clearTimeout(timer);
      resolve({ status, signal, timedOut, stdout, stderr, ms: Date.now() - t0 });
    });
  });
}

/** Map `items` through `fn` with at most `width` in flight; results in input order. */
export async function pool<T, R>(items: readonly T[], width: number, fn: (item: T, i: number) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(width, items.length) }, worker));
  return out;
}

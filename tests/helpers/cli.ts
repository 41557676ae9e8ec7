// `mesp` as a user runs it, for tests: bin/mesp.js in a real process (stdin not a terminal, so a signal sent to it is
// passed on to the command), waited for asynchronously (a long synchronous wait would stall the test worker, and a
// server in the test's own process, such as the local hub of tests/helpers/hub-server.ts, could not answer it). The
// child gets this environment without any HF_* variable of the machine (no real token, cache or endpoint leaks in),
// plus `env`. Also `mesp`'s main() in this process with its output captured, where a test needs the GPU context or
// llama.cpp it holds.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { vi } from 'vitest';

export const ROOT = join(import.meta.dirname, '../..');

export interface CliRun {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

type OnLine = (line: string, kill: (signal: NodeJS.Signals) => void) => void;

/** Calls `on` with each whole line of a stream as it comes. */
function lines(stream: NodeJS.ReadableStream, on: (line: string) => void): void {
  let pending = '';
  stream.on('data', (d: Buffer) => {
    pending += d.toString();
    let nl: number;
    while ((nl = pending.indexOf('\n')) >= 0) {
      on(pending.slice(0, nl));
      pending = pending.slice(nl + 1);
    }
  });
}

/**
 * Run `mesp ...args`; `onLine` sees each line of stdout as it comes and may signal the process, `o.onErrLine` the
 * same for stderr; `o.env` is added to the environment.
 */
export function runMesp(args: string[], onLine?: OnLine, o: { env?: Record<string, string>; onErrLine?: OnLine } = {}): Promise<CliRun> {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('HF_') && !k.startsWith('HUGGINGFACE_')));
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [join(ROOT, 'bin/mesp.js'), ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...clean, ...o.env } });
    const kill = (s: NodeJS.Signals): void => void p.kill(s);
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    lines(p.stdout, (l) => onLine?.(l, kill));
    lines(p.stderr, (l) => o.onErrLine?.(l, kill));
    p.on('error', reject);
    p.on('close', (status, signal) => resolve({ status, signal, stdout, stderr }));
  });
}

/** Run main(args) in this process, capturing what it prints (console and the standard streams). */
export async function runMain(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const { main } = await import('../../core/node/cli/main'); // only the tests that run it in-process load the CLI
  let out = '';
  let err = '';
  const spies = [
    vi.spyOn(process.stdout, 'write').mockImplementation((s) => ((out += String(s)), true)),
    vi.spyOn(console, 'log').mockImplementation((...a) => void (out += a.join(' ') + '\n')),
    vi.spyOn(console, 'error').mockImplementation((...a) => void (err += a.join(' ') + '\n')),
    vi.spyOn(process.stderr, 'write').mockImplementation((s) => ((err += String(s)), true)),
  ];
  try {
    return { code: await main(args), out, err };
  } finally {
    for (const s of spies) s.mockRestore();
  }
}

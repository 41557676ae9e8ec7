// The real `mesp` CLI in a child process, run asynchronously so that a server in the test's own process (the local
// hub of tests/helpers/hub-server.ts) can answer it. The child gets this environment without any HF_* variable of
// the machine (no real token, cache or endpoint leaks in), plus `env`.
import { spawn } from 'node:child_process';

export interface Ran {
  code: number | null;
  out: string;
  err: string;
}

export function mespChild(args: string[], env: Record<string, string> = {}): Promise<Ran> {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('HF_') && !k.startsWith('HUGGINGFACE_')));
  return new Promise((res, rej) => {
    const p = spawn(process.execPath, ['bin/mesp.js', ...args], { env: { ...clean, ...env } });
    let out = '';
    let err = '';
    p.stdout.on('data', (d) => (out += String(d)));
    p.stderr.on('data', (d) => (err += String(d)));
    p.on('error', rej);
    p.on('close', (code) => res({ code, out, err }));
  });
}

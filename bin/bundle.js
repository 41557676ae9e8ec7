// Shared by bin/mesp.js and bin/mesp-web.js. In a source checkout, a TypeScript entry of core/node is bundled with
// esbuild (WGSL as text, packages external) into out/, only when one of its inputs changed since the last build (the
// inputs and their sizes and times are kept beside the bundle), by one process at a time (a lock file beside it), and
// the new bundle is written to a temporary file and renamed over the old one: a command started while another
// rebuilds runs the old bundle (or waits for the first one), never half of one. Where esbuild is absent (an
// installed build), the bundle that is there is used.
// The bundle then runs in a child process whose stderr passes through here, less Dawn's "artificially reduced"
// limit notices (lavapipe reports limits Dawn lowers to what WebGPU allows: nothing for a user to act on).
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..');

function fresh(stampFile, out) {
  if (!existsSync(out) || !existsSync(stampFile)) return false;
  try {
    const stamp = JSON.parse(readFileSync(stampFile, 'utf8'));
    for (const [file, [size, mtimeMs]] of Object.entries(stamp.inputs)) {
      const st = statSync(join(root, file));
      if (st.size !== size || st.mtimeMs !== mtimeMs) return false;
    }
    return Object.keys(stamp.inputs).length > 0;
  } catch {
    return false; // a missing input, or a stamp from an older layout
  }
}

const LOCK_STALE_MS = 120_000;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Take the build lock, or null when another process holds it (a lock left by a crashed build is taken over). */
function takeLock(lock) {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      return openSync(lock, 'wx');
    } catch (e) {
      if (e.code !== 'EEXIST') throw e;
      try {
        if (Date.now() - statSync(lock).mtimeMs < LOCK_STALE_MS) return null;
        rmSync(lock, { force: true });
      } catch {
        // the lock went away meanwhile: try again
      }
    }
  }
  return null;
}

/** Bundle `entry` (relative to the repository root) into `outfile` when its sources changed; returns its path. */
export async function ensureBundle(entry, outfile, name) {
  const src = join(root, entry);
  const out = join(root, outfile);
  const stampFile = `${out}.inputs.json`;
  const lock = `${out}.lock`;
  if (existsSync(src) && !fresh(stampFile, out)) {
    let esbuild = null;
    try {
      esbuild = await import('esbuild');
    } catch {
      esbuild = null;
    }
    if (esbuild) mkdirSync(dirname(out), { recursive: true });
    const fd = esbuild ? takeLock(lock) : null;
    if (esbuild && fd === null && !existsSync(out)) {
      // Another start is building the first bundle: wait for it.
      for (let t = 0; existsSync(lock) && t < LOCK_STALE_MS; t += 100) await sleep(100);
    }
    if (esbuild && fd !== null) {
      const tag = `${process.pid}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
      const tmp = `${out}.${tag}.tmp`;
      try {
        const r = esbuild.buildSync({
          entryPoints: [src], outfile: tmp, bundle: true, platform: 'node', format: 'esm', target: 'node20', packages: 'external',
          loader: { '.wgsl': 'text' }, sourcemap: 'inline', logLevel: 'error', metafile: true,
        });
        const inputs = {};
        for (const file of Object.keys(r.metafile.inputs)) {
          const st = statSync(join(root, file));
          inputs[relative(root, join(root, file))] = [st.size, st.mtimeMs];
        }
        writeFileSync(`${stampFile}.${tag}.tmp`, JSON.stringify({ entry, inputs }) + '\n');
        renameSync(tmp, out); // atomic: readers see the old bundle or the new one
        renameSync(`${stampFile}.${tag}.tmp`, stampFile);
      } finally {
        rmSync(tmp, { force: true });
        rmSync(`${stampFile}.${tag}.tmp`, { force: true });
        closeSync(fd);
        rmSync(lock, { force: true });
      }
    }
  }
  if (!existsSync(out)) {
    console.error(`${name}: ${out} is missing; run \`npm ci\` in ${root} first.`);
    process.exit(1);
  }
  return out;
}

/** Dawn's notice that it lowered an adapter limit (printed once per process, when the first adapter is requested). */
export const DAWN_NOTICE = /^Warning: \w+ artificially reduced from \d+ to \d+/;

/** Pass a child's stderr through, dropping whole lines that match `drop`; partial lines are passed at once. */
function filterLines(from, to, drop, onEnd) {
  let held = '';
  let midLine = false;
  from.setEncoding('utf8');
  from.on('data', (chunk) => {
    let text = held + chunk;
    held = '';
    for (;;) {
      const nl = text.indexOf('\n');
      if (nl < 0) break;
      const line = text.slice(0, nl + 1);
      text = text.slice(nl + 1);
      if (midLine || !drop.test(line)) to.write(line);
      midLine = false;
    }
    if (!text) return;
    // A line without its end yet: hold it only while it may still become a dropped notice.
    if (!midLine && 'Warning: '.startsWith(text.slice(0, 9)) && text.length < 200) held = text;
    else {
      to.write(text);
      midLine = true;
    }
  });
  from.on('end', () => {
    if (held) to.write(held);
    onEnd();
  });
}

/**
 * Run export `fn` of `bundle` with `args` in a child process and exit with its code. Signals: SIGTERM and SIGHUP are
 * passed on; SIGINT too, unless stdin is a terminal (then Ctrl-C reaches the child from the terminal itself). The
 * child ends if this process dies (its IPC channel closes).
 */
export function runChild(bundle, fn, args, extraEnv = {}) {
  const env = { ...process.env, ...extraEnv };
  if (process.stderr.isTTY) env.MESP_STDERR_COLUMNS = String(process.stderr.columns ?? 120);
  const child = spawn(process.execPath, [join(root, 'bin/child.js'), bundle, fn, ...args], { stdio: ['inherit', 'inherit', 'pipe', 'ipc'], env });
  let exit = null;
  let ended = false;
  const done = () => exit !== null && ended && process.exit(exit);
  filterLines(child.stderr, process.stderr, DAWN_NOTICE, () => {
    ended = true;
    done();
  });
  const pass = (sig) => () => child.exitCode === null && child.kill(sig);
  process.on('SIGTERM', pass('SIGTERM'));
  process.on('SIGHUP', pass('SIGHUP'));
  process.on('SIGINT', process.stdin.isTTY ? () => {} : pass('SIGINT'));
  child.on('exit', (code, signal) => {
    const codes = { SIGINT: 130, SIGTERM: 143, SIGKILL: 137, SIGHUP: 129 };
    exit = code ?? codes[signal] ?? 1;
    done();
  });
}

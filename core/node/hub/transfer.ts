// One file's bytes from the hub into the cache, robustly (the client, @huggingface/hub, neither resumes nor checks):
// - the bytes go to blobs/ETAG.incomplete, and an interrupted transfer continues from that file's length with an HTTP
//   `Range: bytes=N-` request (a 206 answer is appended; a server that ignores the range is followed from byte 0);
// - a transient failure (the connection cut, a 5xx/408/429, no byte for idleTimeoutMs) is retried with exponential
//   backoff, at most `attempts` times in a row without progress;
// - the whole file is hashed on the way (the bytes already on disk first) and compared with what the hub reports: the
//   sha256 of an LFS file, the git blob id (sha1 of "blob SIZE\0" + bytes) of a small one. A mismatch deletes the
//   file and fails naming it and both hashes; only a verified file is renamed to its blob.
// The download address comes from the client's fileDownloadInfo, asked again on each attempt (signed CDN addresses
// expire). The token is sent only to the hub's own origin; fetch drops it on a redirect to another host.
import { createHash, type Hash } from 'node:crypto';
import { createReadStream, existsSync, renameSync, rmSync, statSync, truncateSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { FormatError } from '../../common/errors';
import { backoffMs, HubNetworkError, isAbort, isTransientStatus, networkReason, PullCancelled, sleep } from './http';
import type { HubSettings } from './settings';

export interface FileCheck {
  kind: 'sha256' | 'git-sha1';
  digest: string;
}

export interface TransferSpec {
  /** Where the bytes are now (the client's fileDownloadInfo; called once per attempt). */
  url: () => Promise<string>;
  size: number;
  /** The blob's final path; the bytes go to `${blob}.incomplete` until verified. */
  blob: string;
  check: FileCheck;
  /** The file as messages name it: "OWNER/NAME@COMMIT7/PATH". */
  label: string;
}

export interface TransferHooks {
  signal?: AbortSignal;
  /** Bytes that arrived now (not counting what was already on disk). */
  onBytes?: (n: number) => void;
  /** `n` bytes counted so far were dropped (the server ignored the range): count them again as they come. */
  onRestart?: (n: number) => void;
  onRetry?: (attempt: number, delayMs: number, reason: string) => void;
}

export interface TransferResult {
  digest: string;
  /** Bytes that were on disk from an earlier transfer when this one began. */
  resumedFrom: number;
}

class Transient extends Error {}

function hasher(check: FileCheck, size: number): Hash {
  if (check.kind === 'sha256') return createHash('sha256');
  return createHash('sha1').update(`blob ${size}\0`);
}

async function hashPrefix(h: Hash, file: string, bytes: number): Promise<void> {
  if (bytes === 0) return;
  for await (const chunk of createReadStream(file, { start: 0, end: bytes - 1, highWaterMark: 8 << 20 })) h.update(chunk as Buffer);
}

function originOf(u: string): string {
  try {
    return new URL(u).origin;
  } catch {
    return '';
  }
}

/** Download (or finish) one file into its blob; returns once the blob is complete and verified. */
export async function transferFile(spec: TransferSpec, s: HubSettings, hooks: TransferHooks = {}): Promise<TransferResult> {
  const inc = `${spec.blob}.incomplete`;
  let have = existsSync(inc) ? statSync(inc).size : 0;
  if (have > spec.size) {
    rmSync(inc, { force: true }); // longer than the file: not a prefix of it
    have = 0;
  }
  const st: State = { inc, have, h: hasher(spec.check, spec.size) };
  const resumedFrom = have;
  await hashPrefix(st.h, inc, have);
  let streak = 0;
  while (st.have < spec.size || !existsSync(inc)) {
    const before = st.have;
    try {
      await attempt(spec, s, hooks, st);
      if (st.have < spec.size) throw new Transient(`the connection closed at byte ${st.have} of ${spec.size}`);
    } catch (e) {
      // The file holds exactly the bytes hashed so far (a write cut short is cut off), so the next attempt appends.
      if (existsSync(inc) && statSync(inc).size !== st.have) truncateSync(inc, st.have);
      if (hooks.signal?.aborted) throw new PullCancelled(spec.label);
      const transient = e instanceof Transient || isAbort(e) || e instanceof TypeError;
      if (!transient) throw e;
      streak = st.have > before ? 1 : streak + 1;
      const reason = e instanceof Transient ? e.message : networkReason(e);
      if (streak >= s.retry.attempts) {
        throw new HubNetworkError(`${spec.label}: the download kept failing (${reason}; ${streak} attempts in a row without progress). ` +
          `The ${st.have} bytes received are kept in ${inc}; run the pull again to resume.`);
      }
      const wait = backoffMs(streak, s.retry);
      hooks.onRetry?.(streak, wait, reason);
      try {
        await sleep(wait, hooks.signal);
      } catch {
        throw new PullCancelled(spec.label);
      }
    }
  }
  const digest = st.h.digest('hex');
  if (digest !== spec.check.digest) {
    rmSync(inc, { force: true });
    const name = spec.check.kind === 'sha256' ? 'sha256' : 'git blob id';
    throw new FormatError(spec.label, `${name} mismatch: the hub reports ${spec.check.digest}, the downloaded file has ${digest}. ` +
      'The bad file was deleted and nothing was linked into the snapshot; run the pull again (it downloads this file anew).');
  }
  renameSync(inc, spec.blob);
  return { digest, resumedFrom };
}

interface State {
  inc: string;
  /** Bytes in the .incomplete file, all of them hashed into h. */
  have: number;
  h: Hash;
}

/** One request from byte st.have, appending to the file and the hash as bytes arrive. */
async function attempt(spec: TransferSpec, s: HubSettings, hooks: TransferHooks, st: State): Promise<void> {
  const ac = new AbortController();
  const onCancel = (): void => ac.abort(hooks.signal!.reason);
  hooks.signal?.addEventListener('abort', onCancel, { once: true });
  let timer: NodeJS.Timeout | undefined;
  const arm = (): void => {
    clearTimeout(timer);
    timer = setTimeout(() => ac.abort(new DOMException(`no data for ${s.retry.idleTimeoutMs / 1000} s`, 'TimeoutError')), s.retry.idleTimeoutMs);
  };
  try {
    const url = await spec.url();
    arm();
    const headers: Record<string, string> = {};
    if (s.token && originOf(url) === originOf(s.endpoint)) headers.Authorization = `Bearer ${s.token}`;
    if (st.have > 0) headers.Range = `bytes=${st.have}-`;
    const res = await fetch(url, { headers, signal: ac.signal });
    if (res.status === 416) {
      await res.body?.cancel();
      if (st.have === spec.size) return; // everything is there already
      rmSync(st.inc, { force: true }); // the server does not take our prefix: start the file again
      hooks.onRestart?.(st.have);
      st.have = 0;
      st.h = hasher(spec.check, spec.size);
      throw new Transient('the server refused the range (HTTP 416); starting the file again');
    }
    if (!res.ok) {
      await res.body?.cancel();
      if (isTransientStatus(res.status)) throw new Transient(`HTTP ${res.status}`);
      throw new HubNetworkError(`${spec.label}: the download answered HTTP ${res.status}. Pull again; if it persists, check the token's access to the repo.`);
    }
    const start = res.status === 206 ? Number(/^bytes (\d+)-/.exec(res.headers.get('content-range') ?? '')?.[1] ?? NaN) : 0;
    if (start !== st.have) {
      if (start !== 0) {
        await res.body?.cancel();
        throw new Transient(`the server answered a range from byte ${start}, not ${st.have}`);
      }
      // The server sent the whole file (it ignored the range): start the file again.
      rmSync(st.inc, { force: true });
      if (st.have > 0) hooks.onRestart?.(st.have);
      st.have = 0;
      st.h = hasher(spec.check, spec.size);
    }
    if (!res.body) throw new Transient('an answer without a body');
    const fh = await open(st.inc, 'a');
    try {
      const reader = res.body.getReader();
      for (;;) {
        const { done, value: bytes } = await reader.read();
        if (done) break;
        arm();
        if (st.have + bytes.length > spec.size) {
          await reader.cancel().catch(() => undefined);
          await fh.close();
          rmSync(st.inc, { force: true });
          st.have = 0;
          throw new FormatError(spec.label, `the download has more bytes than the ${spec.size} the hub reports; the file was deleted. Pull again.`);
        }
        for (let off = 0; off < bytes.length;) off += (await fh.write(bytes, off, bytes.length - off)).bytesWritten;
        st.h.update(bytes);
        st.have += bytes.length;
        hooks.onBytes?.(bytes.length);
      }
      await fh.sync();
    } finally {
      await fh.close().catch(() => undefined);
    }
  } finally {
    clearTimeout(timer);
    hooks.signal?.removeEventListener('abort', onCancel);
    ac.abort(); // whatever is left of the answer is not read: free the connection
  }
}

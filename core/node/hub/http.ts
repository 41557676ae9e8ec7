// The HTTP side of a pull, under the official client (@huggingface/hub): the `fetch` every client call is given
// (retries of transient failures with backoff, a timeout, the caller's cancel signal, and a note of the hub's
// X-Error-Code / X-Error-Message headers, which the client's HubApiError drops), and the translation of what went
// wrong into errors that say what to do: a repo or revision that does not exist, a gated repo without a token, an
// unreachable hub. The hub answers 401 (not 404) for a repo that does not exist when no token is sent, so a private
// repo and a missing one look alike: the message says both. No message holds the token.
import { HubApiError } from '@huggingface/hub';
import { ConfigError, errorMessage, MespError } from '../../common/errors';
import { redact, type HubSettings, type RetryPolicy } from './settings';

/** A bad reference or a refused access: exit 5 (bad input) in the CLI, with the field it is about. */
export class HubError extends ConfigError {
  readonly reason: 'repo-not-found' | 'revision-not-found' | 'entry-not-found' | 'gated' | 'unauthorized' | 'unsupported' | 'offline-missing';
  constructor(reason: HubError['reason'], message: string, field = 'model') {
    super(message, { field });
    this.reason = reason;
  }
}

/** A pull stopped by its caller (the app's Cancel); what was downloaded stays for the next pull to resume. */
export class PullCancelled extends MespError {
  constructor(what: string) {
    super('CANCELLED', `the pull of ${what} was cancelled; the bytes downloaded so far are kept and the next pull resumes from them.`);
  }
}

/** The hub could not be reached or kept failing after the retries: exit 1. */
export class HubNetworkError extends MespError {
  constructor(message: string) {
    super('HUB_NETWORK', message);
  }
}

export interface HubErrorNote {
  status: number;
  code: string | null;
  message: string | null;
}

/** Transient: worth another try (the server or the network, not the request). */
export function isTransientStatus(status: number): boolean {
  return status >= 500 || status === 408 || status === 429;
}

export function isAbort(e: unknown): boolean {
  return e instanceof Error && (e.name === 'AbortError' || e.name === 'TimeoutError');
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((res, rej) => {
    if (signal?.aborted) return rej(signal.reason);
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      res();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(t);
      rej(signal!.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** The k-th wait (k ≥ 1): base × 2^(k-1), at most max, ±20 % so that clients do not retry in step. */
export function backoffMs(k: number, p: RetryPolicy): number {
  const d = Math.min(p.maxDelayMs, p.baseDelayMs * 2 ** (k - 1));
  return Math.round(d * (0.8 + 0.4 * Math.random()));
}

const NETWORK_WORDS: Record<string, string> = {
  UND_ERR_SOCKET: 'the connection was cut', ECONNRESET: 'the connection was reset', ECONNREFUSED: 'the connection was refused',
  ENOTFOUND: 'the host name does not resolve', EAI_AGAIN: 'the host name does not resolve (yet)', ETIMEDOUT: 'the connection timed out',
  UND_ERR_CONNECT_TIMEOUT: 'the connection timed out', UND_ERR_HEADERS_TIMEOUT: 'no answer in time', UND_ERR_BODY_TIMEOUT: 'no data in time',
  EPIPE: 'the connection was cut', ENETUNREACH: 'the network is unreachable',
};

/** Why a network-level failure happened, in a few words (undici puts the reason in `cause`). */
export function networkReason(e: unknown): string {
  const cause = (e as { cause?: { code?: string; message?: string } })?.cause;
  if (e instanceof Error && e.name === 'TimeoutError') return `timed out (${e.message})`;
  if (cause?.code) return `${NETWORK_WORDS[cause.code] ?? 'a network error'} (${cause.code})`;
  return cause?.message ?? errorMessage(e);
}

export interface HubFetch {
  fetch: typeof fetch;
  /** The hub's error headers of the last failed response to each URL. */
  notes: Map<string, HubErrorNote>;
}

/**
 * The `fetch` for the client's calls: bounded retries of network errors and 5xx/408/429 with backoff, a timeout per
 * request, the cancel signal, and a note of each error response's X-Error-Code for explain().
 */
export function hubFetch(s: HubSettings, signal: AbortSignal | undefined, onRetry?: (attempt: number, delayMs: number, reason: string) => void): HubFetch {
  const notes = new Map<string, HubErrorNote>();
  const f = async (input: string | URL | Request, init: RequestInit = {}): Promise<Response> => {
    for (let attempt = 1; ; attempt++) {
      const signals = [AbortSignal.timeout(s.retry.idleTimeoutMs), ...(signal ? [signal] : [])];
      let reason: string;
      try {
        const res = await fetch(input, { ...init, signal: AbortSignal.any(signals) });
        if (!res.ok) notes.set(res.url, { status: res.status, code: res.headers.get('x-error-code'), message: res.headers.get('x-error-message') });
        if (!isTransientStatus(res.status) || attempt >= s.retry.attempts) return res;
        await res.body?.cancel();
        reason = `HTTP ${res.status}`;
      } catch (e) {
        if (signal?.aborted) throw e;
        if (attempt >= s.retry.attempts) throw e;
        reason = networkReason(e);
      }
      const wait = backoffMs(attempt, s.retry);
      onRetry?.(attempt, wait, reason);
      await sleep(wait, signal);
    }
  };
  return { fetch: f as typeof fetch, notes };
}

/** A gated repo without a token, or with a token whose account was not granted access. */
export function gatedError(s: HubSettings, kind: 'model' | 'dataset', repo: string): HubError {
  const page = `${s.endpoint}/${kind === 'dataset' ? 'datasets/' : ''}${repo}`;
  return new HubError('gated', s.token
    ? `${kind} ${repo} is gated and your token's account has not been granted access: accept its conditions on ${page} (with the same account), then pull again.`
    : `${kind} ${repo} is gated: accept its conditions on ${page}, then give a token with --token or HF_TOKEN (create one at ${s.endpoint}/settings/tokens).`,
  kind === 'dataset' ? 'data' : 'model');
}

export interface ExplainContext {
  kind: 'model' | 'dataset';
  repo: string;
  revision: string;
  /** The repo file the request was about, if any. */
  file?: string;
  /** What was being done, for an unexpected answer ("listing the files", "finding the download"). */
  doing: string;
}

/** Any failure of a client call, as the error the user reads (no token in it). */
export function explain(e: unknown, s: HubSettings, notes: Map<string, HubErrorNote>, c: ExplainContext): Error {
  if (e instanceof MespError) return e;
  const page = `${s.endpoint}/${c.kind === 'dataset' ? 'datasets/' : ''}${c.repo}`;
  const field = c.kind === 'dataset' ? 'data' : 'model';
  const what = `${c.kind} ${c.repo}`;
  const during = `while ${c.doing} (${c.file ? `${c.file} of ` : ''}${what})`;
  if (e instanceof HubApiError) {
    const note = notes.get(e.url);
    const code = note?.code ?? null;
    const said = redact(note?.message ?? e.message.split('. URL:')[0], s);
    if (code === 'RepoNotFound' || (e.statusCode === 404 && !code && c.doing === 'reading the repo')) {
      return new HubError('repo-not-found', `${what} does not exist on ${s.endpoint}` +
        (s.token ? ' (or your token cannot see it)' : ' (or it is private: give a token with --token or HF_TOKEN)') +
        `. Check the id: ${page}`, field);
    }
    if (code === 'RevisionNotFound') {
      return new HubError('revision-not-found', `revision "${c.revision}" does not exist in ${what}: give one of its branches, tags or commits with --revision (see ${page}/tree/main).`, field);
    }
    if (code === 'GatedRepo') return gatedError(s, c.kind, c.repo);
    if (code === 'EntryNotFound') {
      return new HubError('entry-not-found', `${what} has no file ${c.file ?? '(unknown)'} at revision ${c.revision}. See the files on ${page}/tree/${c.revision}.`, field);
    }
    if (e.statusCode === 401 || e.statusCode === 403) {
      return new HubError('unauthorized', `${s.endpoint} refused ${s.token ? 'the token' : 'the request without a token'} (HTTP ${e.statusCode}) ${during}: ` +
        `${said}. ${s.token ? 'Check that the token is valid and may read this repo.' : 'Give a token with --token or HF_TOKEN.'}`, field);
    }
    return new HubNetworkError(`${s.endpoint} answered HTTP ${e.statusCode} ${during}` +
      `${isTransientStatus(e.statusCode) ? ` (after ${s.retry.attempts} attempts)` : ''}: ${said}. Try again later, or set HF_HUB_OFFLINE=1 to use the cache.`);
  }
  if (isAbort(e) || e instanceof TypeError) {
    return new HubNetworkError(`cannot reach ${s.endpoint} ${during}: ${redact(networkReason(e), s)}, after ${s.retry.attempts} attempts. ` +
      'Check the network and HF_ENDPOINT, or set HF_HUB_OFFLINE=1 to use what is in the cache.');
  }
  return new HubNetworkError(`${s.endpoint} gave an answer the client could not read ${during}: ${redact(errorMessage(e), s)}`);
}

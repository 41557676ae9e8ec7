// Where the hub and its cache are, as the Hugging Face tools decide it (huggingface_hub's constants.py): the cache
// folder is HF_HUB_CACHE, else HF_HOME/hub, else $XDG_CACHE_HOME/huggingface/hub, else ~/.cache/huggingface/hub (a
// --cache-dir flag overrides all); the endpoint is HF_ENDPOINT, else the public hub; HF_TOKEN is the token for gated
// and private repos; HF_HUB_OFFLINE=1 (or true/yes/on) resolves ids from the cache only. The token is kept out of
// every message: redact() is applied to any text that leaves a pull.
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { ConfigError } from '../../common/errors';

export const PUBLIC_HUB = 'https://huggingface.co';

/** Bounded retries of transient failures (a cut connection, a 5xx, a timeout), with exponential backoff. */
export interface RetryPolicy {
  /** Failures in a row, without a byte of progress in between, before a transfer gives up. */
  attempts: number;
  /** The first wait; it doubles each time, up to maxDelayMs. */
  baseDelayMs: number;
  maxDelayMs: number;
  /** A request with no answer, or a body with no new byte, for this long is a timeout (a transient failure). */
  idleTimeoutMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 5, baseDelayMs: 1000, maxDelayMs: 30_000, idleTimeoutMs: 60_000 };

export interface HubSettings {
  cacheDir: string;
  endpoint: string;
  token: string | undefined;
  offline: boolean;
  retry: RetryPolicy;
}

export type HubOverrides = Partial<Omit<HubSettings, 'retry'>> & { retry?: Partial<RetryPolicy> };

const TRUE = new Set(['1', 'true', 'yes', 'on']);

const nonEmpty = (v: string | undefined): string | undefined => (v && v.trim() ? v.trim() : undefined);

/** The cache folder alone (it never fails, unlike a bad token or endpoint). */
export function hubCacheDir(over: HubOverrides = {}, env: NodeJS.ProcessEnv = process.env): string {
  return resolve(over.cacheDir ?? nonEmpty(env.HF_HUB_CACHE)
    ?? (nonEmpty(env.HF_HOME) ? join(env.HF_HOME!.trim(), 'hub') : undefined)
    ?? join(nonEmpty(env.XDG_CACHE_HOME) ?? join(homedir(), '.cache'), 'huggingface', 'hub'));
}

/** The settings from the environment, with explicit overrides (flags, the service's options, tests) on top. */
export function hubSettings(over: HubOverrides = {}, env: NodeJS.ProcessEnv = process.env): HubSettings {
  const cacheDir = hubCacheDir(over, env);
  const endpoint = (over.endpoint ?? nonEmpty(env.HF_ENDPOINT) ?? PUBLIC_HUB).replace(/\/+$/, '');
  if (!/^https?:\/\/[^/\s]+/.test(endpoint)) {
    throw new ConfigError(`HF_ENDPOINT is "${endpoint}"; give the hub's address, e.g. ${PUBLIC_HUB} or http://127.0.0.1:8080 for a local mirror.`, { field: 'endpoint' });
  }
  const token = over.token ?? nonEmpty(env.HF_TOKEN);
  if (token !== undefined && !/^hf_[A-Za-z0-9_-]+$/.test(token)) {
    // Never quote the token: say what is wrong with it.
    throw new ConfigError(`the Hugging Face token (${over.token !== undefined ? '--token' : 'HF_TOKEN'}) is not an access token: tokens start with "hf_" ` +
      `and hold only letters, digits, "_" and "-". Create one at ${PUBLIC_HUB}/settings/tokens.`, { field: 'token' });
  }
  return {
    cacheDir,
    endpoint,
    token,
    offline: over.offline ?? TRUE.has((env.HF_HUB_OFFLINE ?? '').trim().toLowerCase()),
    retry: { ...DEFAULT_RETRY, ...over.retry },
  };
}

/** `text` with the token replaced by "hf_***" (belt and braces: no message we build holds it). */
export function redact(text: string, s: Pick<HubSettings, 'token'>): string {
  return s.token ? text.split(s.token).join('hf_***') : text;
}

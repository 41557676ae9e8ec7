// The service's hub requests (core/node/service/host.ts dispatches to these): the catalogue of Qwen2.5 models for
// phones (core/api/contract/hub.ts) with each method's fit for a profile and settings from the plan of the config
// alone (planFit's `shape` path: nothing is downloaded); pulls into the HF cache in the background with their events
// (plan, progress, retry, file, done — then `cancelled` or `error` when they end otherwise) sent to every client;
// cancel (the bytes stay: pulling again resumes them); the cached repos; delete from the cache. Pulls do not take the
// GPU job slot. The token never reaches a client: the settings say only whether one is set.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { QWEN25_CATALOGUE, type CachedRepo, type CatalogueEntry, type PullEvent } from '../../api/contract';
import { ConfigError, errorMessage, MespError } from '../../common/errors';
import { parameterCount } from '../../model/names';
import { qwen25Config, type Qwen25Id } from '../../model/shapes';
import { deleteCached, listCached, repoDir } from '../hub/cache';
import { PullCancelled } from '../hub/http';
import { pullDatasetFile, pullModel } from '../hub/pull';
import { redact, type HubSettings } from '../hub/settings';
import type { Handlers, HostState, LivePull } from './hoststate';
import { planFit } from './inspect';

type HubMethods = 'hub.catalogue' | 'hub.cached' | 'hub.pull' | 'hub.cancel' | 'hub.delete';

function place(s: HubSettings): { cacheDir: string; endpoint: string; offline: boolean; hasToken: boolean } {
  return { cacheDir: s.cacheDir, endpoint: s.endpoint, offline: s.offline, hasToken: !!s.token };
}

/** The cache entry the catalogue shows for a repo: the one `main` points at, else a complete one, else any. */
function cachedFor(all: CachedRepo[], repo: string): CachedRepo | null {
  const mine = all.filter((c) => c.kind === 'model' && c.repo === repo);
  return mine.find((c) => c.refs.includes('main')) ?? mine.find((c) => c.complete) ?? mine[0] ?? null;
}

/** Bytes of interrupted downloads in a repo's blobs/ (what the next pull resumes from). */
function partialBytes(s: HubSettings, kind: 'model' | 'dataset', repo: string): number {
  const blobs = join(repoDir(s.cacheDir, kind, repo), 'blobs');
  if (!existsSync(blobs)) return 0;
  return readdirSync(blobs).filter((b) => b.endsWith('.incomplete')).reduce((n, b) => n + statSync(join(blobs, b)).size, 0);
}

export function hubHandlers(host: HostState): Pick<Handlers, HubMethods> {
  return {
    'hub.catalogue': async (p) => {
      const s = host.hub();
      const { ref } = host.profileRef(p.profile);
      const cached = listCached(s.cacheDir);
      const plans = new Map<Qwen25Id, Awaited<ReturnType<typeof planFit>>>();
      for (const shape of new Set(QWEN25_CATALOGUE.map((m) => m.shape))) {
        plans.set(shape, await planFit({ ...p, shape, profile: ref }));
      }
      const first = plans.values().next().value!;
      const models: CatalogueEntry[] = QWEN25_CATALOGUE.map((m) => {
        const parameters = parameterCount(qwen25Config(m.shape));
        return {
          repo: m.repo, shape: m.shape, instruct: m.instruct, parameters, downloadBytes: parameters * 2, cached: cachedFor(cached, m.repo),
          methods: plans.get(m.shape)!.methods.map((f) => ({ method: f.method, peakBytes: f.peakBytes, fits: f.fits, error: f.error })),
        };
      });
      return { ...place(s), capBytes: first.capBytes, profileId: first.profileId, seqLen: first.seqLen, models };
    },

    'hub.cached': () => {
      const s = host.hub();
      return {
        ...place(s), repos: listCached(s.cacheDir),
        active: [...host.pulls.values()].map((x) => ({ pullId: x.id, repo: x.repo, kind: x.kind })),
      };
    },

    'hub.pull': (p) => {
      const s = host.hub();
      if (s.offline) throw new ConfigError(`HF_HUB_OFFLINE is set: the service cannot pull ${p.repo}. Restart it without HF_HUB_OFFLINE to download.`, { field: 'repo' });
      const running = [...host.pulls.values()].find((x) => x.kind === p.kind && x.repo === p.repo && x.file === p.file);
      if (running) return { pullId: running.id, repo: p.repo, kind: p.kind, alreadyRunning: true };
      const id = `pull-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
      const abort = new AbortController();
      const emit = (event: PullEvent): void => {
        if (event.type === 'done' || event.type === 'cancelled' || event.type === 'error') host.pulls.delete(id); // a client that saw the end sees it gone
        host.emit({ type: 'hub.pull', pullId: id, event });
      };
      const hooks = { onEvent: emit, signal: abort.signal, freeBytes: host.hubOptions.freeBytes };
      const pull: LivePull = { id, repo: p.repo, kind: p.kind, file: p.file, abort, done: Promise.resolve() };
      host.pulls.set(id, pull);
      const job = p.kind === 'model' ? pullModel(p.repo, p.revision, s, hooks) : pullDatasetFile(p.repo, p.revision, p.file!, s, hooks);
      pull.done = job.then(
        () => undefined,
        (e: unknown) => {
          if (abort.signal.aborted || e instanceof PullCancelled) emit({ type: 'cancelled', repo: p.repo, partialBytes: partialBytes(s, p.kind, p.repo) });
          else emit({ type: 'error', repo: p.repo, code: e instanceof MespError ? e.code : 'ERROR', message: redact(errorMessage(e), s) });
        },
      ).finally(() => host.pulls.delete(id));
      return { pullId: id, repo: p.repo, kind: p.kind, alreadyRunning: false };
    },

    'hub.cancel': (p) => {
      const pull = host.pulls.get(p.pullId);
      if (!pull) return { pullId: p.pullId, cancelled: false };
      pull.abort.abort();
      return { pullId: p.pullId, cancelled: true };
    },

    'hub.delete': (p) => {
      const s = host.hub();
      if ([...host.pulls.values()].some((x) => x.kind === p.kind && x.repo === p.repo)) {
        throw new ConfigError(`${p.repo} is being pulled: cancel the pull first, then delete it from the cache.`, { field: 'repo' });
      }
      const existed = existsSync(repoDir(s.cacheDir, p.kind, p.repo));
      const bytes = deleteCached(s.cacheDir, p.kind, p.repo);
      return { deleted: existed, bytes };
    },
  };
}

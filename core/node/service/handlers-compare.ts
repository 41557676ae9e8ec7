// The service's comparisons (core/node/service/host.ts dispatches to these): compare.start runs the chosen methods one
// after another in the background under the one GPU job slot (core/node/service/hoststate.ts), saving
// comparisons/<id>/comparison.json after each method and sending compare events; then, when MeZO is among them, the
// cosine of its gradient estimates with the exact gradient (core/node/service/compare.ts). Stop, list and open too.
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Comparison, ServiceEvent } from '../../api/contract';
import type { MethodName, RunEvent, TrainRequest } from '../../api/train';
import { ConfigError } from '../../common/errors';
import { capBytesOf } from '../../profiles/schema';
import { ComparisonStore, listComparisons, methodResult, mezoCosine, openComparison } from './compare';
import { toServiceError, trainRequest, type Handlers, type HostState, type LiveCompare } from './hoststate';
import { isRunId, newRunId } from './runs';
import { runTrain } from './train';

type CompareMethods = 'compare.start' | 'compare.stop' | 'compare.list' | 'compare.open';

export function compareHandlers(host: HostState): Pick<Handlers, CompareMethods> {
  return {
    'compare.start': (p) => {
      const { ref, profile } = host.profileRef(p.profile);
      const id = newRunId('compare', p.name, (x) => existsSync(join(host.data.comparisonsDir, x)));
      const dir = join(host.data.comparisonsDir, id);
      const modelDir = host.paths.require(p.modelDir, 'modelDir');
      const dataPath = host.paths.require(p.dataPath, 'dataPath');
      host.claim('compare', id);
      mkdirSync(dir, { recursive: true });
      const methods: MethodName[] = [...new Set(p.methods)];
      const cmp: Comparison = {
        version: 1, id, name: p.name || methods.join(' vs '), createdAt: new Date().toISOString(), status: 'running', settings: { ...p, methods },
        profileId: profile.id, capBytes: p.capBytes ?? capBytesOf(profile), modelName: modelDir.split(/[\\/]/).pop() ?? modelDir,
        methods: methods.map((m) => methodResult(m, join(dir, m), [], 'pending')), cosine: null,
      };
      const store = new ComparisonStore(dir);
      store.write(cmp);
      const lc: LiveCompare = { id, stop: false, current: null, done: Promise.resolve() };
      host.compares.set(id, lc);
      const emit = (event: Extract<ServiceEvent, { type: 'compare' }>['event']): void => host.emit({ type: 'compare', compareId: id, event });
      emit({ type: 'start', comparison: cmp });
      const base = (m: MethodName): TrainRequest => trainRequest(p, { modelDir, dataPath, outDir: join(dir, m), method: m, profile: ref, checkpointEvery: 0 });
      const work = async (): Promise<void> => {
        for (const [i, m] of methods.entries()) {
          if (lc.stop) {
            cmp.methods[i] = { ...cmp.methods[i], status: 'stopped' };
            continue;
          }
          cmp.methods[i] = { ...cmp.methods[i], status: 'running' };
          store.write(cmp);
          emit({ type: 'method-start', method: m, index: i });
          const events: RunEvent[] = [];
          let status: 'done' | 'stopped' | 'failed' = 'done';
          try {
            const out = await runTrain(base(m), host.env, (e) => {
              events.push(e);
              emit({ type: 'run', method: m, event: e });
            }, () => (lc.stop ? 'stop' : 'run'));
            status = out.reason === 'stopped' ? 'stopped' : 'done';
          } catch (e) {
            status = 'failed';
            if (!events.some((x) => x.type === 'error')) {
              const err = toServiceError(e);
              events.push({ t: Date.now(), type: 'error', step: 0, code: err.code, message: err.message, lastCheckpoint: null });
            }
          }
          cmp.methods[i] = methodResult(m, join(dir, m), events, status);
          store.write(cmp);
          emit({ type: 'method-done', method: m, result: cmp.methods[i] });
        }
        if (methods.includes('mezo') && !lc.stop) {
          try {
            cmp.cosine = await mezoCosine(base('mesp'), p.cosineSamples, host.env);
          } catch (e) {
            cmp.cosine = { exactMethod: 'mesp', samples: [], mean: 0, meanAbs: 0, parameters: 0, randomBaseline: 0, error: toServiceError(e).message };
          }
          emit({ type: 'cosine', cosine: cmp.cosine });
        }
        cmp.status = lc.stop ? 'stopped' : cmp.methods.every((m) => m.status === 'failed') ? 'failed' : 'done';
        store.write(cmp);
        emit({ type: 'done', comparison: cmp });
      };
      lc.done = work()
        .catch((e) => {
          cmp.status = 'failed';
          store.write(cmp);
          emit({ type: 'done', comparison: cmp });
          void e;
        })
        .finally(() => {
          host.compares.delete(id);
          host.release(id);
        });
      return { compareId: id };
    },
    'compare.stop': (p) => {
      const c = host.compares.get(p.compareId);
      if (!c) return { compareId: p.compareId, stopping: false };
      c.stop = true;
      return { compareId: p.compareId, stopping: true };
    },
    'compare.list': () => ({ comparisons: listComparisons(host.data.comparisonsDir, (id) => host.compares.has(id)) }),
    'compare.open': (p) => {
      if (!isRunId(p.compareId) || !existsSync(join(host.data.comparisonsDir, p.compareId, 'comparison.json'))) {
        throw new ConfigError(`no comparison "${p.compareId}" in ${host.data.comparisonsDir}. Refresh the list.`, { field: 'compareId' });
      }
      return { comparison: openComparison(join(host.data.comparisonsDir, p.compareId), host.compares.has(p.compareId)) };
    },
  };
}

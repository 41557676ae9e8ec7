// The service's comparisons (core/node/service/host.ts dispatches to these): compare.start runs the chosen methods one
// after another in the background under the one GPU job slot (core/node/service/hoststate.ts), through the same run
// lifecycle as a single run (core/node/service/lifecycle.ts: one RunControl pauses, resumes or stops the comparison
// between steps), saving comparisons/<id>/comparison.json after each method and sending compare events; then, when
// MeZO is among them, the cosine of its gradient estimates with the exact gradient (core/node/service/compare.ts).
// A method's failure is kept in its row with its message; a failure of the comparison itself in its `error`.
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Comparison, ServiceEvent } from '../../api/contract';
import type { MethodName, RunEvent, TrainRequest } from '../../api/train';
import { ConfigError } from '../../common/errors';
import { capBytesOf } from '../../profiles/schema';
import { ComparisonStore, listComparisons, methodResult, mezoCosine, openComparison } from './compare';
import { toServiceError, trainRequest, type Handlers, type HostState, type LiveCompare } from './hoststate';
import { modelRefName, resolveInputs } from '../hub/resolve';
import { launchRun, RunControl } from './lifecycle';
import { isRunId, newRunId } from './runs';

type CompareMethods = 'compare.start' | 'compare.pause' | 'compare.resume' | 'compare.stop' | 'compare.list' | 'compare.open';

export function compareHandlers(host: HostState): Pick<Handlers, CompareMethods> {
  const live = (id: string): LiveCompare => {
    const c = host.compares.get(id);
    if (!c) throw new ConfigError(`comparison ${id} is not running.`, { field: 'compareId' });
    return c;
  };
  return {
    'compare.start': (p) => {
      const inputs = host.inputs(p);
      const { profile } = host.profileRef(p.profile);
      const id = newRunId('compare', p.name, (x) => existsSync(join(host.data.comparisonsDir, x)));
      const dir = join(host.data.comparisonsDir, id);
      host.claim('compare', id);
      mkdirSync(dir, { recursive: true });
      const methods: MethodName[] = [...new Set(p.methods)];
      const cmp: Comparison = {
        version: 1, id, name: p.name || methods.join(' vs '), createdAt: new Date().toISOString(), status: 'running', settings: { ...p, methods },
        profileId: profile.id, capBytes: p.capBytes ?? capBytesOf(profile), modelName: modelRefName(inputs.modelDir),
        methods: methods.map((m) => methodResult(m, join(dir, m), [], 'pending')), cosine: null, error: null,
      };
      const store = new ComparisonStore(dir);
      store.write(cmp);
      const emit = (event: Extract<ServiceEvent, { type: 'compare' }>['event']): void => host.emit({ type: 'compare', compareId: id, event });
      const control = new RunControl((status) => emit({ type: 'status', status }));
      const lc: LiveCompare = { id, control, done: Promise.resolve() };
      host.compares.set(id, lc);
      emit({ type: 'start', comparison: cmp });
      const { methods: _m, cosineSamples: _c, ...settings } = p;
      // Each method is a normal run in comparisons/<id>/<method>/, checkpointed at its end only.
      let resolved = inputs;
      const request = (m: MethodName): TrainRequest => trainRequest({ ...settings, method: m, checkpointEvery: 0 }, { ...resolved, outDir: join(dir, m) });
      const work = async (): Promise<void> => {
        // Hub ids once for every method (and the cosine): all of them train on the same snapshot.
        resolved = await resolveInputs(inputs, { ...host.env, signal: control.signal });
        for (const [i, m] of methods.entries()) {
          if (control.stopRequested) {
            cmp.methods[i] = { ...cmp.methods[i], status: 'stopped' };
            continue;
          }
          cmp.methods[i] = { ...cmp.methods[i], status: 'running' };
          store.write(cmp);
          emit({ type: 'method-start', method: m, index: i });
          const events: RunEvent[] = [];
          let status: 'done' | 'stopped' | 'failed' = 'done';
          try {
            const run = await launchRun({ input: request(m), env: host.env, control, onEvent: (e) => {
              events.push(e);
              emit({ type: 'run', method: m, event: e });
            } });
            status = (await run.outcome).reason === 'stopped' ? 'stopped' : 'done';
          } catch (e) {
            status = 'failed';
            if (!events.some((x) => x.type === 'error')) {
              const err = toServiceError(e);
              events.push({ t: Date.now(), type: 'error', step: 0, code: err.code, message: err.message, ...(err.budget ? { budget: err.budget } : {}), lastCheckpoint: null });
            }
          }
          cmp.methods[i] = methodResult(m, join(dir, m), events, status);
          store.write(cmp);
          emit({ type: 'method-done', method: m, result: cmp.methods[i] });
        }
        if (methods.includes('mezo') && !control.stopRequested) {
          try {
            cmp.cosine = await mezoCosine(request('mesp'), p.cosineSamples, host.env);
          } catch (e) {
            cmp.cosine = { exactMethod: 'mesp', samples: [], mean: 0, meanAbs: 0, parameters: 0, randomBaseline: 0, error: toServiceError(e).message };
          }
          emit({ type: 'cosine', cosine: cmp.cosine });
        }
        cmp.status = control.stopRequested ? 'stopped' : cmp.methods.every((m) => m.status === 'failed') ? 'failed' : 'done';
        store.write(cmp);
        emit({ type: 'done', comparison: cmp });
      };
      lc.done = work()
        .catch((e: unknown) => {
          cmp.status = 'failed';
          cmp.error = toServiceError(e);
          store.write(cmp);
          emit({ type: 'done', comparison: cmp });
        })
        .finally(() => {
          host.compares.delete(id);
          host.release(id);
        });
      return { compareId: id };
    },
    'compare.pause': (p) => ({ compareId: p.compareId, status: live(p.compareId).control.pause() }),
    'compare.resume': (p) => ({ compareId: p.compareId, status: live(p.compareId).control.resume() }),
    'compare.stop': (p) => ({ compareId: p.compareId, status: live(p.compareId).control.stop() }),
    'compare.list': () => ({ comparisons: listComparisons(host.data.comparisonsDir, (id) => host.compares.has(id)) }),
    'compare.open': (p) => {
      if (!isRunId(p.compareId) || !existsSync(join(host.data.comparisonsDir, p.compareId, 'comparison.json'))) {
        throw new ConfigError(`no comparison "${p.compareId}" in ${host.data.comparisonsDir}. Refresh the list.`, { field: 'compareId' });
      }
      return { comparison: openComparison(join(host.data.comparisonsDir, p.compareId), host.compares.has(p.compareId)) };
    },
  };
}

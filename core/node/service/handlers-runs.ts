// The service's runs and exports (core/node/service/host.ts dispatches to these): start a run (it takes the one GPU
// job slot, core/node/service/hoststate.ts), pause, resume (a live run, or an interrupted one from its last
// checkpoint), stop, list and open runs; preview and write a run's export bundle (core/node/export.ts).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '../../common/errors';
import { exportRun, previewExport } from '../export';
import { RunStore } from '../runstore';
import { trainRequest, type Handlers, type HostState } from './hoststate';
import { listRuns, newRunId, summarizeRun } from './runs';

type RunMethods = 'runs.start' | 'runs.pause' | 'runs.resume' | 'runs.stop' | 'runs.list' | 'runs.open' | 'export.preview' | 'export.run';

export function runHandlers(host: HostState): Pick<Handlers, RunMethods> {
  return {
    'runs.start': async (p) => {
      const inputs = host.inputs(p);
      const id = newRunId(p.method, p.name, (x) => existsSync(join(host.data.runsDir, x)));
      const dir = join(host.data.runsDir, id);
      await host.launch(id, dir, trainRequest(p, { ...inputs, outDir: dir }));
      return { runId: id, runDir: dir };
    },
    'runs.pause': (p) => {
      const run = host.live.get(p.runId);
      if (!run) throw new ConfigError(`run ${p.runId} is not running, so it cannot be paused.`, { field: 'runId' });
      return { runId: run.id, status: run.control.pause() };
    },
    'runs.resume': async (p) => {
      const run = host.live.get(p.runId);
      if (run) return { runId: run.id, status: run.control.resume() };
      const dir = host.runDir(p.runId);
      const s = summarizeRun(p.runId, dir, null);
      if (!s?.resumable) {
        throw new ConfigError(`run ${p.runId} is ${s?.status ?? 'unreadable'} at step ${s?.stepsDone ?? 0} of ${s?.totalSteps ?? '?'}: nothing to resume.`, { field: 'runId' });
      }
      await host.launch(p.runId, dir, { resume: dir }, p.capBytes);
      return { runId: p.runId, status: host.live.get(p.runId)?.control.status ?? summarizeRun(p.runId, dir, null)?.status ?? 'running' };
    },
    'runs.stop': (p) => {
      const run = host.live.get(p.runId);
      if (!run) throw new ConfigError(`run ${p.runId} is not running, so it cannot be stopped.`, { field: 'runId' });
      return { runId: run.id, status: run.control.stop() };
    },
    'runs.list': () => ({ runs: listRuns(host.data.runsDir, (id) => host.live.get(id)?.control.status ?? null) }),
    'runs.open': (p) => {
      const dir = host.runDir(p.runId);
      const store = new RunStore(dir);
      const config = store.readConfig();
      const events = store.readEvents();
      const summary = summarizeRun(p.runId, dir, host.live.get(p.runId)?.control.status ?? null, config, events)!;
      return { summary, config, events };
    },

    // The exporter of core/node/export.ts (PEFT, GGUF LoRA, MLX, merged ONNX + README + manifest.json).
    'export.preview': (p) => {
      const runDir = host.runDir(p.runId);
      const outDir = p.destDir ? host.paths.require(p.destDir, 'destDir') : join(runDir, 'exports');
      return previewExport({ runDir, formats: p.formats, dtype: p.dtype, ggufType: p.ggufType, outDir });
    },
    'export.run': (p) => {
      if (host.live.has(p.runId)) throw new ConfigError(`run ${p.runId} is still training: export it when it has finished or been stopped.`, { field: 'runId' });
      const runDir = host.runDir(p.runId);
      const outDir = p.destDir ? host.paths.require(p.destDir, 'destDir') : join(runDir, 'exports');
      return exportRun({ runDir, formats: p.formats, dtype: p.dtype, ggufType: p.ggufType, outDir, overwrite: p.overwrite });
    },
  };
}

// The service's "Try in llama.cpp" requests (core/node/service/host.ts dispatches to these): export.llama (is
// llama.cpp, the optional node-llama-cpp, usable here) and export.try (a chat reply of an exported bundle's GGUF files
// in llama.cpp beside our engine's, streamed as events; core/node/service/export-try.ts). The bundle folder is
// destDir under the path policy, or the run's exports/ folder, as for export.run (handlers-runs.ts).
import { join } from 'node:path';
import type { Handlers, HostState } from './hoststate';
import { llamaStatus, startExportTry } from './export-try';

type ExportTryMethods = 'export.llama' | 'export.try';

export function exportHandlers(host: HostState): Pick<Handlers, ExportTryMethods> {
  return {
    'export.llama': () => llamaStatus(),
    'export.try': (p) => {
      const outDir = p.destDir ? host.paths.require(p.destDir, 'destDir') : join(host.runDir(p.runId), 'exports');
      return startExportTry(host, p, outDir);
    },
  };
}

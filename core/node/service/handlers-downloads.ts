// The service's downloads (core/node/service/host.ts dispatches to these): export.download hands a page the files of
// a run's export bundle, one file or the bundle as one tar, in pieces (core/node/service/downloads.ts). The bundle
// folder is found as export.preview and export.run find it: the given destination under the path policy, or the run's
// exports/ folder.
import { join } from 'node:path';
import type { Handlers, HostState } from './hoststate';
import { downloadPiece } from './downloads';

export function downloadHandlers(host: HostState): Pick<Handlers, 'export.download'> {
  return {
    'export.download': (p) => {
      const runDir = host.runDir(p.runId);
      const outDir = p.destDir ? host.paths.require(p.destDir, 'destDir') : join(runDir, 'exports');
      return downloadPiece(outDir, host.paths, `${p.runId}-export`, p);
    },
  };
}

// `npm run web [-- --port N] [--root DIR]... [--data-dir DIR]`: the app in a browser. Starts the service and serves
// the built renderer on 127.0.0.1, printing the address. Only files under the --root folders (and the app-data folder)
// may be chosen. Ctrl-C stops a run in progress cleanly (it checkpoints) before exiting. bin/mesp-web.js bundles and
// runs this file.
import { parseArgs } from 'node:util';
import { resolve } from 'node:path';
import { defaultDataDir } from '../service/appdata';
import { ServiceHost } from '../service/host';
import { startWebServer } from './web';

export const WEB_HELP = `npm run web -- [--port N] [--root DIR]... [--data-dir DIR]
  MeSP Studio in a browser: serves the built renderer (npm run build) on http://127.0.0.1:N (default 5317; 0 = any
  free port) and the training service over a WebSocket.
  --root DIR       a folder whose models and datasets may be chosen (repeat for more); the app-data folder always is
  --data-dir DIR   runs, comparisons, profiles, uploads and the demo model (default ~/.mesp-studio or $MESP_DATA_DIR)
  --renderer-dir   the built renderer (default out/renderer)`;

export async function webMain(argv: string[], defaults: { rendererDir: string }): Promise<number> {
  let v;
  try {
    v = parseArgs({
      args: argv,
      options: {
        port: { type: 'string', default: '5317' }, root: { type: 'string', multiple: true, default: [] }, 'data-dir': { type: 'string' },
        'renderer-dir': { type: 'string' }, help: { type: 'boolean' },
      },
      strict: true,
    }).values;
  } catch (e) {
    console.error(`mesp web: ${(e as Error).message}\n\n${WEB_HELP}`);
    return 2;
  }
  if (v.help) {
    console.log(WEB_HELP);
    return 0;
  }
  const port = Number(v.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error(`mesp web: --port must be a port number (0–65535), got "${v.port}".`);
    return 2;
  }
  const dataDir = resolve(v['data-dir'] ?? defaultDataDir());
  const host = new ServiceHost({ dataDir, roots: (v.root ?? []).map((r) => resolve(r)), mode: 'browser' });
  const server = await startWebServer({ host, port, staticDir: resolve(v['renderer-dir'] ?? defaults.rendererDir) });
  console.log(`MeSP Studio (browser mode) at ${server.url}`);
  console.log(`  data: ${dataDir}`);
  console.log(`  allowed folders: ${host.paths.allowedRoots.join(', ')}`);
  let closing = false;
  const stop = async (): Promise<void> => {
    if (closing) process.exit(1);
    closing = true;
    console.log('stopping: a run in progress writes its checkpoint first…');
    await host.shutdown();
    await server.close();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop());
  process.on('SIGTERM', () => void stop());
  return new Promise<number>(() => {}); // serve until stopped
}

// `npm run web [-- --port N] [--root DIR]... [--data-dir DIR]`: the app in a browser. Starts the service and serves
// the built renderer on 127.0.0.1, printing the address to open, which carries this launch's secret token
// (core/api/web.ts). Only files under the --root folders (and the app-data folder) may be chosen. The process runs
// with umask 077: its data folder and everything in it are its user's alone. Ctrl-C stops a run in progress cleanly
// (it checkpoints) before exiting. bin/mesp-web.js bundles and runs this file.
import { parseArgs } from 'node:util';
import { resolve } from 'node:path';
import { TOKEN_PATTERN } from '../../api/web';
import { defaultDataDir, privateUmask } from '../service/appdata';
import { ServiceHost } from '../service/host';
import { startWebServer } from './web';

export const WEB_HELP = `npm run web -- [--port N] [--root DIR]... [--data-dir DIR]
  MeSP Studio in a browser: serves the built renderer (npm run build) on http://127.0.0.1:N (default 5317; 0 = any
  free port) and the training service over a WebSocket.
  --root DIR       a folder whose models and datasets may be chosen (repeat for more); the app-data folder always is
  --data-dir DIR   runs, comparisons, profiles, uploads and the demo model (default ~/.mesp-studio or $MESP_DATA_DIR)
  --renderer-dir   the built renderer (default out/renderer)
  Open the address it prints: it carries a secret token made at each launch, without which the service refuses the
  page. A launcher that restarts the server in place may pass the previous token in $MESP_WEB_TOKEN (an environment
  variable, never an argument: other users can read a process's arguments).`;

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
  const token = process.env.MESP_WEB_TOKEN || undefined;
  if (token !== undefined && !TOKEN_PATTERN.test(token)) {
    console.error('mesp web: $MESP_WEB_TOKEN must be 43 to 128 characters of A-Z a-z 0-9 - _ (32 random bytes in base64url); unset it to get a new one.');
    return 2;
  }
  delete process.env.MESP_WEB_TOKEN; // nothing this process starts inherits it
  privateUmask();
  const dataDir = resolve(v['data-dir'] ?? defaultDataDir());
  const host = new ServiceHost({ dataDir, roots: (v.root ?? []).map((r) => resolve(r)), mode: 'browser' });
  let server;
  try {
    server = await startWebServer({
      host, port, token, staticDir: resolve(v['renderer-dir'] ?? defaults.rendererDir), log: (line) => console.log(`mesp web: ${line}`),
    });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    console.error(`mesp web: ${code === 'EADDRINUSE' ? `port ${port} is in use on 127.0.0.1: pass --port with another number, or 0 for any free port.` : (e as Error).message}`);
    return 1;
  }
  console.log(`MeSP Studio (browser mode) at ${server.url}`);
  console.log('  open that address: it carries this launch\'s token (keep it to yourself; it changes at each launch)');
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

// `npm run web [-- --port N] [--root DIR]... [--data-dir DIR]`: the app in a browser. Starts the service and serves
// the built renderer on 127.0.0.1, printing the address to open, which carries this launch's secret token
// (core/api/web.ts). Only files under the --root folders (and the app-data folder) may be chosen. The process runs
// with umask 077: its data folder and everything in it are its user's alone. Ctrl-C stops a run in progress cleanly
// (it checkpoints) before exiting. bin/mesp-web.js bundles and runs this file.
import { resolve } from 'node:path';
import { z } from 'zod';
import { described } from '../../api/fields';
import { TOKEN_PATTERN } from '../../api/web';
import { errorMessage } from '../../common/errors';
import { command, UsageError } from '../cli/flags';
import { defaultDataDir, privateUmask } from '../service/appdata';
import { ServiceHost } from '../service/host';
import { startWebServer } from './web';

const WebSchema = z.object({
  port: described(z.number().int().min(0).max(65535).default(5317), { label: 'Port', arg: 'N', help: 'the port on 127.0.0.1 (0: any free port)' }),
  root: described(z.array(z.string().min(1)).default([]), {
    label: 'Folder', arg: 'DIR', help: 'a folder whose models and datasets may be chosen; the app-data folder always is',
  }),
  dataDir: described(z.string().min(1).optional(), { label: 'Data', arg: 'DIR', help: 'runs, comparisons, profiles, uploads and the demo model (default ~/.mesp-studio or $MESP_DATA_DIR)' }),
  rendererDir: described(z.string().min(1).optional(), { label: 'Renderer', arg: 'DIR', help: 'the built renderer (default out/renderer)' }),
  help: described(z.boolean().default(false), { label: 'Help', help: 'this text' }),
});

export const WEB = command({
  usage: ['npm run web -- [--port N] [--root DIR]... [--data-dir DIR]'],
  about: [
    'MeSP Studio in a browser: serves the built renderer (npm run build) on http://127.0.0.1:N and the training',
    'service over a WebSocket. Open the address it prints: it carries a secret token made at each launch, without',
    'which the service refuses the page. A launcher that restarts the server in place may pass the previous token in',
    '$MESP_WEB_TOKEN (an environment variable, never an argument: other users can read a process\'s arguments).',
  ].join('\n'),
  shape: [WebSchema],
  schema: WebSchema,
});

export async function webMain(argv: string[], defaults = { rendererDir: process.env.MESP_RENDERER_DIR ?? resolve('out/renderer') }): Promise<number> {
  let v;
  try {
    v = WEB.parse(argv).values;
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    console.error(`mesp web: ${errorMessage(e)} (see \`npm run web -- --help\`)`);
    return 2;
  }
  if (v.help) {
    console.log(WEB.help);
    return 0;
  }
  const token = process.env.MESP_WEB_TOKEN || undefined;
  if (token !== undefined && !TOKEN_PATTERN.test(token)) {
    console.error('mesp web: $MESP_WEB_TOKEN must be 43 to 128 characters of A-Z a-z 0-9 - _ (32 random bytes in base64url); unset it to get a new one.');
    return 2;
  }
  delete process.env.MESP_WEB_TOKEN; // nothing this process starts inherits it
  privateUmask();
  const dataDir = resolve(v.dataDir ?? defaultDataDir());
  const host = new ServiceHost({ dataDir, roots: v.root.map((r) => resolve(r)), mode: 'browser' });
  let server;
  try {
    server = await startWebServer({
      host, port: v.port, token, staticDir: resolve(v.rendererDir ?? defaults.rendererDir), log: (line) => console.log(`mesp web: ${line}`),
    });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    console.error(`mesp web: ${code === 'EADDRINUSE' ? `port ${v.port} is in use on 127.0.0.1: pass --port with another number, or 0 for any free port.` : errorMessage(e)}`);
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

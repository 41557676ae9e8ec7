// `npm run web [-- --port N] [--root DIR]... [--data-dir DIR]`: the app in a browser. Starts the service and serves
// the built renderer on 127.0.0.1, printing the address. Only files under the --root folders (and the app-data folder)
// may be chosen. Ctrl-C stops a run in progress cleanly (it checkpoints) before exiting. bin/mesp-web.js bundles and
// runs this file.
import { resolve } from 'node:path';
import { z } from 'zod';
import { described } from '../../api/fields';
import { errorMessage } from '../../common/errors';
import { command, UsageError } from '../cli/flags';
import { defaultDataDir } from '../service/appdata';
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
  about: 'MeSP Studio in a browser: serves the built renderer (npm run build) on http://127.0.0.1:N and the training\nservice over a WebSocket.',
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
  const dataDir = resolve(v.dataDir ?? defaultDataDir());
  const host = new ServiceHost({ dataDir, roots: v.root.map((r) => resolve(r)), mode: 'browser' });
  const server = await startWebServer({ host, port: v.port, staticDir: resolve(v.rendererDir ?? defaults.rendererDir) });
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

#!/usr/bin/env node
// `npm run web`: browser mode. Bundles core/node/server/web-main.ts into out/web/server.mjs when its sources changed
// (bin/bundle.js, an atomic swap) and runs its webMain() in a child process; when the renderer has not been built yet
// it runs `electron-vite build` first.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ensureBundle, root, runChild } from './bundle.js';

const rendererDir = join(root, 'out/renderer');
const bundle = await ensureBundle('core/node/server/web-main.ts', 'out/web/server.mjs', 'mesp web');
const args = process.argv.slice(2);
if (!existsSync(join(rendererDir, 'index.html')) && !args.includes('--renderer-dir') && !args.includes('--help')) {
  console.log('mesp web: the renderer is not built yet; running `electron-vite build` once…');
  const r = spawnSync(process.execPath, [join(root, 'node_modules/electron-vite/bin/electron-vite.js'), 'build'], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}
runChild(bundle, 'webMain', args, { MESP_RENDERER_DIR: rendererDir });

#!/usr/bin/env node
// `npm run web`: browser mode. Like bin/mesp.js, it bundles core/node/server/web-main.ts with esbuild (WGSL as text,
// packages external) into out/web/server.mjs and runs it; when the renderer has not been built yet it runs
// `electron-vite build` first.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const entry = join(root, 'core/node/server/web-main.ts');
const outfile = join(root, 'out/web/server.mjs');
const rendererDir = join(root, 'out/renderer');

if (existsSync(entry)) {
  let esbuild = null;
  try {
    esbuild = await import('esbuild');
  } catch {
    esbuild = null;
  }
  if (esbuild) {
    esbuild.buildSync({
      entryPoints: [entry], outfile, bundle: true, platform: 'node', format: 'esm', target: 'node20', packages: 'external',
      loader: { '.wgsl': 'text' }, sourcemap: 'inline', logLevel: 'error',
    });
  }
}
if (!existsSync(outfile)) {
  console.error(`mesp web: ${outfile} is missing; run \`npm ci\` in ${root} first.`);
  process.exit(1);
}
const args = process.argv.slice(2);
if (!existsSync(join(rendererDir, 'index.html')) && !args.includes('--renderer-dir') && !args.includes('--help')) {
  console.log('mesp web: the renderer is not built yet; running `electron-vite build` once…');
  const r = spawnSync(process.execPath, [join(root, 'node_modules/electron-vite/bin/electron-vite.js'), 'build'], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}
const { webMain } = await import(pathToFileURL(outfile).href);
process.exitCode = await webMain(args, { rendererDir });

#!/usr/bin/env node
// The `mesp` command. In a source checkout it bundles core/node/cli/main.ts with esbuild (WGSL as text, packages
// external) into out/cli/mesp.mjs — about a quarter of a second — and runs it, so the CLI is always the current code.
// Where esbuild is absent (an installed build), it runs the bundle that is already there.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const entry = join(root, 'core/node/cli/main.ts');
const outfile = join(root, 'out/cli/mesp.mjs');

if (existsSync(entry)) {
  let esbuild = null;
  try {
    esbuild = await import('esbuild');
  } catch {
    esbuild = null;
  }
  if (esbuild) {
    esbuild.buildSync({
      entryPoints: [entry],
      outfile,
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      packages: 'external',
      loader: { '.wgsl': 'text' },
      sourcemap: 'inline',
      logLevel: 'error',
    });
  }
}
if (!existsSync(outfile)) {
  console.error(`mesp: ${outfile} is missing; run \`npm ci\` in ${root} first.`);
  process.exit(1);
}
const { main } = await import(pathToFileURL(outfile).href);
process.exitCode = await main(process.argv.slice(2));

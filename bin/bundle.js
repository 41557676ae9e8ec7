// Shared by bin/mesp.js and bin/mesp-web.js: in a source checkout, bundle a TypeScript entry of core/node with esbuild
// (WGSL as text, packages external) into out/, about a quarter of a second, so the command always runs the current
// code; where esbuild is absent (an installed build), use the bundle that is already there.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** Bundle `entry` (relative to the repository root) into `outfile` and import it. */
export async function bundleAndImport(entry, outfile, name) {
  const src = join(root, entry);
  const out = join(root, outfile);
  if (existsSync(src)) {
    let esbuild = null;
    try {
      esbuild = await import('esbuild');
    } catch {
      esbuild = null;
    }
    esbuild?.buildSync({
      entryPoints: [src], outfile: out, bundle: true, platform: 'node', format: 'esm', target: 'node20', packages: 'external',
      loader: { '.wgsl': 'text' }, sourcemap: 'inline', logLevel: 'error',
    });
  }
  if (!existsSync(out)) {
    console.error(`${name}: ${out} is missing; run \`npm ci\` in ${root} first.`);
    process.exit(1);
  }
  return import(pathToFileURL(out).href);
}

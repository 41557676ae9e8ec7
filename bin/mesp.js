#!/usr/bin/env node
// The `mesp` command: bundles core/node/cli/main.ts into out/cli/mesp.mjs when its sources changed (bin/bundle.js,
// an atomic swap) and runs its main() in a child process (Dawn's limit notices filtered from stderr).
import { ensureBundle, runChild } from './bundle.js';

const bundle = await ensureBundle('core/node/cli/main.ts', 'out/cli/mesp.mjs', 'mesp');
runChild(bundle, 'main', process.argv.slice(2));

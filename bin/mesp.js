#!/usr/bin/env node
// The `mesp` command: bundles core/node/cli/main.ts into out/cli/mesp.mjs (bin/bundle.js) and runs it.
import { bundleAndImport } from './bundle.js';

const { main } = await bundleAndImport('core/node/cli/main.ts', 'out/cli/mesp.mjs', 'mesp');
process.exitCode = await main(process.argv.slice(2));

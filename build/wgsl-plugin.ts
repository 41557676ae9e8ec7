// A Vite plugin that imports `*.wgsl` files as a default-exported string (the same contract as esbuild's `text`
// loader used for the CLI bundle), so kernels read the same WGSL text under Vitest, electron-vite and the CLI.
import type { Plugin } from 'vite';

export function wgslText(): Plugin {
  return {
    name: 'mesp-wgsl-text',
    enforce: 'pre',
    transform(code, id) {
      if (!id.endsWith('.wgsl')) return null;
      return { code: `export default ${JSON.stringify(code)};`, map: null };
    },
  };
}

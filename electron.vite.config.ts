// electron-vite: builds main (with the training service's utilityProcess entry beside it), the sandboxed preload (as
// CommonJS: sandboxed preloads cannot be ES modules) and the Vue renderer into out/. `npm run build` runs it; the
// Electron binary is not needed to build (docs/architecture.md, "Where it runs"). WGSL imports become strings.
import { resolve } from 'node:path';
import vue from '@vitejs/plugin-vue';
import { defineConfig } from 'electron-vite';
import { wgslText } from './build/wgsl-plugin';

export default defineConfig({
  main: {
    plugins: [wgslText()],
    build: {
      outDir: resolve('out/main'),
      rollupOptions: {
        input: { index: resolve('electron/main/index.ts'), service: resolve('electron/service/index.ts') },
      },
    },
  },
  preload: {
    build: {
      outDir: resolve('out/preload'),
      externalizeDeps: false,
      rollupOptions: {
        input: { index: resolve('electron/preload/index.ts') },
        output: { format: 'cjs', entryFileNames: '[name].cjs' },
      },
    },
  },
  renderer: {
    root: resolve('renderer'),
    plugins: [vue()],
    build: {
      outDir: resolve('out/renderer'),
      rollupOptions: {
        input: resolve('renderer/index.html'),
        // zod's sources carry /* @__PURE__ */ comments rollup cannot place; they are harmless.
        onwarn(w, warn) {
          if (w.code === 'INVALID_ANNOTATION' && w.id?.includes('node_modules')) return;
          warn(w);
        },
      },
      minify: 'esbuild',
      chunkSizeWarningLimit: 2000,
    },
  },
});

// `npm run e2e`: Playwright (playwright-core) drives the BUILT renderer (out/, `npm run build`) in Debian's Chromium
// against the real service and engine in browser mode (tests/e2e), the built app is packed by electron-builder and
// checked (tests/package), and the built Electron app runs where an Electron binary exists (tests/electron; skipped
// with the reason printed where it does not). One file at a time: the GPU is shared.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'e2e',
          include: ['tests/e2e/**/*.e2e.ts'],
          environment: 'node',
          pool: 'forks',
          poolOptions: { forks: { singleFork: true } },
          testTimeout: 120_000,
          hookTimeout: 120_000,
          sequence: { concurrent: false },
        },
      },
      {
        // The desktop package: electron-builder --dir with a stand-in Electron binary, then what it packed.
        test: {
          name: 'package',
          include: ['tests/package/**/*.package.ts'],
          environment: 'node',
          pool: 'forks',
          testTimeout: 120_000,
          hookTimeout: 300_000,
        },
      },
      {
        test: {
          name: 'electron',
          include: ['tests/electron/**/*.electron.ts'],
          environment: 'node',
          pool: 'forks',
          poolOptions: { forks: { singleFork: true } },
          testTimeout: 120_000,
          hookTimeout: 120_000,
        },
      },
    ],
    fileParallelism: false,
  },
});

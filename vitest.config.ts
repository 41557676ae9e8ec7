// Vitest projects: unit (pure TS, no GPU), gpu (Dawn + lavapipe; fails, never skips, without an adapter),
// renderer component/store tests (happy-dom), and robustness (the malformed-input corpus and fault tests). e2e tests run with `npm run e2e`, not here.
import { defineConfig } from 'vitest/config';
import vue from '@vitejs/plugin-vue';
import { wgslText } from './build/wgsl-plugin';

export default defineConfig({
  plugins: [wgslText(), vue()],
  test: {
    projects: [
      {
        plugins: [wgslText()],
        test: { name: 'unit', include: ['tests/unit/**/*.test.ts'], environment: 'node', testTimeout: 60_000 },
      },
      {
        plugins: [wgslText()],
        test: {
          name: 'gpu',
          include: ['tests/gpu/**/*.test.ts'],
          environment: 'node',
          pool: 'forks',
          // One GPU test file at a time: lavapipe already uses every core.
          poolOptions: { forks: { singleFork: true } },
          testTimeout: 300_000,
          hookTimeout: 300_000,
          // Kernels run their reg variants unless a test asks for others (tests/gpu/autotune.test.ts turns it on).
          env: { MESP_AUTOTUNE: 'off' },
        },
      },
      {
        // The robustness corpus and fault tests: the real CLI in child processes (tests/robustness/).
        plugins: [wgslText()],
        test: {
          name: 'robustness',
          include: ['tests/robustness/**/*.test.ts'],
          environment: 'node',
          pool: 'forks',
          poolOptions: { forks: { singleFork: true } },
          testTimeout: 600_000,
          hookTimeout: 600_000,
        },
      },
      {
        plugins: [vue()],
        test: { name: 'renderer', include: ['tests/renderer/**/*.test.ts'], environment: 'happy-dom', testTimeout: 30_000 },
      },
    ],
  },
});

// ESLint: TypeScript strict rules plus the layer rules of DESIGN.md §1.
import tseslint from 'typescript-eslint';
import vue from 'eslint-plugin-vue';
import vueParser from 'vue-eslint-parser';

const NODE_BUILTINS = ['fs', 'path', 'os', 'child_process', 'http', 'https', 'net', 'url', 'crypto', 'stream', 'worker_threads', 'util', 'events', 'zlib', 'readline', 'process', 'v8', 'module', 'tty', 'assert', 'buffer'];
const nodeImports = [...NODE_BUILTINS.map((m) => `node:${m}`), ...NODE_BUILTINS, ...NODE_BUILTINS.map((m) => `node:${m}/*`), ...NODE_BUILTINS.map((m) => `${m}/*`)];
const restrict = (patterns, message) => ({ group: patterns, message });

export default tseslint.config(
  { ignores: ['out/**', 'dist/**', 'node_modules/**', 'artifacts/**', 'coverage/**', 'bin/**', '.devkit/**', 'release/**'] },
  ...tseslint.configs.recommended,
  ...vue.configs['flat/recommended'],
  {
    files: ['**/*.vue'],
    languageOptions: { parser: vueParser, parserOptions: { parser: tseslint.parser, sourceType: 'module' } },
  },
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-non-null-assertion': 'off',
      'vue/multi-word-component-names': 'off',
      'vue/max-attributes-per-line': 'off',
      'vue/singleline-html-element-content-newline': 'off',
      'vue/html-self-closing': 'off',
    },
  },
  // core/ imports nothing from electron/ or renderer/; core (but core/node) imports no Node built-ins and no `webgpu`.
  {
    files: ['core/**/*.ts'],
    ignores: ['core/node/**'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [
        restrict(['**/electron/**', '**/renderer/**', 'electron'], 'core/ must not import electron/ or renderer/ (DESIGN.md §1).'),
        restrict([...nodeImports, 'webgpu', '**/node/**'], 'Only core/node touches Node APIs or `webgpu` (DESIGN.md §1).'),
      ] }],
    },
  },
  {
    files: ['core/node/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [
        restrict(['**/electron/**', '**/renderer/**', 'electron'], 'core/ must not import electron/ or renderer/ (DESIGN.md §1).'),
      ] }],
    },
  },
  // core/common and core/api: no GPU code and no Node code.
  {
    files: ['core/common/**/*.ts', 'core/api/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [
        restrict(['**/electron/**', '**/renderer/**', 'electron'], 'core/ must not import electron/ or renderer/ (DESIGN.md §1).'),
        restrict([...nodeImports, 'webgpu', '**/node/**', '**/gpu/**', '**/kernels/**', '**/model/**', '**/train/**', '**/reference/**'], 'core/common and core/api are pure TS: no GPU and no Node code (DESIGN.md §1).'),
      ] }],
    },
  },
  // renderer/ imports core/api and nothing else of core/, and never Node or Electron (only window.mesp).
  {
    files: ['renderer/**/*.ts', 'renderer/**/*.vue'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [
        restrict(['**/core/common/**', '**/core/gpu/**', '**/core/kernels/**', '**/core/reference/**', '**/core/model/**', '**/core/train/**', '**/core/data/**', '**/core/export/**', '**/core/profiles/**', '**/core/node/**'], 'renderer/ may import only core/api (DESIGN.md §1).'),
        restrict([...nodeImports, 'node:*', 'electron', 'electron/*', '@electron/*', 'webgpu', 'ws', '**/electron/**'], 'renderer/ reaches Node and Electron only through window.mesp (DESIGN.md §1).'),
      ] }],
      // Nor through globals: no Node globals, and of window only the preload's `mesp`.
      'no-restricted-globals': ['error', ...['process', 'require', 'module', 'exports', 'Buffer', 'global', '__dirname', '__filename', 'setImmediate', 'electron', 'ipcRenderer'].map((name) => ({
        name, message: 'renderer/ reaches Node and Electron only through window.mesp (DESIGN.md §1).',
      }))],
      'no-restricted-properties': ['error', ...['require', 'process', 'electron', 'ipcRenderer', 'module', 'Buffer'].flatMap((property) => ['window', 'globalThis', 'self'].map((object) => ({
        object, property, message: 'renderer/ reaches Node and Electron only through window.mesp (DESIGN.md §1).',
      })))],
    },
  },
  // device.createBuffer only in core/gpu.
  {
    files: ['**/*.ts', '**/*.vue'],
    ignores: ['core/gpu/**'],
    rules: {
      'no-restricted-syntax': ['error', {
        selector: "CallExpression[callee.property.name='createBuffer']",
        message: 'GPU buffers are created only through the ledger in core/gpu (DESIGN.md §3).',
      }],
    },
  },
);

// WGSL sources are imported as text: esbuild's `text` loader for the CLI, build/wgsl-plugin.ts for Vite and Vitest.
declare module '*.wgsl' {
  const source: string;
  export default source;
}

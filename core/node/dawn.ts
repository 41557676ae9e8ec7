// The Node GPU provider: Dawn through the `webgpu` package (N-API). Keeps a module-level strong reference to the
// GPU object for the life of the process: if V8 collects it, Dawn frees its instance and the process aborts later
// (a collected GPU object takes Dawn's instance with it).
import { create, globals } from 'webgpu';
import type { GpuProvider } from '../gpu/context';

let gpu: GPU | null = null;
let installed = false;

/** Dawn's GPU object, created once per process. */
export function dawnGpu(): GPU {
  if (!installed) {
    // GPUBufferUsage, GPUMapMode, ... as globals, as in a browser.
    Object.assign(globalThis, globals);
    installed = true;
  }
  // Timestamps at full resolution for the per-kernel profile (Dawn quantizes them by default, a browser's defence
  // against timing attacks that a local tool does not need).
  if (!gpu) gpu = create(['disable-dawn-features=timestamp_quantization']);
  return gpu;
}

export const dawnProvider: GpuProvider = {
  name: 'dawn',
  requestAdapter: (options) => dawnGpu().requestAdapter(options),
};

// The browser GPU provider: navigator.gpu, for a renderer or a web page that runs the engine itself (the Node host
// uses Dawn, core/node/dawn.ts). Same interface, so GpuContext.open works with either.
import { GpuUnavailableError } from '../common/errors';
import type { GpuProvider } from './context';

export function navigatorProvider(nav: { gpu?: GPU } | undefined = typeof navigator !== 'undefined' ? (navigator as { gpu?: GPU }) : undefined): GpuProvider {
  return {
    name: 'navigator.gpu',
    requestAdapter: async (options) => {
      if (!nav?.gpu) throw new GpuUnavailableError('This browser exposes no navigator.gpu: WebGPU is off or unsupported (Chromium: --enable-unsafe-webgpu).');
      return nav.gpu.requestAdapter(options);
    },
  };
}

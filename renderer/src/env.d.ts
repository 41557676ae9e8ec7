// Globals the renderer sees: `window.mesp`, the preload's bridge (Electron only; browser mode uses a WebSocket).
import type { MespBridge } from '../../core/api/contract';

declare global {
  interface Window {
    mesp?: MespBridge;
  }
}

export {};

// The preload (DESIGN.md §1): exposes `window.mesp`, a MespBridge typed from core/api, and nothing else. It runs
// sandboxed with context isolation: the page gets request() and onEvent() through contextBridge, never ipcRenderer,
// Node or Electron. Main validates every message against the contract's zod schemas.
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import type { MespBridge, RequestEnvelope, ResponseEnvelope, ServiceEvent } from '../../core/api/contract';
import { IPC } from '../../core/api/ipc';

const bridge: MespBridge = {
  kind: 'electron',
  request: (req: RequestEnvelope) => ipcRenderer.invoke(IPC.request, req) as Promise<ResponseEnvelope>,
  onEvent: (listener: (e: ServiceEvent) => void) => {
    const handler = (_e: IpcRendererEvent, event: ServiceEvent): void => listener(event);
    ipcRenderer.on(IPC.event, handler);
    return () => {
      ipcRenderer.removeListener(IPC.event, handler);
    };
  },
};

contextBridge.exposeInMainWorld('mesp', bridge);

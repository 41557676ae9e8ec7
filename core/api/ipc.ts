// Electron main ↔ preload IPC channel names for the contract (core/api/contract.ts). A module of its own, with no
// imports, so the sandboxed preload bundles nothing else.
export const IPC = { request: 'mesp:request', event: 'mesp:event' } as const;

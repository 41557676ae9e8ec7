// The renderer's one way to the service (DESIGN.md §1–2): a contract client (core/api/client.ts) over `window.mesp`
// in Electron, or over a WebSocket to the browser-mode server that served this page. Tests install their own client.
import type { Ref } from 'vue';
import { createClient, webSocketBridge, type MespClient } from '../../core/api/client';

let client: MespClient | null = null;

export function getClient(): MespClient {
  if (!client) {
    const bridge = window.mesp ?? webSocketBridge(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/mesp`);
    client = createClient(bridge);
  }
  return client;
}

/** Replace the client (component and store tests). */
export function setClient(c: MespClient | null): void {
  client = c;
}

/** The message of an error from a call, for the UI. */
export function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/**
 * A service call behind a busy flag, for the stores: `apply` takes the result, the error clears and the answer is
 * true; a failure shows its message (after `prefix`) and answers false. The flag drops either way.
 */
export async function trackCall<T>(busy: Ref<boolean>, error: Ref<string | null>, call: () => Promise<T>, apply: (result: T) => void, prefix = ''): Promise<boolean> {
  busy.value = true;
  try {
    apply(await call());
    error.value = null;
    return true;
  } catch (e) {
    error.value = `${prefix}${errorText(e)}`;
    return false;
  } finally {
    busy.value = false;
  }
}

// The training service in Electron's utilityProcess (DESIGN.md §2): one ServiceHost (core/node/service/host.ts) on the
// MessagePort main hands over at start. Main sends request envelopes it has already validated, and control messages
// of its own (grant a path picked in a native dialog for a window, revoke a closed window's grants; shut down
// cleanly); the service answers each request and
// streams every event back on the same port. If this process dies, the runs it was training stay on disk and show
// as interrupted, ready to resume.
import type { MessagePortMain } from 'electron';
import { privateUmask } from '../../core/node/service/appdata';
import { ServiceHost } from '../../core/node/service/host';

export type ToService = { request: unknown } | { control: 'grant'; path: string; scope: string } | { control: 'revoke'; scope: string } | { control: 'shutdown' };
export type FromService = { response: unknown } | { event: unknown } | { ready: true } | { shutdown: true };

function argValue(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const dataDir = argValue('--data-dir');
if (!dataDir) {
  console.error('mesp service: --data-dir is required (main passes the app\'s userData folder).');
  process.exit(2);
}
privateUmask(); // what the service writes in userData is the user's alone (0600 / 0700)
const host = new ServiceHost({ dataDir, mode: 'electron', version: argValue('--version') });

process.parentPort.once('message', (e: { ports: MessagePortMain[] }) => {
  const port = e.ports[0];
  const send = (m: FromService): void => port.postMessage(m);
  host.onEvent((event) => send({ event }));
  port.on('message', async (msg: { data: ToService }) => {
    const m = msg.data;
    if ('request' in m) send({ response: await host.handle(m.request) });
    else if (m.control === 'grant') host.grant(m.path, m.scope);
    else if (m.control === 'revoke') host.revoke(m.scope);
    else if (m.control === 'shutdown') {
      await host.shutdown();
      send({ shutdown: true });
    }
  });
  port.start();
  send({ ready: true });
});

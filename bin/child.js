// The child process of bin/bundle.js runChild: imports a bundle and runs one of its exports with the arguments, as
// `process.exitCode = await fn(args)`. It ends at once when its parent dies (the IPC channel closes), as the parent's
// command would have.
import { pathToFileURL } from 'node:url';

const [bundle, fn, ...args] = process.argv.slice(2);
process.channel?.unref();
process.on('disconnect', () => process.kill(process.pid, 'SIGKILL'));
const mod = await import(pathToFileURL(bundle).href);
process.exitCode = await mod[fn](args);

// Each run releases its GPU context: after a run ends (GpuContext.destroy), nothing keeps its GPUDevice alive, so
// Dawn's native memory for it is freed once V8 collects the wrapper. Before, the context's 'uncapturederror' listener
// (which Dawn holds strongly) kept every run's device, about 10 MB of native memory a run, for good. Five demo-model
// runs through the service, each device watched through a WeakRef; the process RSS after each run is printed (a
// report, not an assertion: the allocator keeps some pages).
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, describe, expect, it } from 'vitest';
import type { GpuProvider } from '../../core/gpu/context';
import { dawnProvider } from '../../core/node/dawn';
import { ServiceHost } from '../../core/node/service/host';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** Dawn, with a WeakRef on every device it hands out. */
const devices: WeakRef<GPUDevice>[] = [];
const watched: GpuProvider = {
  name: 'dawn',
  requestAdapter: async (options) => {
    const adapter = await dawnProvider.requestAdapter(options);
    if (!adapter) return null;
    const request = adapter.requestDevice.bind(adapter);
    adapter.requestDevice = async (d) => {
      const device = await request(d);
      devices.push(new WeakRef(device));
      return device;
    };
    return adapter;
  },
};

const host = new ServiceHost({ dataDir: mkdtempSync(join(tmpdir(), 'mesp-mem-')), mode: 'test', env: { provider: watched } });
afterAll(async () => {
  await host.shutdown();
});

async function collect(): Promise<void> {
  for (let i = 0; i < 4; i++) {
    gc();
    await new Promise((r) => setTimeout(r, 50)); // WeakRefs clear after the current job
  }
}

describe('GPU contexts of finished runs', () => {
  it('are released: no device outlives its run, and RSS levels off', async () => {
    const demo = (await host.call('app.info', {})).demo;
    const rss: number[] = [];
    for (let run = 0; run < 5; run++) {
      await host.call('runs.start', { modelDir: demo.modelDir, dataPath: demo.dataPath, profile: 'phone-6gb', seqLen: 64, method: 'mesp', steps: 2 });
      await host.idle();
      await collect();
      const alive = devices.filter((d) => d.deref() !== undefined).length;
      rss.push(process.memoryUsage().rss);
      console.log(`[run ${run + 1}] devices opened ${devices.length}, still alive ${alive}; RSS ${(rss[run] / 1e6).toFixed(1)} MB`);
      expect(devices.length, `run ${run + 1} opened a device`).toBeGreaterThan(run);
      expect(alive, `after run ${run + 1}, devices of finished runs still alive`).toBe(0);
    }
    console.log(`[RSS] from run 2 to run 5: ${((rss[4] - rss[1]) / 1e6).toFixed(1)} MB (about 10 MB a run before the fix)`);
  });
});

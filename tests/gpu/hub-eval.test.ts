// A model pulled from a hub is the same model: `mesp pull OWNER/NAME` against a local hub on 127.0.0.1 whose
// connection is cut in the middle of the weights completes with the sha256 matching, and `mesp eval --model
// OWNER/NAME --data hf://datasets/...` then runs from the cache (the dataset pulled on first use) with exactly the
// losses of the same files in a local folder, also with HF_HUB_OFFLINE=1 and no request at all. `mesp train --model
// OWNER/NAME` pulls on first use, records the snapshot (pinned to its commit) and names the base model by its id, and
// `mesp export --model OWNER/NAME` finds the same snapshot. The app's runs.start and compare.start take the same ids
// (through the run lifecycle): a run and a comparison train on the pulled snapshot, pulled once.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EvalResult } from '../../core/api/eval';
import { ServiceHost } from '../../core/node/service/host';
import { demoDatasetJsonl, demoModelFiles } from '../../core/model/demo';
import { writeDemoDataset, writeDemoModel } from '../../core/node/demo';
import { demoModelRepo, makeRepo, sha256, startHub, type HubServer } from '../helpers/hub-server';
import { runMesp } from '../helpers/cli';

const demo = demoModelFiles();
const root = mkdtempSync(join(tmpdir(), 'mesp-hub-eval-'));
const localModel = join(root, 'demo-model');
const localData = join(root, 'train.jsonl');
let hub: HubServer;

beforeAll(async () => {
  writeDemoModel(localModel);
  writeDemoDataset(localData);
  hub = await startHub(demoModelRepo('mesp/demo', demo), makeRepo('dataset', 'mesp/chats', { 'train.jsonl': demoDatasetJsonl('messages') }));
});

afterAll(async () => {
  await hub.stop();
  rmSync(root, { recursive: true, force: true });
});

describe('a model from the hub', () => {
  it('pulls through a cut connection, then evaluates from the cache with the local folder\'s losses (also offline)', async () => {
    const env = { HF_ENDPOINT: hub.url, HF_HUB_CACHE: join(root, 'cache') };
    hub.fault('mesp/demo', 'model.safetensors', { cutAfter: 1_000_000 });
    const pull = await runMesp(['pull', 'mesp/demo'], undefined, { env });
    hub.clearFaults();
    expect([pull.status, pull.stderr]).toEqual([0, expect.stringMatching(/the connection was cut .*retrying/)]);
    const snapshot = pull.stdout.trim().split('\n').at(-1)!;
    expect(sha256(readFileSync(join(snapshot, 'model.safetensors')))).toBe(sha256(demo.get('model.safetensors')!));

    const args = ['--json', '--max-rows', '12', '--profile', 'phone-6gb'];
    const local = await runMesp(['eval', '--model', localModel, '--data', localData, ...args]);
    expect(local.status).toBe(0);
    const mark = hub.log.length;
    const fromHub = await runMesp(['eval', '--model', 'mesp/demo', '--data', 'hf://datasets/mesp/chats/train.jsonl', ...args], undefined, { env });
    expect([fromHub.status, fromHub.stderr]).toEqual([0, expect.stringMatching(/pulling dataset mesp\/chats@main/)]);
    // the model came from the cache; only the dataset was fetched (on first use)
    expect(hub.log.slice(mark).filter((q) => q.path.includes('mesp/demo'))).toEqual([]);
    const a = JSON.parse(local.stdout) as EvalResult;
    const b = JSON.parse(fromHub.stdout) as EvalResult;
    console.log(`[hub eval] local folder mean loss ${a.meanLoss.toFixed(8)}, OWNER/NAME from the cache ${b.meanLoss.toFixed(8)} (${b.rows.length} rows)`);
    expect(b.rows.length).toBe(12);
    expect(b.meanLoss).toBe(a.meanLoss);
    expect(b.rows).toEqual(a.rows);

    const before = hub.log.length;
    const offline = await runMesp(['eval', '--model', 'mesp/demo', '--data', 'hf://datasets/mesp/chats/train.jsonl', ...args], undefined, { env: { ...env, HF_HUB_OFFLINE: '1' } });
    expect(offline.status).toBe(0);
    expect(offline.stderr).not.toMatch(/pulling/);
    expect((JSON.parse(offline.stdout) as EvalResult).meanLoss).toBe(a.meanLoss);
    expect(hub.log.length).toBe(before);
  }, 300_000);

  it('mesp train --model OWNER/NAME pulls on first use, records the snapshot and names the base model by its id', async () => {
    const env = { HF_ENDPOINT: hub.url, HF_HUB_CACHE: join(root, 'cache-train') };
    const out = join(root, 'run');
    const r = await runMesp(['train', '--model', 'mesp/demo', '--data', localData, '--out', out, '--steps', '2', '--seq-len', '64', '--profile', 'phone-6gb'], undefined, { env });
    expect([r.status, r.stderr]).toEqual([0, expect.stringMatching(/pulling mesp\/demo@main/)]);
    const cfg = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')) as { request: { modelDir: string }; model: { name: string } };
    expect(cfg.request.modelDir).toMatch(new RegExp(`${env.HF_HUB_CACHE}/models--mesp--demo/snapshots/[0-9a-f]{40}$`));
    expect(cfg.model.name).toBe('mesp/demo');
    const peft = JSON.parse(readFileSync(join(out, 'adapter', 'adapter_config.json'), 'utf8')) as { base_model_name_or_path: string };
    expect(peft.base_model_name_or_path).toBe('mesp/demo');
    // export's --model override takes the id too (the same snapshot: the fingerprint matches)
    const ex = await runMesp(['export', '--run', out, '--format', 'peft', '--model', 'mesp/demo', '--dry-run', '--json'], undefined, { env });
    expect([ex.status, (JSON.parse(ex.stdout) as { baseModel: string }).baseModel]).toEqual([0, 'mesp/demo']);
  }, 300_000);

  it('the app\'s runs.start and compare.start train on OWNER/NAME and hf://datasets/ data, pulled once', async () => {
    const cacheDir = join(root, 'cache-app');
    const host = new ServiceHost({ dataDir: join(root, 'app'), mode: 'test', hub: { cacheDir, endpoint: hub.url, retry: { baseDelayMs: 5, maxDelayMs: 20 } } });
    try {
      const inputs = { modelDir: 'mesp/demo', dataPath: 'hf://datasets/mesp/chats/train.jsonl', profile: 'phone-6gb', seqLen: 64 };
      const { runId } = await host.call('runs.start', { ...inputs, method: 'mesp', steps: 2 });
      await host.idle();
      const { config, summary } = await host.call('runs.open', { runId });
      expect(summary).toMatchObject({ status: 'done', stepsDone: 2 });
      expect(config!.request.modelDir).toMatch(new RegExp(`^${cacheDir}/models--mesp--demo/snapshots/[0-9a-f]{40}$`));
      expect(config!.request.dataPath).toMatch(new RegExp(`^${cacheDir}/datasets--mesp--chats/snapshots/[0-9a-f]{40}/train\\.jsonl$`));
      expect(config!.model.name).toBe('mesp/demo');

      const mark = hub.log.length;
      const { compareId } = await host.call('compare.start', { ...inputs, methods: ['mesp', 'mezo'], steps: 1, cosineSamples: 2 });
      await host.idle();
      const { comparison: c } = await host.call('compare.open', { compareId });
      expect([c.status, c.modelName, c.error]).toEqual(['done', 'mesp/demo', null]);
      expect(c.methods.map((m) => [m.method, m.status])).toEqual([['mesp', 'done'], ['mezo', 'done']]);
      expect(c.cosine!.samples).toHaveLength(2);
      expect(hub.log.slice(mark), 'the comparison read the cache: no request').toEqual([]);
    } finally {
      await host.shutdown();
    }
  }, 300_000);
});

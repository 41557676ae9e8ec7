// Pulling from the Hugging Face Hub (core/node/hub) against a local hub on 127.0.0.1 (tests/helpers/hub-server.ts)
// that speaks the hub's protocol: the standard cache layout, found by the official client's own cache code and the
// other way round; a connection cut in the middle of the weights resumed with a Range request (in the same pull and
// in a later one); a 500 and a stall retried; a corrupted byte refused with the file and both hashes named and
// nothing left in the snapshot; a repo, a revision or a file that does not exist, a gated repo without a token, a
// config that is not Qwen2 (refused before any weights), pickled-only weights; a full disk; offline resolution; the
// token never in an event or a message; a dataset's jsonl file.
import { datasetInfo, downloadFileToCacheDir, scanCacheDir, snapshotDownload } from '@huggingface/hub';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PullEvent } from '../../core/api/contract';
import { ConfigError, FormatError, MespError } from '../../core/common/errors';
import { demoDatasetJsonl, demoModelFiles, writeTinyQwen2 } from '../../core/model/demo';
import { exitCodeOf } from '../../core/node/cli/main';
import { listCached, repoDir } from '../../core/node/hub/cache';
import { HubError, HubNetworkError, PullCancelled } from '../../core/node/hub/http';
import { pullDatasetFile, pullModel } from '../../core/node/hub/pull';
import { resolveDataRef, resolveInputs, resolveModelRef } from '../../core/node/hub/resolve';
import { hubSettings, type HubOverrides } from '../../core/node/hub/settings';
import { openModelFolder } from '../../core/node/modelfiles';
import { demoModelRepo, makeRepo, sha256, startHub, type HubServer } from '../helpers/hub-server';
import { TINY } from '../helpers/tiny';

const TOKEN = 'hf_testTokenNeverPrinted0123456789';
const demo = demoModelFiles();
const weights = demo.get('model.safetensors')!;
const root = mkdtempSync(join(tmpdir(), 'mesp-hub-'));
let hub: HubServer;
let n = 0;

/** A fresh cache folder and settings for it (nothing from this machine's HF_* variables). */
function fresh(over: HubOverrides = {}): { cache: string; over: HubOverrides; s: ReturnType<typeof hubSettings> } {
  const cache = join(root, `cache-${++n}`);
  const o: HubOverrides = { cacheDir: cache, endpoint: hub.url, offline: false, retry: { baseDelayMs: 5, maxDelayMs: 20 }, ...over };
  return { cache, over: o, s: hubSettings(o, {}) };
}

async function caught(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a failure');
}

beforeAll(async () => {
  const notQwen = new Map(demo);
  notQwen.set('config.json', new TextEncoder().encode(JSON.stringify({ ...JSON.parse(new TextDecoder().decode(demo.get('config.json')!)), model_type: 'llama', architectures: ['LlamaForCausalLM'] })));
  const pickled = new Map([...demo].filter(([k]) => k !== 'model.safetensors'));
  hub = await startHub(
    demoModelRepo('mesp/demo', demo),
    demoModelRepo('mesp/gated', demo, { gated: true }),
    demoModelRepo('mesp/llama', notQwen),
    demoModelRepo('mesp/pickled', pickled),
    makeRepo('model', 'mesp/sharded', writeTinyQwen2({ ...TINY, shards: 3 })),
    makeRepo('dataset', 'mesp/chats', { 'data/train.jsonl': demoDatasetJsonl('messages'), 'README.md': '# chats\n' }),
  );
  hub.tokens.add(TOKEN);
});

afterAll(async () => {
  await hub.stop();
  rmSync(root, { recursive: true, force: true });
});

describe('where the hub and the cache are', () => {
  it('follows the HF tools: HF_HUB_CACHE, else HF_HOME/hub, else ~/.cache/huggingface/hub; --cache-dir over all; HF_ENDPOINT; HF_HUB_OFFLINE', () => {
    const home = process.env.HOME ?? '';
    expect(hubSettings({}, { HF_HUB_CACHE: '/a/cache', HF_HOME: '/b' }).cacheDir).toBe('/a/cache');
    expect(hubSettings({}, { HF_HOME: '/b' }).cacheDir).toBe('/b/hub');
    expect(hubSettings({}, {}).cacheDir).toBe(join(home, '.cache', 'huggingface', 'hub'));
    expect(hubSettings({ cacheDir: '/flag' }, { HF_HUB_CACHE: '/a/cache' }).cacheDir).toBe('/flag');
    expect(hubSettings({}, {}).endpoint).toBe('https://huggingface.co');
    expect(hubSettings({}, { HF_ENDPOINT: 'http://127.0.0.1:9000/' }).endpoint).toBe('http://127.0.0.1:9000');
    expect(() => hubSettings({}, { HF_ENDPOINT: 'huggingface.co' })).toThrow(/HF_ENDPOINT is "huggingface.co"; give the hub's address/);
    for (const v of ['1', 'true', 'YES', 'on']) expect([v, hubSettings({}, { HF_HUB_OFFLINE: v }).offline]).toEqual([v, true]);
    for (const v of ['', '0', 'false']) expect([v, hubSettings({}, { HF_HUB_OFFLINE: v }).offline]).toEqual([v, false]);
    expect(hubSettings({}, { HF_TOKEN: TOKEN }).token).toBe(TOKEN);
    expect(hubSettings({ token: 'hf_flag' }, { HF_TOKEN: TOKEN }).token).toBe('hf_flag');
  });
});

describe('the cache layout', () => {
  it('is the standard one: blobs named by sha256 or git blob id, relative snapshot links, refs/main; only training files', async () => {
    const { cache, s } = fresh();
    const before = hub.log.length;
    const r = await pullModel('mesp/demo', 'main', s);
    const dir = repoDir(cache, 'model', 'mesp/demo');
    expect(r.snapshotDir).toBe(join(dir, 'snapshots', r.commit));
    expect(readFileSync(join(dir, 'refs', 'main'), 'utf8')).toBe(r.commit);
    expect(readdirSync(r.snapshotDir).sort()).toEqual(['config.json', 'generation_config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json']);
    expect(readlinkSync(join(r.snapshotDir, 'model.safetensors'))).toBe(`../../blobs/${sha256(weights)}`);
    for (const f of readdirSync(r.snapshotDir)) expect([f, readFileSync(join(r.snapshotDir, f)).equals(Buffer.from(demo.get(f)!))]).toEqual([f, true]);
    // Never a pickled file, a README or another folder's files.
    const asked = hub.log.slice(before).filter((q) => q.path.includes('/resolve/')).map((q) => q.path.split('/').pop());
    expect(new Set(asked)).toEqual(new Set(['config.json', 'generation_config.json', 'tokenizer.json', 'tokenizer_config.json', 'model.safetensors']));
    const folder = openModelFolder(r.snapshotDir);
    expect(folder.name).toBe('mesp/demo');
    expect(listCached(cache)).toMatchObject([{ repo: 'mesp/demo', kind: 'model', commit: r.commit, refs: ['main'], complete: true, missing: [], partialBytes: 0 }]);
  });

  it('is read by the official client: scanCacheDir lists the pull, downloadFileToCacheDir finds its files without a download', async () => {
    const { cache, s } = fresh();
    const r = await pullModel('mesp/demo', 'main', s);
    const scan = await scanCacheDir(cache);
    expect(scan.repos.map((x) => [x.id.name, x.id.type, x.revisions.map((v) => [v.commitOid, v.refs])])).toEqual([['mesp/demo', 'model', [[r.commit, ['main']]]]]);
    const before = hub.log.length;
    const p = await downloadFileToCacheDir({ repo: 'mesp/demo', path: 'model.safetensors', revision: r.commit, cacheDir: cache, hubUrl: hub.url });
    expect(p).toBe(join(r.snapshotDir, 'model.safetensors'));
    expect(hub.log.length).toBe(before); // found in the cache: no request at all
  });

  it('finds what the official client downloaded: snapshotDownload\'s cache resolves offline and opens', async () => {
    const { cache, over } = fresh();
    const snap = await snapshotDownload({ repo: 'mesp/demo', cacheDir: cache, hubUrl: hub.url });
    const dir = await resolveModelRef('mesp/demo', { hub: { ...over, offline: true } });
    expect(dir).toBe(snap);
    expect(openModelFolder(dir).config.layers).toBe(4);
  });

  it('pulls a sharded checkpoint: the index and the shards it names', async () => {
    const { s } = fresh();
    const r = await pullModel('mesp/sharded', 'main', s);
    expect(r.files.map((f) => f.path).sort()).toEqual(['config.json', 'generation_config.json', 'model-00001-of-00003.safetensors', 'model-00002-of-00003.safetensors', 'model-00003-of-00003.safetensors', 'model.safetensors.index.json']);
    const f = openModelFolder(r.path);
    expect(f.shardFiles).toHaveLength(3);
    expect(f.name).toBe('mesp/sharded');
  });
});

describe('robust transfers', () => {
  it('a connection cut in the middle of the weights is resumed with a Range request and the sha256 matches', async () => {
    const { s } = fresh();
    hub.fault('mesp/demo', 'model.safetensors', { cutAfter: 1_200_000 });
    const events: PullEvent[] = [];
    const start = hub.log.length;
    const r = await pullModel('mesp/demo', 'main', s, { onEvent: (e) => events.push(e) });
    hub.clearFaults();
    const bodies = hub.log.slice(start).filter((q) => q.path === `/lfs-store/model/mesp/demo/${sha256(weights)}` && q.range !== 'bytes=0-0');
    console.log(`[hub] weights requests: ${bodies.map((b) => `${b.range ?? 'whole'} → ${b.status}`).join(', ')}`);
    expect(bodies).toHaveLength(2);
    expect(bodies[0].range).toBeNull();
    const resumedAt = Number(/^bytes=(\d+)-$/.exec(bodies[1].range ?? '')?.[1]);
    expect(resumedAt).toBeGreaterThan(0);
    expect(resumedAt).toBeLessThanOrEqual(1_200_000);
    expect(bodies[1].status).toBe(206);
    const got = sha256(readFileSync(join(r.snapshotDir, 'model.safetensors')));
    console.log(`[hub] resumed at byte ${resumedAt}; sha256 ${got} (hub: ${sha256(weights)})`);
    expect(got).toBe(sha256(weights));
    const retry = events.find((e) => e.type === 'retry');
    expect(retry).toMatchObject({ path: 'model.safetensors', attempt: 1, maxAttempts: 5 });
    expect(events.find((e) => e.type === 'file' && e.path === 'model.safetensors')).toMatchObject({ check: 'sha256', digest: sha256(weights) });
    // progress: bytes only go up, per file and in total, and end at the total
    const prog = events.filter((e): e is Extract<PullEvent, { type: 'progress' }> => e.type === 'progress');
    for (let i = 1; i < prog.length; i++) expect([i, prog[i].doneBytes >= prog[i - 1].doneBytes]).toEqual([i, true]);
    const plan = events.find((e) => e.type === 'plan')!;
    expect(prog.at(-1)!.doneBytes).toBe(plan.type === 'plan' ? plan.totalBytes : -1);
    expect(events.at(-1)).toMatchObject({ type: 'done', commit: r.commit, snapshotDir: r.snapshotDir });
  });

  it('a later pull resumes from the .incomplete file a failed one left', async () => {
    const { s, over } = fresh();
    hub.fault('mesp/demo', 'model.safetensors', { cutAfter: 900_000, times: 3 });
    const err = await caught(pullModel('mesp/demo', 'main', hubSettings({ ...over, retry: { attempts: 1, baseDelayMs: 1 } }, {})));
    hub.clearFaults();
    expect(err).toBeInstanceOf(HubNetworkError);
    expect(err.message).toMatch(/model\.safetensors: the download kept failing \(the connection was cut.*run the pull again to resume/);
    const dir = repoDir(s.cacheDir, 'model', 'mesp/demo');
    expect(existsSync(join(dir, 'snapshots'))).toBe(false); // nothing half-linked
    expect(listCached(s.cacheDir)).toMatchObject([{ repo: 'mesp/demo', commit: null, complete: false }]);
    const events: PullEvent[] = [];
    const start = hub.log.length;
    await pullModel('mesp/demo', 'main', s, { onEvent: (e) => events.push(e) });
    const plan = events.find((e) => e.type === 'plan');
    const file = plan?.type === 'plan' ? plan.files.find((f) => f.path === 'model.safetensors') : undefined;
    expect(file?.state).toBe('partial');
    expect(file!.haveBytes).toBeGreaterThan(0);
    const body = hub.log.slice(start).find((q) => q.path.startsWith('/lfs-store/') && q.range !== 'bytes=0-0');
    expect(body?.range).toBe(`bytes=${file!.haveBytes}-`);
    // the small files were complete blobs already: not downloaded again
    expect(hub.log.slice(start).filter((q) => q.path.endsWith('/config.json'))).toEqual([]);
    expect(events.find((e) => e.type === 'file' && e.path === 'model.safetensors')).toMatchObject({ resumedFrom: file!.haveBytes, digest: sha256(weights) });
  });

  it('a 500 is retried with backoff, then the download succeeds', async () => {
    const { s } = fresh();
    hub.fault('mesp/demo', 'model.safetensors', { fail500: 2 });
    const events: PullEvent[] = [];
    const r = await pullModel('mesp/demo', 'main', s, { onEvent: (e) => events.push(e) });
    hub.clearFaults();
    expect(events.filter((e) => e.type === 'retry').map((e) => e.type === 'retry' && [e.path, e.attempt, e.reason])).toEqual([
      ['model.safetensors', 1, 'HTTP 500'], ['model.safetensors', 2, 'HTTP 500'],
    ]);
    expect(sha256(readFileSync(join(r.snapshotDir, 'model.safetensors')))).toBe(sha256(weights));
  });

  it('a stalled transfer times out and is resumed', async () => {
    const { over } = fresh();
    hub.fault('mesp/demo', 'model.safetensors', { stallAfter: 300_000 });
    const events: PullEvent[] = [];
    const r = await pullModel('mesp/demo', 'main', hubSettings({ ...over, retry: { ...over.retry, idleTimeoutMs: 1000 } }, {}), { onEvent: (e) => events.push(e) });
    hub.clearFaults();
    expect(events.find((e) => e.type === 'retry')).toMatchObject({ path: 'model.safetensors', reason: expect.stringMatching(/^timed out/) });
    expect(sha256(readFileSync(join(r.snapshotDir, 'model.safetensors')))).toBe(sha256(weights));
  });

  it('a server that ignores Range is followed from byte 0, and the totals stay right', async () => {
    const { s } = fresh();
    hub.fault('mesp/demo', 'model.safetensors', { cutAfter: 1_000_000, ignoreRange: true });
    const events: PullEvent[] = [];
    const r = await pullModel('mesp/demo', 'main', s, { onEvent: (e) => events.push(e) });
    hub.clearFaults();
    expect(sha256(readFileSync(join(r.snapshotDir, 'model.safetensors')))).toBe(sha256(weights));
    const last = events.filter((e) => e.type === 'progress').at(-1);
    expect(last).toMatchObject({ doneBytes: r.files.reduce((t, f) => t + f.bytes, 0), fileBytes: weights.length, fileTotal: weights.length });
  });

  it('a corrupted byte is refused: the file and both hashes are named, the bad file is deleted, nothing is in the snapshot', async () => {
    const { cache, s } = fresh();
    hub.fault('mesp/demo', 'model.safetensors', { corruptAt: 1_234_567 });
    const err = await caught(pullModel('mesp/demo', 'main', s));
    hub.clearFaults();
    const bad = weights.slice();
    bad[1_234_567] ^= 0x5a;
    console.log(`[hub] corrupted download: ${err.message}`);
    expect(err).toBeInstanceOf(FormatError);
    expect(exitCodeOf(err)).toBe(5);
    expect(err.message).toContain('mesp/demo@');
    expect(err.message).toContain('/model.safetensors: sha256 mismatch');
    expect(err.message).toContain(`the hub reports ${sha256(weights)}`);
    expect(err.message).toContain(`the downloaded file has ${sha256(bad)}`);
    const dir = repoDir(cache, 'model', 'mesp/demo');
    expect(existsSync(join(dir, 'snapshots'))).toBe(false);
    expect(existsSync(join(dir, 'refs'))).toBe(false);
    const blobs = readdirSync(join(dir, 'blobs'));
    expect(blobs.filter((b) => b.startsWith(sha256(weights)))).toEqual([]); // neither the blob nor its .incomplete
    expect(listCached(cache)).toEqual([]);
  });

  it('a cancelled pull keeps its bytes; the next one resumes them', async () => {
    const { s } = fresh();
    hub.fault('mesp/demo', 'model.safetensors', { stallAfter: 500_000 });
    const ac = new AbortController();
    const err = await caught(pullModel('mesp/demo', 'main', s, {
      signal: ac.signal,
      onEvent: (e) => {
        if (e.type === 'progress' && e.path === 'model.safetensors' && e.fileBytes > 0) ac.abort();
      },
    }));
    hub.clearFaults();
    expect(err).toBeInstanceOf(PullCancelled);
    const [entry] = listCached(s.cacheDir);
    expect(entry.partialBytes).toBeGreaterThan(0);
    const start = hub.log.length;
    const r = await pullModel('mesp/demo', 'main', s);
    expect(hub.log.slice(start).find((q) => q.path.startsWith('/lfs-store/') && q.range !== 'bytes=0-0')?.range).toBe(`bytes=${entry.partialBytes}-`);
    expect(sha256(readFileSync(join(r.snapshotDir, 'model.safetensors')))).toBe(sha256(weights));
  });

  it('free disk space is checked before the weights are downloaded', async () => {
    const { s } = fresh();
    const start = hub.log.length;
    const err = await caught(pullModel('mesp/demo', 'main', s, { freeBytes: () => 1_000_000 }));
    expect(err).toBeInstanceOf(MespError);
    expect((err as MespError).code).toBe('DISK_SPACE');
    expect(err.message).toMatch(/not enough free space for mesp\/demo in .*: the download needs 2\.9 MB more and 1\.0 MB are free.*--cache-dir/);
    expect(hub.log.slice(start).filter((q) => q.path.startsWith('/lfs-store/'))).toEqual([]);
  });
});

describe('clear refusals', () => {
  it('a repo that does not exist (401 without a token, 404 with one)', async () => {
    for (const token of [undefined, TOKEN]) {
      const err = await caught(pullModel('mesp/nope', 'main', fresh({ token }).s));
      expect([token ?? 'no token', err]).toEqual([token ?? 'no token', expect.any(HubError)]);
      expect((err as HubError).reason).toBe('repo-not-found');
      expect(exitCodeOf(err)).toBe(5);
      expect(err.message).toMatch(token ? /model mesp\/nope does not exist on http:\/\/127\.0\.0\.1:\d+ \(or your token cannot see it\)/ : /does not exist .*\(or it is private: give a token with --token or HF_TOKEN\)/);
      expect(err.message).not.toContain(TOKEN);
    }
  });

  it('a revision that does not exist', async () => {
    const err = await caught(pullModel('mesp/demo', 'v9-nope', fresh().s));
    expect((err as HubError).reason).toBe('revision-not-found');
    expect(err.message).toMatch(/revision "v9-nope" does not exist in model mesp\/demo.*--revision/);
  });

  it('a gated repo: refused without a token before any file request; with one it is pulled and the token is sent but never shown', async () => {
    const start = hub.log.length;
    const err = await caught(pullModel('mesp/gated', 'main', fresh().s));
    expect((err as HubError).reason).toBe('gated');
    expect(err.message).toMatch(/model mesp\/gated is gated: accept its conditions on http:\/\/127\.0\.0\.1:\d+\/mesp\/gated, then give a token with --token or HF_TOKEN/);
    expect(hub.log.slice(start).filter((q) => q.path.includes('/resolve/') || q.path.includes('/lfs-store/'))).toEqual([]);

    const wrong = await caught(pullModel('mesp/gated', 'main', fresh({ token: 'hf_someoneElse' }).s));
    expect((wrong as HubError).reason).toBe('gated');
    expect(wrong.message).toMatch(/has not been granted access/);
    expect(wrong.message).not.toContain('hf_someoneElse');

    const events: PullEvent[] = [];
    const mark = hub.log.length;
    const r = await pullModel('mesp/gated', 'main', fresh({ token: TOKEN }).s, { onEvent: (e) => events.push(e) });
    expect(sha256(readFileSync(join(r.snapshotDir, 'model.safetensors')))).toBe(sha256(weights));
    const resolves = hub.log.slice(mark).filter((q) => q.path.includes('/resolve/'));
    expect(resolves.length).toBeGreaterThan(0);
    for (const q of resolves) expect([q.path, q.auth === `Bearer ${TOKEN}`]).toEqual([q.path, true]);
    expect(JSON.stringify(events)).not.toContain(TOKEN);
  });

  it('a config.json that is not Qwen2 is refused before any weights, and leaves nothing behind', async () => {
    const { cache, s } = fresh();
    const start = hub.log.length;
    const err = await caught(pullModel('mesp/llama', 'main', s));
    expect((err as HubError).reason).toBe('unsupported');
    expect(exitCodeOf(err)).toBe(5);
    expect(err.message).toMatch(/mesp\/llama is a "llama" model \(LlamaForCausalLM\) by its config\.json, not Qwen2: MeSP Studio trains Qwen2 and Qwen2\.5 models only\. Only config\.json was read; no weights were downloaded/);
    const asked = hub.log.slice(start).filter((q) => q.path.includes('/resolve/')).map((q) => q.path.split('/').pop());
    expect(new Set(asked)).toEqual(new Set(['config.json']));
    expect(existsSync(repoDir(cache, 'model', 'mesp/llama'))).toBe(false);
  });

  it('a repo with only pickled weights is refused without downloading them', async () => {
    const start = hub.log.length;
    const err = await caught(pullModel('mesp/pickled', 'main', fresh().s));
    expect(err.message).toMatch(/mesp\/pickled has only pickled weights \(pytorch_model\.bin\); MeSP Studio never downloads or loads them/);
    expect(hub.log.slice(start).filter((q) => q.path.includes('/resolve/'))).toEqual([]);
  });

  it('a bad token is refused without quoting it', () => {
    for (const [over, env, flag] of [[{ token: 'not-a-token-secret' }, {}, '--token'], [{}, { HF_TOKEN: 'not-a-token-secret' }, 'HF_TOKEN']] as const) {
      let err: unknown = null;
      try {
        hubSettings(over, env);
      } catch (e) {
        err = e;
      }
      expect([flag, err]).toEqual([flag, expect.any(ConfigError)]);
      expect((err as Error).message).toContain(`the Hugging Face token (${flag}) is not an access token: tokens start with "hf_"`);
      expect((err as Error).message).not.toContain('not-a-token-secret');
    }
  });
});

describe('resolving --model and --data', () => {
  it('an id is pulled on first use, then read from the cache without a request', async () => {
    const { over } = fresh();
    const dir = await resolveModelRef('mesp/demo', { hub: over });
    expect(existsSync(join(dir, 'model.safetensors'))).toBe(true);
    const before = hub.log.length;
    expect(await resolveModelRef('mesp/demo', { hub: over })).toBe(dir);
    expect(hub.log.length).toBe(before);
  });

  it('a local path that exists wins over an id of the same spelling', async () => {
    const { over } = fresh();
    const cwd = process.cwd();
    const base = join(root, 'local');
    mkdirSync(join(base, 'mesp', 'demo'), { recursive: true });
    try {
      process.chdir(base);
      const before = hub.log.length;
      expect(await resolveModelRef('mesp/demo', { hub: over })).toBe('mesp/demo');
      expect(hub.log.length).toBe(before);
    } finally {
      process.chdir(cwd);
    }
  });

  it('offline: ids resolve from the cache only, and a miss names the missing file', async () => {
    const { cache, over } = fresh();
    const dir = await resolveModelRef('mesp/demo', { hub: over });
    const offline = { ...over, offline: true };
    const before = hub.log.length;
    expect(await resolveModelRef('mesp/demo', { hub: offline })).toBe(dir);
    const miss = await caught(resolveModelRef('mesp/sharded', { hub: offline }));
    expect(miss.message).toMatch(/^HF_HUB_OFFLINE=1: mesp\/sharded is not in the cache .* \(no models--mesp--sharded\/refs\/main\)\. Pull it with the network on \(mesp pull mesp\/sharded\)/);
    rmSync(join(repoDir(cache, 'model', 'mesp/demo'), 'blobs', sha256(weights)));
    const gone = await caught(resolveModelRef('mesp/demo', { hub: offline }));
    expect((gone as HubError).reason).toBe('offline-missing');
    expect(gone.message).toMatch(/^HF_HUB_OFFLINE=1: mesp\/demo \(commit [0-9a-f]{7}\) is in the cache .*, but model\.safetensors is missing from .*snapshots\/[0-9a-f]{40}\. Pull it again/);
    expect(hub.log.length).toBe(before);
    expect(exitCodeOf(gone)).toBe(5);
  });

  it('a repo id that is neither local nor on the hub says both', async () => {
    const err = await caught(resolveModelRef('mesp/typo', { hub: fresh().over }));
    expect(err.message).toMatch(/model mesp\/typo does not exist on .* There is no local folder .*mesp\/typo either\./);
  });

  it('a dataset\'s jsonl file: hf://datasets/OWNER/NAME/PATH, verified, then from the cache and offline', async () => {
    const { over } = fresh();
    const info = await datasetInfo({ name: 'mesp/chats', hubUrl: hub.url, additionalFields: ['sha'] });
    const path = await resolveDataRef('hf://datasets/mesp/chats/data/train.jsonl', { hub: over });
    expect(path).toBe(join(over.cacheDir!, 'datasets--mesp--chats', 'snapshots', info.sha, 'data', 'train.jsonl'));
    expect(readFileSync(path, 'utf8')).toBe(demoDatasetJsonl('messages'));
    const before = hub.log.length;
    expect(await resolveDataRef('hf://datasets/mesp/chats/data/train.jsonl', { hub: { ...over, offline: true } })).toBe(path);
    expect(hub.log.length).toBe(before);
    const none = await caught(pullDatasetFile('mesp/chats', 'main', 'data/nope.jsonl', hubSettings(over, {})));
    expect(none.message).toMatch(/dataset mesp\/chats has no file data\/nope\.jsonl at main/);
    const syntax = await caught(resolveDataRef('hf://datasets/mesp/chats', { hub: over }));
    expect(syntax.message).toMatch(/names no file of the dataset: write hf:\/\/datasets\/OWNER\/NAME\[@REV\]\/PATH\.jsonl/);
  });

  it('resolveInputs turns a job\'s model and data references into paths in one call', async () => {
    const { over } = fresh();
    const local = join(root, 'val.jsonl');
    writeFileSync(local, '{"text":"hi"}\n');
    const r = await resolveInputs({ modelDir: 'mesp/demo', dataPath: 'hf://datasets/mesp/chats/data/train.jsonl', valPath: local, other: 1 }, { hub: over });
    expect(r.modelDir).toMatch(/models--mesp--demo\/snapshots\/[0-9a-f]{40}$/);
    expect(r.dataPath).toMatch(/datasets--mesp--chats\/snapshots\/[0-9a-f]{40}\/data\/train\.jsonl$/);
    expect(r.valPath).toBe(local);
    expect(r.other).toBe(1);
  });
});

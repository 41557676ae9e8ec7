// `mesp pull` and `mesp models` as a user runs them: the real CLI in a child process, HF_ENDPOINT pointing at a local
// hub on 127.0.0.1 (tests/helpers/hub-server.ts). A pull whose connection is cut in the middle of the weights
// completes with the file's sha256 matching; a corrupted download fails with exit 5, the file and both hashes named
// and nothing in the snapshot; a missing repo or revision, a gated repo without a token and a model that is not Qwen2
// are exit 5 with a message that says what to do; the token (HF_TOKEN or --token) never appears in the output;
// HF_HUB_OFFLINE=1 reads the cache only and names what is missing; Ctrl-C while `mesp train --model OWNER/NAME`
// pulls stops it before the first step (exit 130), keeping the bytes. The flags come from the contract's schemas.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoDatasetJsonl, demoModelFiles } from '../../core/model/demo';
import { MODELS, PULL, cliPullReporter } from '../../core/node/cli/cmd-hub';
import { splitPositionals } from '../../core/node/cli/flags';
import { repoDir } from '../../core/node/hub/cache';
import { demoModelRepo, makeRepo, sha256, startHub, type HubServer } from '../helpers/hub-server';
import { runMesp, type CliRun } from '../helpers/cli';

const TOKEN = 'hf_cliTokenThatMustNotBePrinted42';
const demo = demoModelFiles();
const weights = demo.get('model.safetensors')!;
const root = mkdtempSync(join(tmpdir(), 'mesp-hub-cli-'));
let hub: HubServer;
let n = 0;

/** `mesp` in a child process against the local hub. */
function mesp(args: string[], env: Record<string, string> = {}): Promise<CliRun> {
  return runMesp(args, undefined, { env: { HF_ENDPOINT: hub.url, ...env } });
}

const cacheDir = (): string => join(root, `cache-${++n}`);

beforeAll(async () => {
  const llama = new Map(demo);
  llama.set('config.json', new TextEncoder().encode(JSON.stringify({ ...JSON.parse(new TextDecoder().decode(demo.get('config.json')!)), model_type: 'llama', architectures: ['LlamaForCausalLM'] })));
  hub = await startHub(
    demoModelRepo('mesp/demo', demo),
    demoModelRepo('mesp/gated', demo, { gated: true }),
    demoModelRepo('mesp/llama', llama),
    makeRepo('dataset', 'mesp/chats', { 'data/train.jsonl': demoDatasetJsonl('messages') }),
  );
  hub.tokens.add(TOKEN);
});

afterAll(async () => {
  await hub.stop();
  rmSync(root, { recursive: true, force: true });
});

describe('mesp pull', () => {
  it('completes through a connection cut mid-file, prints the snapshot, and the sha256 matches; mesp models lists it', async () => {
    const cache = cacheDir();
    hub.fault('mesp/demo', 'model.safetensors', { cutAfter: 1_500_000 });
    const start = hub.log.length;
    const r = await mesp(['pull', 'mesp/demo'], { HF_HUB_CACHE: cache });
    hub.clearFaults();
    console.log(`[mesp pull] exit ${r.status}\n${r.stderr}${r.stdout}`);
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/pulling mesp\/demo@main \(commit [0-9a-f]{7}\) into .*: 5 files, 2\.9 MB \(2\.9 MB to download\)/);
    expect(r.stderr).toMatch(/model\.safetensors: the connection was cut .*; retrying in \d\.\d s \(attempt 2 of at most 5\)/);
    expect(r.stderr).toMatch(/model\.safetensors 2\.9 MB sha256 ok/);
    const snapshot = r.stdout.trim().split('\n').at(-1)!;
    expect(snapshot).toMatch(new RegExp(`^${cache}/models--mesp--demo/snapshots/[0-9a-f]{40}$`));
    expect(sha256(readFileSync(join(snapshot, 'model.safetensors')))).toBe(sha256(weights));
    expect(hub.log.slice(start).some((q) => q.path.startsWith('/lfs-store/') && /^bytes=[1-9]\d*-$/.test(q.range ?? ''))).toBe(true);

    const listed = await mesp(['models', '--json'], { HF_HUB_CACHE: cache });
    expect(JSON.parse(listed.stdout)).toMatchObject({ cacheDir: cache, repos: [{ repo: 'mesp/demo', kind: 'model', refs: ['main'], complete: true, snapshotDir: snapshot, bytes: 2918802 }] });
    const table = await mesp(['models', '--cache-dir', cache]);
    expect(table.stdout).toMatch(/\| mesp\/demo \| model \| main +\| [0-9a-f]{7} \| 2\.9 MB \| yes +\|/);
  }, 60_000);

  it('refuses a corrupted download with exit 5, naming the file and both hashes, and leaves nothing in the snapshot', async () => {
    const cache = cacheDir();
    hub.fault('mesp/demo', 'model.safetensors', { corruptAt: 2_000_000 });
    const r = await mesp(['pull', 'mesp/demo', '--cache-dir', cache]);
    hub.clearFaults();
    const bad = weights.slice();
    bad[2_000_000] ^= 0x5a;
    console.log(`[mesp pull, corrupted] exit ${r.status}: ${r.stderr.trim().split('\n').at(-1)}`);
    expect(r.status).toBe(5);
    expect(r.stderr).toContain(`mesp pull: mesp/demo@`);
    expect(r.stderr).toContain(`/model.safetensors: sha256 mismatch: the hub reports ${sha256(weights)}, the downloaded file has ${sha256(bad)}`);
    expect(existsSync(join(repoDir(cache, 'model', 'mesp/demo'), 'snapshots'))).toBe(false);
    expect(JSON.parse((await mesp(['models', '--json', '--cache-dir', cache])).stdout).repos).toEqual([]);
  }, 60_000);

  it('says clearly when the repo, the revision or the access is wrong, or the model is not Qwen2 (exit 5)', async () => {
    const cases: [string[], RegExp][] = [
      [['pull', 'mesp/nope'], /model mesp\/nope does not exist on http:\/\/127\.0\.0\.1:\d+ \(or it is private: give a token with --token or HF_TOKEN\)/],
      [['pull', 'mesp/demo', '--revision', 'v0-nope'], /revision "v0-nope" does not exist in model mesp\/demo/],
      [['pull', 'mesp/gated'], /model mesp\/gated is gated: accept its conditions on .*, then give a token with --token or HF_TOKEN/],
      [['pull', 'mesp/llama'], /mesp\/llama is a "llama" model \(LlamaForCausalLM\) by its config\.json, not Qwen2: MeSP Studio trains Qwen2 and Qwen2\.5 models only\. Only config\.json was read; no weights were downloaded/],
    ];
    for (const [args, want] of cases) {
      const r = await mesp([...args, '--cache-dir', cacheDir()]);
      expect([args.join(' '), r.status, r.stderr]).toEqual([args.join(' '), 5, expect.stringMatching(want)]);
    }
    const usage = await mesp(['pull']);
    expect([usage.status, usage.stderr]).toEqual([2, expect.stringMatching(/give the hub id/)]);
  }, 120_000);

  it('sends HF_TOKEN or --token for a gated repo and never prints it', async () => {
    for (const how of ['HF_TOKEN', '--token'] as const) {
      const cache = cacheDir();
      const mark = hub.log.length;
      const r = how === 'HF_TOKEN'
        ? await mesp(['pull', 'mesp/gated', '--cache-dir', cache], { HF_TOKEN: TOKEN })
        : await mesp(['pull', 'mesp/gated', '--cache-dir', cache, '--token', TOKEN, '--json']);
      expect([how, r.status]).toEqual([how, 0]);
      expect(hub.log.slice(mark).filter((q) => q.path.includes('/resolve/')).every((q) => q.auth === `Bearer ${TOKEN}`)).toBe(true);
      expect(`${r.stdout}${r.stderr}`).not.toContain(TOKEN);
    }
    const refused = await mesp(['pull', 'mesp/gated', '--cache-dir', cacheDir(), '--token', 'hf_notGrantedSecret']);
    expect([refused.status, refused.stderr]).toEqual([5, expect.stringMatching(/has not been granted access/)]);
    expect(`${refused.stdout}${refused.stderr}`).not.toContain('hf_notGrantedSecret');
    const malformed = await mesp(['pull', 'mesp/gated', '--cache-dir', cacheDir()], { HF_TOKEN: 'secret-without-prefix' });
    expect([malformed.status, malformed.stderr]).toEqual([5, expect.stringMatching(/HF_TOKEN\) is not an access token/)]);
    expect(malformed.stderr).not.toContain('secret-without-prefix');
  }, 120_000);

  it('pulls a dataset\'s jsonl file and prints its path', async () => {
    const r = await mesp(['pull', 'hf://datasets/mesp/chats/data/train.jsonl', '--cache-dir', cacheDir()]);
    expect(r.status).toBe(0);
    const file = r.stdout.trim().split('\n').at(-1)!;
    expect(file).toMatch(/datasets--mesp--chats\/snapshots\/[0-9a-f]{40}\/data\/train\.jsonl$/);
    expect(readFileSync(file, 'utf8')).toBe(demoDatasetJsonl('messages'));
  }, 60_000);
});

describe('Ctrl-C while mesp train pulls its model on first use', () => {
  it('stops the pull before the first step: exit 130, no run folder, the bytes kept in the cache for the next try', async () => {
    const cache = cacheDir();
    const data = join(root, 'ctrl-c.jsonl');
    writeFileSync(data, demoDatasetJsonl('text'));
    const out = join(root, 'ctrl-c-run');
    hub.fault('mesp/demo', 'model.safetensors', { stallAfter: 1_000_000 }); // the weights hang after 1 MB
    let sent = false;
    const r = await runMesp(['train', '--model', 'mesp/demo', '--data', data, '--out', out, '--steps', '1'], undefined, {
      env: { HF_ENDPOINT: hub.url, HF_HUB_CACHE: cache },
      onErrLine: (line, kill) => {
        if (sent || !/tokenizer_config\.json .* ok/.test(line)) return;
        sent = true;
        // The weights are next: signal once their first megabyte is in the cache.
        const blobs = join(repoDir(cache, 'model', 'mesp/demo'), 'blobs');
        const wait = setInterval(() => {
          const part = existsSync(blobs) ? readdirSync(blobs).find((b) => b.endsWith('.incomplete')) : undefined;
          if (part && statSync(join(blobs, part)).size >= 1_000_000) {
            clearInterval(wait);
            kill('SIGINT');
          }
        }, 20);
      },
    });
    hub.clearFaults();
    console.log(`[mesp train, Ctrl-C in the pull] exit ${r.status}\n${r.stderr}`);
    expect(sent).toBe(true);
    expect([r.status, r.stderr]).toEqual([130, expect.stringMatching(/SIGINT: stopping before the first step/)]);
    expect(r.stderr).toMatch(/stopped before the first step: the pull of mesp\/demo@[0-9a-f]{7}\/model\.safetensors was cancelled; the bytes downloaded so far are kept/);
    expect(existsSync(out), 'no run folder').toBe(false);
    const blobs = join(repoDir(cache, 'model', 'mesp/demo'), 'blobs');
    expect(readdirSync(blobs).filter((b) => b.endsWith('.incomplete')).map((b) => statSync(join(blobs, b)).size)).toEqual([1_000_000]);
  }, 120_000);
});

describe('the flags of mesp pull and mesp models', () => {
  it('come from the contract\'s schemas: the id anywhere among them, --help from the fields, bad values one line each', () => {
    for (const argv of [['mesp/demo', '--revision', 'v1'], ['--revision', 'v1', 'mesp/demo'], ['--revision=v1', 'mesp/demo']]) {
      const { words, flags } = splitPositionals(argv, PULL.table);
      expect([argv.join(' '), words, PULL.parse(flags).values]).toEqual([argv.join(' '), ['mesp/demo'], { revision: 'v1', json: false }]);
    }
    // A flag's value is never taken for the id, whatever it looks like.
    expect(splitPositionals(['--cache-dir', 'a/b', '--token', 'hf_x', 'mesp/demo', '--json'], PULL.table).words).toEqual(['mesp/demo']);
    expect(PULL.help).toMatch(/Hugging Face Hub:\n(.*\n)*  --cache-dir DIR +the Hugging Face cache \(default HF_HUB_CACHE/);
    expect(PULL.help).toMatch(/--revision REV +branch, tag or commit/);
    expect(PULL.help).toMatch(/--token T +for gated and private repos \(default HF_TOKEN\); never printed/);
    expect(MODELS.help).toMatch(/--cache-dir DIR/);
    expect(() => PULL.parse(['--revision', 'a b'])).toThrow(/^--revision: give a branch, tag or commit of the repo \(e\.g\. main\), got "a b"$/);
    expect(() => PULL.parse(['--revison', 'v1'])).toThrow(/unknown flag --revison; did you mean --revision\?/);
    expect(() => MODELS.parse(['--token', 'hf_x'])).toThrow(/unknown flag --token/);
  });
});

describe('the progress the CLI draws', () => {
  it('shows bytes, rate and ETA per file and in total on a TTY, and a line per verified file and retry', () => {
    let text = '';
    const tty = { isTTY: true, columns: 220, write: (s: string) => ((text += s), true) } as unknown as NodeJS.WriteStream;
    const report = cliPullReporter(tty);
    const files = [{ path: 'model.safetensors', bytes: 3e9, sha256: 'a'.repeat(64), state: 'partial' as const, haveBytes: 1e9 }];
    report({ type: 'plan', repo: 'Qwen/Qwen2.5-1.5B', kind: 'model', revision: 'main', commit: 'c'.repeat(40), cacheDir: '/c', files, totalBytes: 3e9, haveBytes: 1e9, downloadBytes: 2e9 });
    report({ type: 'progress', path: 'model.safetensors', fileBytes: 1.5e9, fileTotal: 3e9, fileRate: 50e6, fileEtaSeconds: 30, doneBytes: 1.5e9, totalBytes: 3e9, rate: 50e6, etaSeconds: 30 });
    report({ type: 'retry', path: 'model.safetensors', attempt: 1, maxAttempts: 5, delaySeconds: 1, reason: 'HTTP 503' });
    report({ type: 'file', path: 'model.safetensors', bytes: 3e9, check: 'sha256', digest: 'a'.repeat(64), resumedFrom: 1e9 });
    expect(text).toContain('pulling Qwen/Qwen2.5-1.5B@main (commit ccccccc) into /c: 1 file, 3000.0 MB (2000.0 MB to download, resuming 1000.0 MB)');
    expect(text).toMatch(/pull \[#{12}\.{12}\] 1500\.0 MB\/3000\.0 MB 50% elapsed \d+:\d\d ETA 0:30 50\.0 MB\/s \| model\.safetensors 1500\.0 MB\/3000\.0 MB 50\.0 MB\/s ETA 0:30/);
    expect(text).toContain('model.safetensors: HTTP 503; retrying in 1.0 s (attempt 2 of at most 5)');
    expect(text).toContain('model.safetensors 3000.0 MB sha256 ok (resumed at 1000.0 MB)');
  });
});

describe('HF_HUB_OFFLINE=1', () => {
  it('refuses to pull, and a --model id that is not complete in the cache names what is missing (before any GPU work)', async () => {
    const cache = cacheDir();
    expect((await mesp(['pull', 'mesp/demo', '--cache-dir', cache])).status).toBe(0);
    const data = join(root, 'rows.jsonl');
    writeFileSync(data, '{"text": "hello"}\n');
    const env = { HF_HUB_CACHE: cache, HF_HUB_OFFLINE: '1' };
    const start = hub.log.length;
    const pull = await mesp(['pull', 'mesp/demo'], env);
    expect([pull.status, pull.stderr]).toEqual([5, expect.stringMatching(/HF_HUB_OFFLINE is set: pulling mesp\/demo needs the network/)]);
    const absent = await mesp(['eval', '--model', 'mesp/other', '--data', data], env);
    expect([absent.status, absent.stderr]).toEqual([5, expect.stringMatching(/mesp eval: HF_HUB_OFFLINE=1: mesp\/other is not in the cache .* \(no models--mesp--other\/refs\/main\)/)]);
    rmSync(join(repoDir(cache, 'model', 'mesp/demo'), 'blobs', sha256(weights)));
    const partial = await mesp(['eval', '--model', 'mesp/demo', '--data', data], env);
    expect([partial.status, partial.stderr]).toEqual([5, expect.stringMatching(/HF_HUB_OFFLINE=1: mesp\/demo \(commit [0-9a-f]{7}\) is in the cache .*, but model\.safetensors is missing/)]);
    expect(hub.log.length).toBe(start); // offline means no request at all
    const listed = JSON.parse((await mesp(['models', '--json'], env)).stdout);
    expect(listed.repos).toMatchObject([{ repo: 'mesp/demo', complete: false, missing: ['model.safetensors'] }]);
  }, 120_000);
});

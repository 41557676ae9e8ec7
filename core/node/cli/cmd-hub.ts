// `mesp pull` and `mesp models`: models (and dataset files) from the Hugging Face Hub into the standard HF cache, and
// what that cache holds (core/node/hub). Also the progress drawing of every pull in the CLI, including the ones a
// `--model OWNER/NAME` starts on first use: bytes, rate and ETA per file and in total on stderr (a bar on a TTY, a
// line per file otherwise), so stdout stays clean for --json. Flags from core/api/contract/hub.ts (core/node/cli/flags.ts).
import { HubCacheFlagsSchema, HubPullFlagsSchema, type PullEvent } from '../../api/contract';
import { listCached } from '../hub/cache';
import { pullDatasetFile, pullModel } from '../hub/pull';
import { parseDataRef, parseModelRef } from '../hub/refs';
import { hubCacheDir, hubSettings } from '../hub/settings';
import { UsageError, command, splitPositionals } from './flags';
import { mb, table } from './format';
import { ProgressBar, formatSeconds } from './progress';

const rate = (bps: number): string => `${(bps / 1e6).toFixed(1)} MB/s`;
const size = (n: number): string => (n < 1e6 ? `${(n / 1e3).toFixed(1)} kB` : mb(n));
const eta = (s: number | null): string => formatSeconds(s ?? NaN);

/** The CLI's listener of pull events: a plan line, a progress bar (TTY), a line per verified file and per retry. */
export function cliPullReporter(stream: NodeJS.WriteStream = process.stderr): (e: PullEvent) => void {
  let bar: ProgressBar | null = null;
  const tty = !!stream.isTTY;
  const line = (text: string): void => {
    stream.write(`${tty ? '\r\x1b[2K' : ''}${text}\n`);
  };
  return (e) => {
    switch (e.type) {
      case 'plan': {
        const resumed = e.files.filter((f) => f.state === 'partial').reduce((s, f) => s + f.haveBytes, 0);
        line(`pulling ${e.kind === 'dataset' ? 'dataset ' : ''}${e.repo}@${e.revision} (commit ${e.commit.slice(0, 7)}) into ${e.cacheDir}: ` +
          `${e.files.length} file${e.files.length === 1 ? '' : 's'}, ${mb(e.totalBytes)}` +
          (e.downloadBytes ? ` (${mb(e.downloadBytes)} to download${resumed ? `, resuming ${mb(resumed)}` : ''})` : ', all in the cache already'));
        bar = new ProgressBar('pull', e.totalBytes, stream, mb);
        break;
      }
      case 'progress':
        bar?.update(e.doneBytes, `${rate(e.rate)} | ${e.path} ${mb(e.fileBytes)}/${mb(e.fileTotal)} ${rate(e.fileRate)} ETA ${eta(e.fileEtaSeconds)}`, e.etaSeconds ?? NaN);
        break;
      case 'retry':
        line(`  ${e.path || 'request'}: ${e.reason}; retrying in ${e.delaySeconds.toFixed(1)} s (attempt ${e.attempt + 1} of at most ${e.maxAttempts})`);
        break;
      case 'file':
        line(`  ${e.path} ${size(e.bytes)} ${e.check} ok${e.resumedFrom ? ` (resumed at ${size(e.resumedFrom)})` : ''}`);
        break;
      case 'done':
        bar?.done();
        bar = null;
        break;
      default:
        break;
    }
  };
}

export const PULL = command({
  usage: [
    'mesp pull OWNER/NAME[@REV] [--revision REV] [--cache-dir DIR] [--token T] [--json]',
    'mesp pull hf://datasets/OWNER/NAME[@REV]/PATH.jsonl [--cache-dir DIR] [--token T] [--json]',
  ],
  about: 'Download a Qwen2 model from the Hugging Face Hub into the Hugging Face cache and print where its snapshot is\n' +
    '(use it as --model DIR, or pass --model OWNER/NAME to any command: pulled on first use, then read from the cache).\n' +
    'Only config.json, generation_config.json, tokenizer.json, tokenizer_config.json, chat_template.jinja and the\n' +
    'safetensors weights (model.safetensors, or the index and its shards) are fetched; pickled *.bin weights never are,\n' +
    'and a config.json that is not Qwen2 is refused before any weights move. Interrupted downloads resume; cut\n' +
    'connections, 5xx answers and timeouts are retried with backoff; every file is checked against the hub\'s sha256.\n' +
    'Environment: HF_ENDPOINT (a mirror or a local hub), HF_TOKEN, HF_HUB_CACHE, HF_HOME, HF_HUB_OFFLINE=1 (cache only).',
  shape: [HubPullFlagsSchema],
  schema: HubPullFlagsSchema,
});

export async function cmdPull(argv: string[]): Promise<number> {
  const { words, flags } = splitPositionals(argv, PULL.table);
  if (words.length !== 1) {
    throw new UsageError(words.length
      ? `give one hub id, got ${words.length}: ${words.join(' ')}`
      : 'give the hub id, e.g. `mesp pull Qwen/Qwen2.5-0.5B-Instruct`');
  }
  const [ref] = words;
  const v = PULL.parse(flags).values;
  const s = hubSettings({ cacheDir: v.cacheDir, token: v.token });
  const data = parseDataRef(ref);
  const model = data ? null : parseModelRef(ref);
  if (!data && !model) throw new UsageError(`"${ref}" is not a hub id: give OWNER/NAME (e.g. Qwen/Qwen2.5-0.5B-Instruct) or hf://datasets/OWNER/NAME/PATH.jsonl`);
  const r = (data ?? model)!;
  if (v.revision !== undefined) {
    if (ref.includes('@')) throw new UsageError(`give the revision once: "${ref}" has one, and --revision ${v.revision} another`);
    r.revision = v.revision;
  }
  // Ctrl-C stops the transfer cleanly: the bytes so far stay in the cache and the next pull resumes them.
  const ac = new AbortController();
  const onInt = (): void => ac.abort();
  process.once('SIGINT', onInt);
  const hooks = { onEvent: cliPullReporter(), signal: ac.signal };
  let res;
  try {
    res = r.kind === 'dataset' ? await pullDatasetFile(r.repo, r.revision, r.file!, s, hooks) : await pullModel(r.repo, r.revision, s, hooks);
  } finally {
    process.off('SIGINT', onInt);
  }
  if (v.json) {
    process.stdout.write(JSON.stringify(res) + '\n');
    return 0;
  }
  const bytes = res.files.reduce((n, f) => n + f.bytes, 0);
  console.log(`${res.repo}@${res.revision} is commit ${res.commit}: ${res.files.length} file${res.files.length === 1 ? '' : 's'}, ${mb(bytes)}, verified.`);
  console.log(res.path);
  return 0;
}

export const MODELS = command({
  usage: ['mesp models [--cache-dir DIR] [--json]'],
  about: 'The models (and dataset files) in the Hugging Face cache: revision, commit, size on disk, whether each is complete\n' +
    '(config.json and every weights file there), and its snapshot folder (usable as --model DIR).',
  shape: [HubCacheFlagsSchema],
  schema: HubCacheFlagsSchema,
});

export function cmdModels(argv: string[]): number {
  const v = MODELS.parse(argv).values;
  const cacheDir = hubCacheDir({ cacheDir: v.cacheDir }); // listing the cache needs no endpoint or token
  const repos = listCached(cacheDir);
  if (v.json) {
    process.stdout.write(JSON.stringify({ cacheDir, repos }) + '\n');
    return 0;
  }
  if (!repos.length) {
    console.log(`no models in ${cacheDir} (pull one: mesp pull Qwen/Qwen2.5-0.5B-Instruct)`);
    return 0;
  }
  console.log(`cache ${cacheDir}\n`);
  console.log(table(['repo', 'type', 'revision', 'commit', 'size', 'complete', 'snapshot'], repos.map((r) => [
    r.repo, r.kind, r.refs.join(', ') || '—', r.commit ? r.commit.slice(0, 7) : '—', mb(r.bytes),
    r.complete ? 'yes' : `no${r.missing.length ? `: missing ${r.missing.join(', ')}` : ''}${r.partialBytes ? ` (${mb(r.partialBytes)} to resume)` : ''}`,
    r.snapshotDir ?? '—',
  ])));
  return 0;
}

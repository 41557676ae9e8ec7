// The command line behaves like a good CLI (core/node/cli/flags.ts over the zod schemas of core/api): every flag of
// `mesp train --help` is a TrainRequest field or one of train's own options, and every field has its flag there and
// reads back to itself; every malformed or out-of-range value is exit 2 with one line naming the flag, the value and
// what is allowed (never a zod dump or an internal field name, never a doubled prefix); negative numbers are values;
// unknown flags get a did-you-mean; nothing is overwritten without --force. Real processes (bin/mesp.js), no GPU.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { fieldsOf, type FieldInfo } from '../../core/api/fields';
import { TrainRequestSchema, TrainSpecSchema } from '../../core/api/train';
import { TRAIN, TrainOptionsSchema } from '../../core/node/cli/cmd-train';
import { readFlags, UsageError, validate } from '../../core/node/cli/flags';
import { writeDemoDataset, writeDemoModel } from '../../core/node/demo';
import { runMesp } from '../helpers/cli';

const root = mkdtempSync(join(tmpdir(), 'mesp-cli-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const model = join(root, 'model');
writeDemoModel(model);
const data = writeDemoDataset(join(root, 'data.jsonl'));

const mesp = (...args: string[]) => runMesp(args);

/** A valid value of a field other than its default, as typed on a command line, and as read. */
function sample(f: FieldInfo): { text: string | null; value: unknown } {
  switch (f.type.kind) {
    case 'boolean':
      return { text: null, value: f.defaultValue !== true };
    case 'number': {
      const v = f.type.int ? (f.type.min?.value ?? 0) + 3 : (f.type.max?.value ?? 1) / 4;
      return { text: String(v), value: v };
    }
    case 'enum': {
      const v = f.type.options.find((o) => o !== f.defaultValue)!;
      return { text: v, value: v };
    }
    case 'list':
      return { text: f.type.options.slice(0, 3).join(','), value: f.type.options.slice(0, 3) };
    default:
      return { text: `/some/${f.key}`, value: `/some/${f.key}` };
  }
}

describe('mesp train --help and TrainSpec', () => {
  it('every flag in --help is a TrainRequest field or a train option, and every field\'s flag is in --help', async () => {
    const r = await mesp('train', '--help');
    expect(r.status).toBe(0);
    const flags = [...r.stdout.matchAll(/^ {2}--([a-z][a-z0-9-]*)/gm)].map((m) => m[1]);
    const keys = flags.map((f) => {
      const plain = TRAIN.table.byFlag.get(f) ?? (f.startsWith('no-') ? TRAIN.table.byFlag.get(f.slice(3)) : undefined);
      expect(plain, `--${f} in --help maps to a field`).toBeDefined();
      return plain!.key;
    });
    const fields = [...Object.keys(TrainRequestSchema.shape), ...Object.keys(TrainOptionsSchema.shape)];
    expect([...keys].sort(), 'the fields behind the flags in --help').toEqual([...fields].sort());
    for (const f of fieldsOf(TrainSpecSchema)) {
      expect(flags, `${f.key}'s flag in --help`).toContain(f.type.kind === 'boolean' && f.defaultValue === true ? `no-${f.flag}` : f.flag);
    }
  });

  it('each TrainSpec field reads back from its flag to the same value', () => {
    for (const f of fieldsOf(TrainSpecSchema)) {
      const s = sample(f);
      const argv = s.text === null ? [s.value ? `--${f.flag}` : `--no-${f.flag}`] : [`--${f.flag}`, s.text];
      const read = readFlags(argv, TRAIN.table);
      expect(read.given, `${f.key}: the field its flag sets`).toEqual([f.key]);
      expect(read.values[f.key], `${f.key}: the value read from ${argv.join(' ')}`).toEqual(s.value);
      expect(validate(TrainSpecSchema.pick({ [f.key]: true } as never), read, TRAIN.table), `${f.key}: valid`).toMatchObject({ [f.key]: s.value });
    }
  });

  it('values are taken as given: --lr -0.01 is a value (then refused as not > 0), --seq-len=64 works', () => {
    const read = readFlags(['--lr', '-0.01', '--seq-len=64', '--no-chunked-head'], TRAIN.table);
    expect(read.values).toEqual({ lr: -0.01, seqLen: 64, chunkedHead: false });
    expect(() => validate(TrainSpecSchema, read, TRAIN.table)).toThrow(new UsageError('--lr must be > 0, got -0.01'));
    expect(() => readFlags(['--sq-len', '5'], TRAIN.table)).toThrow(/unknown flag --sq-len; did you mean --seq-len\?/);
    expect(() => readFlags(['--seq-len', '8', '--seq-len', '9'], TRAIN.table)).toThrow(/--seq-len is given twice/);
    expect(() => readFlags(['--out'], TRAIN.table)).toThrow(/--out needs a value \(RUN_DIR\)/);
    expect(readFlags(['--cap-bytes', '3.2MB'], TRAIN.table).values).toEqual({ capBytes: 3_200_000 });
  });
});

describe('usage errors: exit 2, one line naming the flag', () => {
  const base = ['train', '--model', model, '--data', data, '--out', join(root, 'never')];
  const cases: [string[], RegExp][] = [
    [['--seq-len', '100000'], /^mesp train: --seq-len must be ≤ 32768, got 100000/],
    [['--lr', '-0.01'], /^mesp train: --lr must be > 0, got -0\.01/],
    [['--rank', '0'], /^mesp train: --rank must be ≥ 1, got 0/],
    [['--rank', '2.5'], /^mesp train: --rank must be a whole number, got 2\.5/],
    [['--batch', 'two'], /^mesp train: --batch must be a whole number, got "two"/],
    [['--method', 'sgd'], /^mesp train: --method must be one of full, mebp, mesp, mezo, got "sgd"/],
    [['--optimizer', 'adam'], /^mesp train: --optimizer must be one of sgd, adamw, got "adam"/],
    [['--targets', 'q,mlp'], /^mesp train: --targets: unknown LoRA target "mlp"/],
    [['--val-fraction', '0.9'], /^mesp train: --val-fraction must be ≤ 0\.5, got 0\.9/],
    [['--clip-norm', '0'], /^mesp train: --clip-norm must be > 0, got 0/],
    [['--cap-bytes', '-5'], /^mesp train: --cap-bytes must be > 0, got -5/],
    [['--steps', '3', '--epochs', '2'], /^mesp train: give --epochs or --steps, not both/],
    [['--seq-lenght', '64'], /^mesp train: unknown flag --seq-lenght; did you mean --seq-len\?/],
    [['--store-h=yes'], /^mesp train: --store-h takes no value/],
  ];
  it.each(cases)('mesp train %j', async (extra, re) => {
    const r = await mesp(...base, ...extra);
    const lines = r.stderr.trim().split('\n');
    expect(r.status, r.stderr).toBe(2);
    expect(lines, 'one line').toHaveLength(1);
    expect(lines[0]).toMatch(re);
    expect(lines[0], 'no doubled prefix').not.toMatch(/mesp train: mesp train:/);
    expect(lines[0], 'no JSON dump').not.toMatch(/[{[]"/);
    expect(lines[0], 'no internal field name').not.toMatch(/\b(seqLen|valFraction|clipNorm|capBytes|modelDir|outDir)\b/);
  });

  it('a missing input names its flag; --resume takes no settings but the cap', async () => {
    let r = await mesp('train', '--model', model, '--out', join(root, 'never'));
    expect([r.status, r.stderr.trim()]).toEqual([2, 'mesp train: --data is required (see `mesp train --help`)']);
    r = await mesp('train', '--resume', join(root, 'never'), '--rank', '4');
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^mesp train: --rank cannot be changed on --resume/);
  });

  it.each([
    [['eval', '--model', model, '--data', data, '--max-rows', '0'], /^mesp eval: --max-rows must be > 0, got 0/],
    [['grads', '--model', model, '--data', data, '--adapter', model, '--row', '-1', '--compare', 'mesp'], /^mesp grads: --row must be ≥ 0, got -1/],
    [['grads', '--model', model, '--data', data, '--adapter', model, '--compare', 'mesp,sgd'], /^mesp grads: --compare must be one of full, mebp, mesp, mezo, got "mesp,sgd"/],
    [['bench', '--shape', 'qwen2.5-0.5b', '--seq-len', '1'], /^mesp bench: --seq-len must be ≥ 2, got 1/],
    [['export', '--run', root, '--format', 'peft', '--dtype', 'f64'], /^mesp export: --dtype must be one of f32, f16, bf16, got "f64"/],
    [['export', '--run', root, '--format', 'gguf-merged', '--gguf-type', 'q5_k'], /^mesp export: --gguf-type must be one of f32, f16, q8_0, q4_0, got "q5_k"/],
    [['export', '--run', root, '--format', 'gguf-merged', '--parity-rows', '65'], /^mesp export: --parity-rows must be ≤ 64, got 65/],
    [['export', '--run', root, '--format', 'peft,gguf-model'], /^mesp export: --format: unknown export format "gguf-model"/],
    [['demo-model'], /^mesp demo-model: --out is required/],
    [['demo-model', '--out', join(root, 'never'), '--seed', '7'], /^mesp demo-model: --seed applies only with --shape/],
    [['demo-model', '--out', join(root, 'never'), '--shape', 'qwen2.5-0.5b', '--seed', '-1'], /^mesp demo-model: --seed must be ≥ 0, got -1/],
    [['llama-bench', '--gguf', join(root, 'm.gguf'), '--tokens', '1'], /^mesp llama-bench: --tokens must be ≥ 2, got 1/],
    [['llama-bench', '--gguf', join(root, 'm.gguf'), '--threads', '0'], /^mesp llama-bench: --threads must be ≥ 1, got 0/],
    [['llama-bench', '--tokens', '8'], /^mesp llama-bench: --gguf is required/],
    [['profiles', '--jsn'], /^mesp profiles: unknown flag --jsn; did you mean --json\?/],
  ])('mesp %j', async (args, re) => {
    const r = await mesp(...args);
    expect(r.status, r.stderr).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(re);
  });
});

describe('nothing is overwritten without --force', () => {
  it('demo-model --out refuses a non-empty folder and --dataset an existing file', async () => {
    const out = join(root, 'demo-out');
    mkdirSync(out);
    writeFileSync(join(out, 'notes.txt'), 'mine');
    let r = await mesp('demo-model', '--out', out);
    expect(r.status, r.stderr).toBe(5);
    expect(r.stderr).toMatch(/is not empty; add --force/);
    expect(readFileSync(join(out, 'notes.txt'), 'utf8')).toBe('mine');
    const fresh = join(root, 'demo-fresh');
    r = await mesp('demo-model', '--out', fresh, '--dataset', data);
    expect(r.status, r.stderr).toBe(5);
    expect(r.stderr).toMatch(/data\.jsonl already exists; add --force/);
    r = await mesp('demo-model', '--out', out, '--dataset', join(root, 'copy.jsonl'), '--force');
    expect(r.status, r.stderr).toBe(0);
    expect(readFileSync(join(out, 'notes.txt'), 'utf8')).toBe('mine');
  });

  it('demo-model --shape refuses a non-empty --out and an existing --dataset too', async () => {
    const out = join(root, 'shape-out');
    mkdirSync(out);
    writeFileSync(join(out, 'notes.txt'), 'mine');
    let r = await mesp('demo-model', '--shape', 'qwen2.5-0.5b', '--out', out);
    expect(r.status, r.stderr).toBe(5);
    expect(r.stderr).toMatch(/shape-out is not empty; add --force to write the qwen2\.5-0\.5b model into it anyway/);
    r = await mesp('demo-model', '--shape', 'qwen2.5-0.5b', '--out', join(root, 'shape-fresh'), '--dataset', data);
    expect(r.status, r.stderr).toBe(5);
    expect(r.stderr).toMatch(/data\.jsonl already exists; add --force/);
    expect(readFileSync(join(out, 'notes.txt'), 'utf8')).toBe('mine');
  });

  it('grads --out refuses an existing file before any work', async () => {
    const out = join(root, 'grads.safetensors');
    writeFileSync(out, 'keep me');
    const r = await mesp('grads', '--model', model, '--data', data, '--adapter', join(root, 'no-adapter'), '--method', 'mesp', '--out', out);
    expect(r.status, r.stderr).toBe(5);
    expect(r.stderr).toMatch(/grads\.safetensors already exists; add --force to replace it/);
    expect(readFileSync(out, 'utf8')).toBe('keep me');
  });

  it('train --out refuses a folder of other files', async () => {
    const out = join(root, 'busy');
    mkdirSync(out);
    writeFileSync(join(out, 'x'), 'x');
    const r = await mesp('train', '--model', model, '--data', data, '--out', out, '--steps', '1');
    expect(r.status, r.stderr).toBe(5);
    expect(r.stderr).toMatch(/busy is a folder with other files in it/);
  });
});

describe('--help of every command', () => {
  it.each(['demo', 'eval', 'train', 'grads', 'bench', 'profiles', 'demo-model', 'export', 'llama-bench', 'import-adapter'])('mesp %s --help lists its flags', async (cmd) => {
    const r = await mesp(cmd, '--help');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^mesp ${cmd}`));
    expect(r.stdout).toMatch(/^ {2}--[a-z]/m);
  });
});

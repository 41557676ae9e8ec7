// The export service and CLI (core/node/export.ts, core/node/atomic.ts, `mesp export`, `mesp import-adapter`) on run
// folders over a tiny model (tests/helpers/runfolder.ts): the bundle's files, manifest.json (hashes checked against
// the files themselves), READMEs, the preview's sizes, the importer back to PEFT for every format, overwrite rules,
// and every bad input — no adapter, unknown format, a destination we cannot write, an adapter that does not fit —
// giving a clear error, exit code 5 and no partial file.
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BundleManifestSchema, type ExportResult } from '../../core/api/export';
import { ConfigError, ShapeError } from '../../core/common/errors';
import { readGgufLora } from '../../core/export/gguf';
import { readMlx } from '../../core/export/mlx';
import { readPeft } from '../../core/export/peft';
import { parseQwen2Config, type Qwen2Config } from '../../core/model/config';
import { AtomicWriter } from '../../core/node/atomic';
import { exportRun, importAdapter, parseFormats, previewExport } from '../../core/node/export';
import type { HostAdapter } from '../../core/train/lora';
import { ortLogits } from '../helpers/ort';
import { ref64 } from '../helpers/ref64';
import { listTree, makeRunFolder, randomAdapter, type RunFolder } from '../helpers/runfolder';
import { makeTinyModel, tokenRows, type TinyModel } from '../helpers/tiny';
import { runMain as cli } from '../helpers/cli';

let model: TinyModel;
let cfg: Qwen2Config;
let adapter: HostAdapter;
let run: RunFolder;
let work: string;
const cleanups: (() => void)[] = [];

beforeAll(() => {
  model = makeTinyModel({ tokenizer: true, tokenizerVocab: 600 });
  cleanups.push(model.cleanup);
  cfg = parseQwen2Config(JSON.parse(readFileSync(join(model.dir, 'config.json'), 'utf8')), 'config.json');
  adapter = randomAdapter(cfg, { rank: 4, alpha: 8, targets: ['q', 'v', 'down'], seed: 21, scale: 0.2 });
  run = makeRunFolder(model.dir, adapter);
  cleanups.push(run.cleanup);
  work = mkdtempSync(join(tmpdir(), 'mesp-export-'));
  cleanups.push(() => rmSync(work, { recursive: true, force: true }));
}, 120_000);
afterAll(() => cleanups.forEach((c) => c()));

const sha = (f: string): string => createHash('sha256').update(readFileSync(f)).digest('hex');

function expectAdapter(got: HostAdapter, want: HostAdapter): void {
  expect([got.rank, got.alpha, got.targets]).toEqual([want.rank, want.alpha, want.targets]);
  expect([...got.A.keys()].sort()).toEqual([...want.A.keys()].sort());
  for (const [k, v] of want.A) expect(got.A.get(k), `k ${k}`).toEqual(v);
  for (const [k, v] of want.B) expect(got.B.get(k), `k ${k}`).toEqual(v);
}

/** Run the CLI, capturing stdout/stderr; returns the exit code and the text. */

describe('exportRun: the deployment bundle', () => {
  let r: ExportResult;
  let out: string;
  beforeAll(async () => {
    out = join(work, 'bundle');
    r = await exportRun({ runDir: run.dir, formats: ['peft', 'gguf', 'mlx', 'onnx'], outDir: out, dtype: 'f32' });
  }, 120_000);

  it('writes every format, its README, README.md and manifest.json, and nothing else', () => {
    expect(listTree(out)).toEqual([
      'README.md', 'gguf/README.md', 'gguf/adapter.gguf', 'manifest.json',
      'mlx/README.md', 'mlx/adapter_config.json', 'mlx/adapters.safetensors',
      'onnx/README.md', 'onnx/model.onnx', 'onnx/tokenizer.json', 'onnx/tokenizer_config.json',
      'peft/README.md', 'peft/adapter_config.json', 'peft/adapter_model.safetensors',
    ]);
    for (const f of r.files) {
      expect(statSync(f.path).size, `file ${f.relPath}`).toBe(f.bytes);
      expect(sha(f.path), `file ${f.relPath}`).toBe(f.sha256);
    }
  });

  it('reads back exactly (f32) with every reader', () => {
    const p = (f: string): string => join(out, f);
    expectAdapter(readPeft(readFileSync(p('peft/adapter_config.json'), 'utf8'), readFileSync(p('peft/adapter_model.safetensors')), { config: 'c', weights: 'w' }), adapter);
    expectAdapter(readGgufLora(readFileSync(p('gguf/adapter.gguf')), 'a.gguf'), adapter);
    expectAdapter(readMlx(readFileSync(p('mlx/adapter_config.json'), 'utf8'), readFileSync(p('mlx/adapters.safetensors')), { config: 'c', weights: 'w' }), adapter);
  });

  it('manifest.json: base weights and tokenizer hashes, LoRA, target profile and predicted memory, every file', () => {
    const m = BundleManifestSchema.parse(JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')));
    expect(m).toEqual(JSON.parse(JSON.stringify(r.manifest)));
    const st = join(model.dir, 'model.safetensors');
    expect(m.baseModel.weights).toEqual([{ file: 'model.safetensors', bytes: statSync(st).size, sha256: sha(st) }]);
    expect(m.baseModel.weightsSha256).toBe(createHash('sha256').update(`${sha(st)}  model.safetensors\n`).digest('hex'));
    expect(m.baseModel.fingerprint).toBe(run.config.model.fingerprint);
    expect(m.baseModel.id).toBe(run.config.model.name);
    expect(m.baseModel.id).not.toContain('/tmp');
    expect(m.tokenizer!.files).toEqual([
      { file: 'tokenizer.json', sha256: sha(join(model.dir, 'tokenizer.json')) },
      { file: 'tokenizer_config.json', sha256: sha(join(model.dir, 'tokenizer_config.json')) },
    ]);
    expect(m.lora).toEqual({ rank: 4, alpha: 8, scale: 2, targets: ['q_proj', 'v_proj', 'down_proj'], layers: 2, parameters: 2 * (4 * (64 + 64) + 4 * (64 + 32) + 4 * (128 + 64)) });
    expect(m.quantization).toBe('none');
    expect(m.target.profile.id).toBe('phone-8gb');
    expect(m.target.inference.seqLen).toBe(64);
    expect(m.target.inference.predictedPeakBytes).toBeGreaterThan(m.target.inference.peakByCategory.weights);
    expect(m.target.inference.peakByCategory.adapter).toBe(4 * m.lora.parameters);
    expect(m.target.inference.fitsBudget).toBe(true);
    const listed = new Map(m.files.map((f) => [f.relPath, f]));
    expect([...listed.keys()].sort()).toEqual(listTree(out).filter((f) => f !== 'manifest.json'));
    for (const [rel, f] of listed) expect([rel, sha(join(out, rel))], `rel ${rel}`).toEqual([rel, f.sha256]);
    expect(m.readmes).toEqual({ peft: 'peft/README.md', gguf: 'gguf/README.md', mlx: 'mlx/README.md', onnx: 'onnx/README.md' });
  });

  it('each README gives the exact command', () => {
    const rd = (f: string): string => readFileSync(join(out, f), 'utf8');
    expect(rd('gguf/README.md')).toContain('llama-cli -m base.gguf --lora gguf/adapter.gguf');
    expect(rd('mlx/README.md')).toContain(`load("./${run.config.model.name}", adapter_path="mlx")`);
    expect(rd('mlx/README.md')).toContain('adapter_path="mlx"');
    expect(rd('peft/README.md')).toContain('PeftModel.from_pretrained(base, "peft")');
    expect(rd('onnx/README.md')).toContain('ort.InferenceSession("onnx/model.onnx"');
    expect(r.readme).toBe(rd('README.md'));
    for (const s of ['## PEFT adapter', '## GGUF LoRA adapter', '## MLX adapter', '## Merged ONNX model', 'Target device']) expect(r.readme, `s ${s}`).toContain(s);
  });

  it('the bundled ONNX model runs in onnxruntime-web and matches the float64 reference', async () => {
    const [row] = tokenRows(cfg.vocab, [9], 6);
    const want = ref64(model.cfg, model.weights, row.ids, row.targets, 1, 9, {
      rank: 4, alpha: 8, A: new Map([...adapter.A].map(([k, v]) => [k, Float64Array.from(v)])), B: new Map([...adapter.B].map(([k, v]) => [k, Float64Array.from(v)])),
    }).logits;
    const { logits } = await ortLogits(readFileSync(join(out, 'onnx/model.onnx')), [row.ids]);
    let d = 0;
    let s = 0;
    for (let i = 0; i < want.length; i++) {
      d = Math.max(d, Math.abs(logits[i] - want[i]));
      s = Math.max(s, Math.abs(want[i]));
    }
    expect(d / s).toBeLessThan(1e-4);
  }, 60_000);

  it('previews each format\'s size before writing, and what an export there would replace', async () => {
    const p = await previewExport({ runDir: run.dir, outDir: out, formats: ['peft', 'gguf', 'mlx', 'onnx'] });
    expect(p.lora).toEqual({ rank: 4, alpha: 8, targets: ['q_proj', 'v_proj', 'down_proj'], layers: 2 });
    const written = new Map(r.files.map((f) => [f.relPath, f.bytes]));
    for (const f of p.formats.flatMap((x) => x.files)) {
      if (f.exact) expect([f.relPath, f.bytes], `file ${f.relPath}`).toEqual([f.relPath, written.get(f.relPath)]);
      else expect(Math.abs(f.bytes - written.get(f.relPath)!) / written.get(f.relPath)!, `file ${f.relPath}`).toBeLessThan(0.01);
    }
    expect(p.existing.sort()).toEqual(listTree(out));
    expect((await previewExport(run.dir)).existing).toEqual([]);
  });

  it('never replaces existing files without overwrite; replaces them all with it', async () => {
    const before = new Map(listTree(out).map((f) => [f, sha(join(out, f))]));
    const err = await exportRun({ runDir: run.dir, formats: ['gguf'], outDir: out }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).field).toBe('overwrite');
    expect((err as Error).message).toMatch(/already holds .*gguf\/adapter\.gguf.*nothing was written/);
    expect(new Map(listTree(out).map((f) => [f, sha(join(out, f))]))).toEqual(before);
    const r2 = await exportRun({ runDir: run.dir, formats: ['gguf'], outDir: out, dtype: 'f16', overwrite: true });
    expect(r2.files.find((f) => f.relPath === 'gguf/adapter.gguf')!.dtype).toBe('f16');
    expect(listTree(out)).toEqual([...before.keys()]); // no temporaries, no backups
    expect(readGgufLora(readFileSync(join(out, 'gguf/adapter.gguf')), 'a').dtype).toBe('f16');
  }, 60_000);
});

describe('f16 and bf16 bundles', () => {
  it('write f16 / bf16 weights (ONNX in f16 for bf16) that read back within rounding', async () => {
    const out = join(work, 'bf16');
    const r = await exportRun({ runDir: run.dir, formats: parseFormats('all'), outDir: out, dtype: 'bf16' });
    const dt = Object.fromEntries(r.files.filter((f) => f.dtype).map((f) => [f.relPath, f.dtype]));
    expect(dt).toEqual({
      'peft/adapter_model.safetensors': 'bf16', 'gguf/adapter.gguf': 'bf16', 'mlx/adapters.safetensors': 'bf16', 'onnx/model.onnx': 'f16',
      // the GGUF models in --gguf-type (default f16), the merged safetensors in the base's dtype (the tiny base is f32)
      'gguf/base.gguf': 'f16', 'gguf/merged.gguf': 'f16', 'hf-merged/model-00001-of-00001.safetensors': 'f32',
    });
    const g = readGgufLora(readFileSync(join(out, 'gguf/adapter.gguf')), 'a');
    for (const [k, v] of adapter.A) {
      const got = g.A.get(k)!;
      for (let i = 0; i < v.length; i++) expect(Math.abs(got[i] - v[i]), `k ${k} i ${i}`).toBeLessThanOrEqual(Math.abs(v[i]) * 2 ** -8);
    }
  }, 60_000);
});

describe('import-adapter', () => {
  it('reads our PEFT, GGUF and MLX outputs back to a PEFT folder usable as --init-adapter', async () => {
    const out = join(work, 'imp-src');
    await exportRun({ runDir: run.dir, formats: ['peft', 'gguf', 'mlx'], outDir: out });
    for (const [from, format] of [['peft', 'peft'], ['gguf/adapter.gguf', 'gguf'], ['gguf', 'gguf'], ['mlx', 'mlx']] as const) {
      const dest = join(work, `imp-${from.replace('/', '-')}`);
      const res = await importAdapter({ from: join(out, from), outDir: dest, modelDir: model.dir });
      expect(res.format, `from ${from}`).toBe(format);
      expect(listTree(dest), `from ${from}`).toEqual(['adapter_config.json', 'adapter_model.safetensors']);
      const back = readPeft(readFileSync(join(dest, 'adapter_config.json'), 'utf8'), readFileSync(join(dest, 'adapter_model.safetensors')), { config: 'c', weights: 'w' });
      expectAdapter(back, adapter);
      expect(back.baseModel, `from ${from}`).toBe(run.config.model.name);
    }
    const c = await cli(['import-adapter', '--from', join(out, 'gguf/adapter.gguf'), '--out', join(work, 'imp-cli'), '--model', model.dir, '--json']);
    expect(c.code).toBe(0);
    expect(JSON.parse(c.out)).toMatchObject({ format: 'gguf', rank: 4, alpha: 8, targets: ['q_proj', 'v_proj', 'down_proj'] });
    // an adapter for another base is refused before anything is written
    const other = makeTinyModel({ hidden: 32, heads: 2, kvHeads: 1, intermediate: 64 });
    cleanups.push(other.cleanup);
    const bad = await cli(['import-adapter', '--from', join(out, 'mlx'), '--out', join(work, 'imp-bad'), '--model', other.dir]);
    expect(bad.code).toBe(5);
    expect(bad.err).toMatch(/lora_A has \d+ values, the model needs/);
    expect(existsSync(join(work, 'imp-bad'))).toBe(false);
  }, 60_000);
});

describe('bad input: a clear error, exit code 5, no partial file', () => {
  const noPartial = (dir: string, parent: string, before: string[]): void => {
    expect(existsSync(dir)).toBe(false);
    expect(listTree(parent)).toEqual(before);
  };

  it('a run folder with no adapter', async () => {
    const empty = makeRunFolder(model.dir, null);
    cleanups.push(empty.cleanup);
    const parent = mkdtempSync(join(work, 'p-'));
    const out = join(parent, 'out');
    await expect(exportRun({ runDir: empty.dir, formats: ['peft'], outDir: out })).rejects.toThrow(/has no adapter to export .*adapter_config\.json is missing/);
    const c = await cli(['export', '--run', empty.dir, '--format', 'all', '--out', out]);
    expect(c.code).toBe(5);
    expect(c.err).toMatch(/has not written a checkpoint yet/);
    noPartial(out, parent, []);
    const notRun = await cli(['export', '--run', parent, '--format', 'peft', '--out', out]);
    expect([notRun.code, notRun.err]).toEqual([5, expect.stringMatching(/not a run folder/)]);
  });

  it('a format we do not know', async () => {
    expect(() => parseFormats('peft,tflite')).toThrow(ConfigError);
    expect(() => parseFormats('peft,tflite')).toThrow(/unknown export format "tflite"; use peft, gguf, gguf-base, gguf-merged, mlx, onnx, hf-merged or all/);
    const parent = mkdtempSync(join(work, 'p-'));
    const out = join(parent, 'out');
    await expect(exportRun({ runDir: run.dir, formats: ['tflite' as 'peft'], outDir: out })).rejects.toThrow(/unknown export format "tflite"/);
    const c = await cli(['export', '--run', run.dir, '--format', 'tflite', '--out', out]);
    // On the command line a bad --format is a usage error (exit 2) naming the flag.
    expect([c.code, c.err]).toEqual([2, expect.stringMatching(/--format: unknown export format "tflite"/)]);
    const i = await cli(['import-adapter', '--from', run.dir, '--format', 'onnx', '--out', out]);
    expect([i.code, i.err]).toEqual([2, expect.stringMatching(/--format must be one of peft, gguf, mlx, got "onnx"/)]);
    noPartial(out, parent, []);
  });

  it('a destination we cannot write', async () => {
    const parent = mkdtempSync(join(work, 'p-'));
    writeFileSync(join(parent, 'afile'), 'x');
    const asFile = await cli(['export', '--run', run.dir, '--format', 'all', '--out', join(parent, 'afile')]);
    expect([asFile.code, asFile.err]).toEqual([5, expect.stringMatching(/is a file, not a folder/)]);
    const under = await cli(['export', '--run', run.dir, '--format', 'all', '--out', join(parent, 'afile', 'sub')]);
    expect([under.code, under.err]).toEqual([5, expect.stringMatching(/is a file, not a folder/)]);
    mkdirSync(join(parent, 'out', 'gguf', 'adapter.gguf'), { recursive: true }); // a folder where a file must go
    const inTheWay = await cli(['export', '--run', run.dir, '--format', 'all', '--out', join(parent, 'out'), '--force']);
    expect([inTheWay.code, inTheWay.err]).toEqual([5, expect.stringMatching(/a folder of that name is in the way/)]);
    expect(listTree(parent)).toEqual(['afile']);
    expect(readFileSync(join(parent, 'afile'), 'utf8')).toBe('x');
  });

  it('an adapter that does not fit the base model', async () => {
    const wrong = randomAdapter(parseQwen2Config({ ...JSON.parse(readFileSync(join(model.dir, 'config.json'), 'utf8')), intermediate_size: 96 }, 'c'), { rank: 4, alpha: 8, targets: ['down'] });
    const bad = makeRunFolder(model.dir, wrong);
    cleanups.push(bad.cleanup);
    const parent = mkdtempSync(join(work, 'p-'));
    const out = join(parent, 'out');
    await expect(exportRun({ runDir: bad.dir, formats: ['gguf'], outDir: out })).rejects.toThrow(ShapeError);
    const c = await cli(['export', '--run', bad.dir, '--format', 'all', '--out', out]);
    expect([c.code, c.err]).toEqual([5, expect.stringMatching(/down_proj lora_A has 384 values, the model needs \[4, 128\]/)]);
    noPartial(out, parent, []);
  });

  it('a base model that changed since training', async () => {
    const parent = mkdtempSync(join(work, 'p-'));
    const moved = join(parent, 'moved-model');
    cpSync(model.dir, moved, { recursive: true });
    const c = await cli(['export', '--run', run.dir, '--format', 'peft', '--out', join(parent, 'out'), '--model', moved]);
    expect(c.code).toBe(0); // the same checkpoint in another folder is fine
    const changed = makeTinyModel({ tokenizer: true, tokenizerVocab: 600, dtype: 'BF16' });
    cleanups.push(changed.cleanup);
    const c2 = await cli(['export', '--run', run.dir, '--format', 'peft', '--out', join(parent, 'out2'), '--model', changed.dir]);
    expect([c2.code, c2.err]).toEqual([5, expect.stringMatching(/is not the base model this run was trained on/)]);
    expect(existsSync(join(parent, 'out2'))).toBe(false);
  });

  it('a base of the same shapes with other weights: the weights\' hash refuses it unless --force', async () => {
    const parent = mkdtempSync(join(work, 'p-'));
    // Same config and dtypes (so the same fingerprint), other weights.
    const other = makeTinyModel({ tokenizer: true, tokenizerVocab: 600, seed: 991 });
    cleanups.push(other.cleanup);
    const c = await cli(['export', '--run', run.dir, '--format', 'peft', '--out', join(parent, 'out'), '--model', other.dir]);
    expect([c.code, c.err]).toEqual([5, expect.stringMatching(/weights' SHA-256 \w+… differ from the run's base .*add --force/)]);
    expect(existsSync(join(parent, 'out'))).toBe(false);
    const forced = await cli(['export', '--run', run.dir, '--format', 'peft', '--out', join(parent, 'out'), '--model', other.dir, '--force', '--json']);
    expect(forced.code, forced.err).toBe(0);
    const m = (JSON.parse(forced.out) as ExportResult).manifest;
    expect(m.baseModel.weightsSha256, 'the manifest names the base it was exported for').toBe(
      createHash('sha256').update(`${sha(join(other.dir, 'model.safetensors'))}  model.safetensors\n`).digest('hex'),
    );
  });

  it('a failure while writing or moving files leaves nothing behind and restores what was there', () => {
    const parent = mkdtempSync(join(work, 'p-'));
    const out = join(parent, 'out');
    const w = new AtomicWriter(out, { overwrite: false });
    w.stage('a/one.bin', new Uint8Array(10));
    expect(() => w.stage('b/two.bin', (sink) => {
      sink(new Uint8Array(5));
      throw new ShapeError('weights went wrong');
    })).toThrow('weights went wrong');
    w.abort();
    expect(existsSync(out)).toBe(false);
    // commit fails half-way (a staged temporary vanished): the file already moved in is taken out, the old one restored
    mkdirSync(out);
    writeFileSync(join(out, 'keep.txt'), 'old');
    const w2 = new AtomicWriter(out, { overwrite: true });
    w2.stage('keep.txt', 'new');
    w2.stage('sub/x.txt', 'x');
    rmSync(join(out, 'sub'), { recursive: true });
    expect(() => w2.commit()).toThrow(ConfigError);
    expect(listTree(out)).toEqual(['keep.txt']);
    expect(readFileSync(join(out, 'keep.txt'), 'utf8')).toBe('old');
  });
});

describe('mesp export (CLI)', () => {
  it('writes the bundle and prints it; --json gives the service result; --dry-run writes nothing', async () => {
    const out = join(work, 'cli');
    const dry = await cli(['export', '--run', run.dir, '--format', 'gguf,mlx', '--out', out, '--dry-run']);
    expect(dry.code).toBe(0);
    expect(dry.out).toContain('gguf/adapter.gguf');
    expect(existsSync(out)).toBe(false);
    const c = await cli(['export', '--run', run.dir, '--format', 'gguf,mlx', '--out', out, '--dtype', 'f16', '--json']);
    expect(c.code).toBe(0);
    const r = JSON.parse(c.out) as ExportResult;
    expect(r.files.map((f) => f.relPath).sort()).toEqual(listTree(out));
    const again = await cli(['export', '--run', run.dir, '--format', 'gguf', '--out', out]);
    expect([again.code, again.err]).toEqual([5, expect.stringMatching(/--force/)]);
    expect((await cli(['export', '--run', run.dir, '--format', 'gguf', '--out', out, '--force'])).code).toBe(0);
  }, 60_000);

  it('exports into RUN_DIR/exports when no --out is given', async () => {
    const c = await cli(['export', '--run', run.dir, '--format', 'peft']);
    expect(c.code).toBe(0);
    expect(listTree(join(run.dir, 'exports'))).toEqual(['README.md', 'manifest.json', 'peft/README.md', 'peft/adapter_config.json', 'peft/adapter_model.safetensors']);
    expect((await previewExport({ runDir: run.dir, formats: ['peft'] })).existing.length).toBe(5);
  });
});

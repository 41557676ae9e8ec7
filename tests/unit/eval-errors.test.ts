// Bad input to `mesp eval`: a truncated safetensors file, a header whose offsets run past the end, a dtype we
// do not support, a config with a missing field, a tokenizer.json that is not JSON and a dataset line that is not JSON
// each end the command with a clear message naming the file (and the line or field), exit code 5, no crash, no hang.
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writeDemoModel } from '../../core/node/demo';

const root = mkdtempSync(join(tmpdir(), 'mesp-eval-errors-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const good = join(root, 'good');
writeDemoModel(good);
const data = join(root, 'data.jsonl');
writeFileSync(data, '{"text": "hello"}\n');

function broken(name: string, edit: (dir: string) => void): string {
  const dir = join(root, name);
  cpSync(good, dir, { recursive: true });
  edit(dir);
  return dir;
}

function evalIt(model: string, dataFile = data): { status: number | null; stderr: string } {
  const r = spawnSync(process.execPath, ['bin/mesp.js', 'eval', '--model', model, '--data', dataFile], { encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stderr: r.stderr };
}

/** Rewrite the safetensors header JSON with `patch` applied, keeping the file's layout valid otherwise. */
function patchHeader(file: string, patch: (h: Record<string, { dtype: string; shape: number[]; data_offsets: number[] }>) => void): void {
  const bytes = readFileSync(file);
  const n = Number(bytes.readBigUInt64LE(0));
  const header = JSON.parse(bytes.subarray(8, 8 + n).toString('utf8'));
  patch(header);
  let text = JSON.stringify(header);
  text = text.padEnd(Math.max(n, Math.ceil(text.length / 8) * 8), ' ');
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(text.length));
  writeFileSync(file, Buffer.concat([len, Buffer.from(text), bytes.subarray(8 + n)]));
}

describe('mesp eval: bad input', () => {
  const cases: [string, () => string, RegExp, string?][] = [
    ['a truncated safetensors file', () => broken('truncated', (d) => {
      const f = join(d, 'model.safetensors');
      writeFileSync(f, readFileSync(f).subarray(0, 5000));
    }), /model\.safetensors.*(truncated|past the end|shorter)/i],
    ['a header whose offsets run past the end', () => broken('offsets', (d) => patchHeader(join(d, 'model.safetensors'), (h) => {
      h['model.norm.weight'].data_offsets[1] += 1 << 20;
    })), /model\.safetensors.*model\.norm\.weight/],
    ['a dtype we do not support', () => broken('dtype', (d) => patchHeader(join(d, 'model.safetensors'), (h) => {
      h['model.norm.weight'].dtype = 'F8_E4M3';
    })), /model\.safetensors.*F8_E4M3/],
    ['a config with a missing field', () => broken('config', (d) => {
      const f = join(d, 'config.json');
      const c = JSON.parse(readFileSync(f, 'utf8'));
      delete c.num_key_value_heads;
      writeFileSync(f, JSON.stringify(c));
    }), /config\.json.*num_key_value_heads/],
    ['a tokenizer.json that is not JSON', () => broken('tokenizer', (d) => writeFileSync(join(d, 'tokenizer.json'), '{"model": {')), /tokenizer\.json.*JSON/],
  ];
  for (const [what, make, pattern] of cases) {
    it(what, () => {
      const r = evalIt(make());
      console.log(`[error] ${what}: ${r.stderr.trim().split('\n').pop()}`);
      expect(r.status, `what ${what}`).toBe(5);
      expect(r.stderr, `what ${what}`).toMatch(pattern);
    });
  }

  it('a dataset line that is not JSON, naming the file and line', () => {
    const f = join(root, 'bad.jsonl');
    writeFileSync(f, '{"text": "fine"}\n{"text": "oops"\n');
    const r = evalIt(good, f);
    expect(r.status).toBe(5);
    expect(r.stderr).toContain(`${f}:2:`);
  });
});

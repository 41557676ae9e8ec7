// export.download's archive and pieces (core/common/tar.ts, core/node/service/downloads.ts): the ustar archive built
// piece by piece from the files is read back by the system's tar (GNU tar) byte for byte; only files the manifest
// lists are offered; a file and the bundle come back whole when the pieces are joined; a bundle that changed between
// pieces is refused.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DOWNLOAD_CHUNK_BYTES } from '../../core/api/contract';
import { tarLayout, tarRange } from '../../core/common/tar';
import { downloadPiece } from '../../core/node/service/downloads';
import { PathPolicy } from '../../core/node/service/paths';

function bundle(): { root: string; out: string; files: Record<string, Buffer> } {
  const root = mkdtempSync(join(tmpdir(), 'mesp-dl-'));
  const out = join(root, 'exports');
  mkdirSync(join(out, 'peft'), { recursive: true });
  const files: Record<string, Buffer> = {
    'README.md': Buffer.from('# the bundle\n'),
    'peft/adapter_config.json': Buffer.from('{"r": 8}\n'),
    // larger than one piece, and not a multiple of 512
    'peft/adapter_model.safetensors': Buffer.from(Array.from({ length: DOWNLOAD_CHUNK_BYTES + 1234 }, (_, i) => (i * 7 + 3) & 0xff)),
  };
  for (const [p, b] of Object.entries(files)) writeFileSync(join(out, p), b);
  writeFileSync(join(out, 'manifest.json'), JSON.stringify({ files: Object.keys(files).map((relPath) => ({ relPath })) }));
  files['manifest.json'] = readFileSync(join(out, 'manifest.json'));
  writeFileSync(join(root, 'secret.txt'), 'not listed');
  return { root, out, files };
}

function wholeDownload(out: string, paths: PathPolicy, file?: string): { name: string; bytes: Buffer } {
  const parts: Buffer[] = [];
  let offset = 0;
  let stamp: string | undefined;
  for (;;) {
    const p = downloadPiece(out, paths, 'run-1-export', { file, offset, stamp });
    stamp = p.stamp;
    const b = Buffer.from(p.base64, 'base64');
    parts.push(b);
    offset += b.length;
    if (p.done) {
      expect(offset).toBe(p.size);
      return { name: p.name, bytes: Buffer.concat(parts) };
    }
  }
}

describe('export downloads', () => {
  it('joins a file\'s pieces back into the file', () => {
    const { root, out, files } = bundle();
    const paths = new PathPolicy([root]);
    const d = wholeDownload(out, paths, 'peft/adapter_model.safetensors');
    expect(d.name).toBe('adapter_model.safetensors');
    expect(d.bytes.equals(files['peft/adapter_model.safetensors'])).toBe(true);
  });

  it('streams the bundle as a tar that GNU tar lists and extracts byte for byte', () => {
    const { root, out, files } = bundle();
    const paths = new PathPolicy([root]);
    const d = wholeDownload(out, paths);
    expect(d.name).toBe('run-1-export.tar');
    const tarPath = join(root, d.name);
    writeFileSync(tarPath, d.bytes);
    const listed = execFileSync('tar', ['-tf', tarPath], { encoding: 'utf8' }).trim().split('\n');
    console.log('tar -tf:', listed.join(', '));
    expect(listed.sort()).toEqual(Object.keys(files).map((f) => `run-1-export/${f}`).sort());
    const x = join(root, 'x');
    mkdirSync(x);
    execFileSync('tar', ['-xf', tarPath, '-C', x]);
    for (const [p, b] of Object.entries(files)) expect(readFileSync(join(x, 'run-1-export', p)).equals(b), p).toBe(true);
  });

  it('offers only what the manifest lists, and refuses a piece of a bundle that changed', () => {
    const { root, out } = bundle();
    const paths = new PathPolicy([root]);
    expect(() => downloadPiece(out, paths, 'r', { file: '../secret.txt', offset: 0 })).toThrow(/not a file of the export.*manifest\.json, README\.md/);
    const first = downloadPiece(out, paths, 'r', { offset: 0 });
    writeFileSync(join(out, 'README.md'), '# exported again, longer\n');
    expect(() => downloadPiece(out, paths, 'r', { offset: DOWNLOAD_CHUNK_BYTES, stamp: first.stamp })).toThrow(/changed while it was being downloaded/);
    expect(() => downloadPiece(join(root, 'nothing'), paths, 'r', { offset: 0 })).toThrow(/no export bundle/);
  });

  it('gives any byte range of the archive as the whole archive has it', () => {
    const entries = [{ path: 'a/x.bin', size: 700, mtime: 1 }, { path: `${'d'.repeat(120)}/y.txt`, size: 0, mtime: 2 }];
    const data = [Buffer.alloc(700, 9), Buffer.alloc(0)];
    const layout = tarLayout(entries);
    const read = (i: number, pos: number, len: number): Uint8Array => data[i].subarray(pos, pos + len);
    const whole = Buffer.from(tarRange(layout, 0, layout.size, read));
    expect(whole.length % 512).toBe(0);
    for (const [o, l] of [[0, 100], [500, 30], [1020, 600], [layout.size - 10, 50]]) {
      expect(Buffer.from(tarRange(layout, o, l, read)).equals(whole.subarray(o, Math.min(layout.size, o + l))), `range ${o}+${l}`).toBe(true);
    }
  });
});

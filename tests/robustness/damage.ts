// Ways to damage the seed's files for the robustness corpus: copies and hard links of a model folder, JSON edits, and
// byte-level edits of safetensors files (a value of one tensor, a truncation, a header length). Written from the
// safetensors format (8-byte little-endian header length, a JSON header of dtype/shape/data_offsets, the data).
import { cpSync, linkSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** A copy of a model folder: JSON files copied (to be edited), the weights hard-linked unless `copyWeights`. */
export function copyModel(src: string, dst: string, copyWeights = false): string {
  mkdirSync(dst, { recursive: true });
  for (const f of readdirSync(src)) {
    if (statSync(join(src, f)).isDirectory()) continue;
    if (f.endsWith('.safetensors') && !copyWeights) linkSync(join(src, f), join(dst, f));
    else cpSync(join(src, f), join(dst, f));
  }
  return dst;
}

export function readJson(path: string): Record<string, unknown> {
  return JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
}

/** Edit a JSON file in place; `edit` mutates the object (or returns a replacement value). */
export function editJson(path: string, edit: (o: Record<string, unknown>) => unknown): void {
  const o = readJson(path);
  const r = edit(o);
  writeFileSync(path, JSON.stringify(r === undefined ? o : r, null, 2));
}

/** Set `path.to.field` (dotted) in a JSON file; `undefined` deletes it. Values are written as given (raw text allowed via `raw`). */
export function setField(path: string, field: string, value: unknown, raw?: string): void {
  const o = readJson(path);
  const keys = field.split('.');
  let at = o as Record<string, unknown>;
  for (const k of keys.slice(0, -1)) at = at[k] as Record<string, unknown>;
  const last = keys[keys.length - 1];
  if (value === undefined && raw === undefined) delete at[last];
  else at[last] = raw !== undefined ? '@@RAW@@' : value;
  let text = JSON.stringify(o, null, 2);
  if (raw !== undefined) text = text.replace('"@@RAW@@"', raw);
  writeFileSync(path, text);
}

interface StInfo {
  dtype: string;
  shape: number[];
  data_offsets: [number, number];
}

/** The header of a safetensors file and where its data starts. */
export function stHeader(bytes: Uint8Array): { header: Record<string, StInfo>; dataStart: number } {
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n))) as Record<string, StInfo>;
  delete header.__metadata__;
  return { header, dataStart: 8 + n };
}

/** Write `value` at flat `index` of an F32 tensor (`name`, or the first tensor whose name contains it). */
export function setF32(path: string, name: string, index: number, value: number): string {
  const bytes = new Uint8Array(readFileSync(path));
  const { header, dataStart } = stHeader(bytes);
  const key = name in header ? name : Object.keys(header).sort().find((k) => k.includes(name));
  if (!key) throw new Error(`no tensor like ${name} in ${path}`);
  const info = header[key];
  if (info.dtype !== 'F32') throw new Error(`${key} is ${info.dtype}`);
  new DataView(bytes.buffer).setFloat32(dataStart + info.data_offsets[0] + index * 4, value, true);
  writeFileSync(path, bytes);
  return key;
}

/** Keep the first `fraction` of a file's bytes (or `bytes` of them). */
export function truncate(path: string, o: { fraction?: number; bytes?: number }): void {
  const b = readFileSync(path);
  writeFileSync(path, b.subarray(0, o.bytes ?? Math.floor(b.length * (o.fraction ?? 0.5))));
}

/** Overwrite bytes at `offset`. */
export function poke(path: string, offset: number, data: Uint8Array): void {
  const b = new Uint8Array(readFileSync(path));
  b.set(data, offset);
  writeFileSync(path, b);
}

/** Names under `dir` (recursively) that a killed or failed atomic write would leave. */
export function leftovers(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (/\.(tmp|old)-\d+-\d+$|\.mesp-tmp-|\.tmp$/.test(e.name)) out.push(join(d, e.name));
      if (e.isDirectory()) walk(join(d, e.name));
    }
  };
  walk(dir);
  return out;
}

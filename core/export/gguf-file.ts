// GGUF v3 files, bytes in and bytes out: the generic container, whatever the tensors mean (the LoRA adapter layout is
// core/export/gguf.ts, which re-exports all of this).
// Follows the GGUF spec (ggml docs/gguf.md, gguf.h): "GGUF" magic, u32 version 3, u64 tensor count, u64 KV count, the
// typed KV pairs (u64-length strings, arrays as item type + u64 count + items), the tensor infos (name, u32 n_dims,
// u64 ne[n_dims] with ne[0] the contiguous dimension, u32 ggml_type, u64 offset relative to the data section), zero
// padding to `general.alignment` (default 32), then the tensor data, each tensor at an aligned offset and padded.
// Tensor types: F32, F16, BF16 and the block types Q8_0 and Q4_0 (core/export/ggml-quant.ts; ne[0] a multiple of 32).
// A file is written whole (writeGguf) or streamed tensor by tensor (writeGgufStream), for models larger than memory.
// Pure TS: no file system (core/node writes the bytes).
import { LITTLE_ENDIAN, littleEndianBytes } from '../common/bytes';
import { FormatError, ShapeError } from '../common/errors';
import { bf16ArrayToF32, bf16ToF32, f16ArrayToF32, f16ToF32, f32ArrayToBf16, f32ArrayToF16 } from '../common/half';
import { dequantizeBlocks, QK, QUANT_BLOCK_BYTES, quantizeBlocks } from './ggml-quant';

export const GGUF_MAGIC = 0x46554747; // "GGUF" read as a little-endian u32
export const GGUF_VERSION = 3;
export const GGUF_DEFAULT_ALIGNMENT = 32;
/** ggml's GGML_MAX_NAME: a tensor name and its NUL must fit 64 bytes. */
export const GGUF_MAX_NAME = 63;

/** gguf_type: the KV value types. */
export const GgufType = {
  UINT8: 0, INT8: 1, UINT16: 2, INT16: 3, UINT32: 4, INT32: 5, FLOAT32: 6, BOOL: 7, STRING: 8, ARRAY: 9,
  UINT64: 10, INT64: 11, FLOAT64: 12,
} as const;
export type GgufTypeId = (typeof GgufType)[keyof typeof GgufType];
const TYPE_NAME: Record<number, string> = Object.fromEntries(Object.entries(GgufType).map(([k, v]) => [v, k]));

/** ggml_type ids of the tensor types we read and write (ggml.h enum ggml_type). */
export const GgmlType = { F32: 0, F16: 1, Q4_0: 2, Q8_0: 8, BF16: 30 } as const;
export type GgmlTensorType = keyof typeof GgmlType;
/** The float types (one value per element). */
export type GgmlFloatType = 'F32' | 'F16' | 'BF16';
const GGML_SIZE: Record<GgmlFloatType, number> = { F32: 4, F16: 2, BF16: 2 };

export function isBlockType(t: GgmlTensorType): t is 'Q8_0' | 'Q4_0' {
  return t === 'Q8_0' || t === 'Q4_0';
}

/** Bytes of a tensor of this type and ne; null when a block type's ne[0] is not a multiple of the block (32). */
export function ggmlTensorBytes(type: GgmlTensorType, ne: readonly number[]): number | null {
  const numel = ne.reduce((a, b) => a * b, 1);
  if (!isBlockType(type)) return numel * GGML_SIZE[type];
  if (ne[0] % QK !== 0) return null;
  return (numel / QK) * QUANT_BLOCK_BYTES[type];
}

export type GgufScalar = number | bigint | boolean | string;
export interface GgufArray {
  itemType: GgufTypeId;
  items: (GgufScalar | GgufArray)[];
}
export interface GgufKv {
  key: string;
  type: GgufTypeId;
  value: GgufScalar | GgufArray;
}

export interface GgufTensorIn {
  name: string;
  /** ggml ne order: ne[0] is the contiguous (fastest-varying) dimension, the reverse of a row-major shape. */
  ne: number[];
  type: GgmlTensorType;
  /** Little-endian element bytes: ne[0]·ne[1]·… × the type's size. */
  data: Uint8Array;
}

export interface GgufTensorInfo {
  name: string;
  ne: number[];
  type: GgmlTensorType;
  /** Offset relative to the data section, and absolute in the file. */
  offset: number;
  fileOffset: number;
  byteLength: number;
}

export interface GgufFile {
  version: number;
  kv: Map<string, GgufKv>;
  /** KV pairs in file order. */
  kvOrder: string[];
  tensors: GgufTensorInfo[];
  alignment: number;
  dataOffset: number;
}

export const kvString = (key: string, value: string): GgufKv => ({ key, type: GgufType.STRING, value });
export const kvU32 = (key: string, value: number): GgufKv => ({ key, type: GgufType.UINT32, value });
export const kvF32 = (key: string, value: number): GgufKv => ({ key, type: GgufType.FLOAT32, value });

function alignUp(n: number, a: number): number {
  return Math.ceil(n / a) * a;
}

/** A growable little-endian byte buffer. */
class Out {
  buf = new Uint8Array(1024);
  dv = new DataView(this.buf.buffer);
  at = 0;
  private need(n: number): void {
    if (this.at + n <= this.buf.length) return;
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.at + n));
    next.set(this.buf.subarray(0, this.at));
    this.buf = next;
    this.dv = new DataView(next.buffer);
  }
  u8(v: number): void {
    this.need(1);
    this.dv.setUint8(this.at, v);
    this.at += 1;
  }
  u32(v: number): void {
    this.need(4);
    this.dv.setUint32(this.at, v, true);
    this.at += 4;
  }
  u64(v: number | bigint): void {
    this.need(8);
    this.dv.setBigUint64(this.at, BigInt(v), true);
    this.at += 8;
  }
  bytes(b: Uint8Array): void {
    this.need(b.length);
    this.buf.set(b, this.at);
    this.at += b.length;
  }
  str(s: string): void {
    const b = new TextEncoder().encode(s);
    this.u64(b.length);
    this.bytes(b);
  }
  value(type: GgufTypeId, v: GgufScalar | GgufArray, where: string): void {
    const num = (): number => {
      if (typeof v !== 'number' && typeof v !== 'bigint') throw new ShapeError(`GGUF writer: ${where} must be a number for ${TYPE_NAME[type]}, got ${typeof v}`);
      return Number(v);
    };
    this.need(8);
    switch (type) {
      case GgufType.UINT8: this.dv.setUint8(this.at, num()); this.at += 1; return;
      case GgufType.INT8: this.dv.setInt8(this.at, num()); this.at += 1; return;
      case GgufType.UINT16: this.dv.setUint16(this.at, num(), true); this.at += 2; return;
      case GgufType.INT16: this.dv.setInt16(this.at, num(), true); this.at += 2; return;
      case GgufType.UINT32: this.dv.setUint32(this.at, num(), true); this.at += 4; return;
      case GgufType.INT32: this.dv.setInt32(this.at, num(), true); this.at += 4; return;
      case GgufType.FLOAT32: this.dv.setFloat32(this.at, num(), true); this.at += 4; return;
      case GgufType.FLOAT64: this.dv.setFloat64(this.at, num(), true); this.at += 8; return;
      case GgufType.UINT64: this.dv.setBigUint64(this.at, BigInt(v as number | bigint), true); this.at += 8; return;
      case GgufType.INT64: this.dv.setBigInt64(this.at, BigInt(v as number | bigint), true); this.at += 8; return;
      case GgufType.BOOL:
        if (typeof v !== 'boolean') throw new ShapeError(`GGUF writer: ${where} must be a boolean`);
        this.u8(v ? 1 : 0);
        return;
      case GgufType.STRING:
        if (typeof v !== 'string') throw new ShapeError(`GGUF writer: ${where} must be a string`);
        this.str(v);
        return;
      case GgufType.ARRAY: {
        if (typeof v !== 'object' || v === null || !('items' in v)) throw new ShapeError(`GGUF writer: ${where} must be an array {itemType, items}`);
        this.u32(v.itemType);
        this.u64(v.items.length);
        v.items.forEach((item, i) => this.value(v.itemType, item, `${where}[${i}]`));
        return;
      }
      default:
        throw new ShapeError(`GGUF writer: ${where} has unknown value type ${type as number}`);
    }
  }
}

/** A tensor to stream: its bytes are produced only when the writer reaches it. */
export interface GgufTensorSpec {
  name: string;
  /** ggml ne order (ne[0] contiguous). */
  ne: number[];
  type: GgmlTensorType;
  /** The tensor's little-endian bytes (ggmlTensorBytes(type, ne) of them), made when written. */
  produce(): Uint8Array;
}

export interface GgufLayout {
  /** The header: magic, counts, KV pairs, tensor infos, padded to the alignment (the data section starts after it). */
  header: Uint8Array;
  alignment: number;
  /** Each tensor's offset in the data section and its byte length. */
  offsets: number[];
  byteLengths: number[];
  /** The whole file's size. */
  totalBytes: number;
}

/**
 * The header and the data layout of a GGUF v3 file. Tensors are laid out in the given order, each at an offset that
 * is a multiple of the alignment (general.alignment if a KV sets it, else 32) and padded with zeros to the next
 * multiple, as gguf-py does. Every name, size and key is checked here, before any tensor is produced.
 */
export function ggufLayout(kvs: readonly GgufKv[], tensors: readonly Pick<GgufTensorSpec, 'name' | 'ne' | 'type'>[]): GgufLayout {
  const keys = new Set<string>();
  for (const kv of kvs) {
    if (keys.has(kv.key)) throw new ShapeError(`GGUF writer: metadata key "${kv.key}" given twice`);
    keys.add(kv.key);
  }
  const alignKv = kvs.find((k) => k.key === 'general.alignment');
  const alignment = alignKv ? Number(alignKv.value) : GGUF_DEFAULT_ALIGNMENT;
  if (!Number.isInteger(alignment) || alignment < 1 || alignment % 8 !== 0) throw new ShapeError(`GGUF writer: general.alignment must be a positive multiple of 8, got ${alignment}`);
  const names = new Set<string>();
  const byteLengths: number[] = [];
  for (const t of tensors) {
    if (names.has(t.name)) throw new ShapeError(`GGUF writer: tensor "${t.name}" given twice`);
    names.add(t.name);
    if (new TextEncoder().encode(t.name).length > GGUF_MAX_NAME) throw new ShapeError(`GGUF writer: tensor name "${t.name}" is longer than ${GGUF_MAX_NAME} bytes`);
    if (t.ne.length < 1 || t.ne.length > 4 || t.ne.some((d) => !Number.isInteger(d) || d < 0)) throw new ShapeError(`GGUF writer: tensor "${t.name}" has ne [${t.ne.join(', ')}]; 1 to 4 non-negative integers`);
    const bytes = ggmlTensorBytes(t.type, t.ne);
    if (bytes === null) throw new ShapeError(`GGUF writer: tensor "${t.name}" ne[0] = ${t.ne[0]} is not a multiple of ${QK}, so it cannot be stored as ${t.type}`);
    byteLengths.push(bytes);
  }
  const head = new Out();
  head.u32(GGUF_MAGIC);
  head.u32(GGUF_VERSION);
  head.u64(tensors.length);
  head.u64(kvs.length);
  for (const kv of kvs) {
    head.str(kv.key);
    head.u32(kv.type);
    head.value(kv.type, kv.value, `metadata "${kv.key}"`);
  }
  let offset = 0;
  const offsets: number[] = [];
  tensors.forEach((t, i) => {
    head.str(t.name);
    head.u32(t.ne.length);
    for (const d of t.ne) head.u64(d);
    head.u32(GgmlType[t.type]);
    head.u64(offset);
    offsets.push(offset);
    offset += alignUp(byteLengths[i], alignment);
  });
  const dataOffset = alignUp(head.at, alignment);
  const header = new Uint8Array(dataOffset); // zero-filled: the padding
  header.set(head.buf.subarray(0, head.at));
  return { header, alignment, offsets, byteLengths, totalBytes: dataOffset + offset };
}

/**
 * Stream a GGUF v3 file through `sink`: the header, then each tensor as it is produced (one tensor in memory at a
 * time), each followed by its zero padding. Returns the bytes written (= ggufLayout(...).totalBytes).
 */
export function writeGgufStream(kvs: readonly GgufKv[], tensors: readonly GgufTensorSpec[], sink: (chunk: Uint8Array) => void): number {
  const layout = ggufLayout(kvs, tensors);
  sink(layout.header);
  let written = layout.header.length;
  tensors.forEach((t, i) => {
    const data = t.produce();
    if (data.length !== layout.byteLengths[i]) {
      throw new ShapeError(`GGUF writer: tensor "${t.name}" has ${data.length} bytes, ne [${t.ne.join(', ')}] × ${t.type} needs ${layout.byteLengths[i]}`);
    }
    sink(data);
    const pad = alignUp(data.length, layout.alignment) - data.length;
    if (pad) sink(new Uint8Array(pad));
    written += data.length + pad;
  });
  return written;
}

/** Serialize a GGUF v3 file held in memory (the layout of ggufLayout). */
export function writeGguf(kvs: readonly GgufKv[], tensors: readonly GgufTensorIn[]): Uint8Array {
  const layout = ggufLayout(kvs, tensors);
  tensors.forEach((t, i) => {
    if (t.data.length !== layout.byteLengths[i]) {
      throw new ShapeError(`GGUF writer: tensor "${t.name}" has ${t.data.length} bytes, ne [${t.ne.join(', ')}] × ${t.type} needs ${layout.byteLengths[i]}`);
    }
  });
  const out = new Uint8Array(layout.totalBytes); // zero-filled: the paddings
  out.set(layout.header);
  const dataOffset = layout.header.length;
  tensors.forEach((t, i) => out.set(t.data, dataOffset + layout.offsets[i]));
  return out;
}

const HINT = 'The file is damaged or not a GGUF file: export it again.';

/** Reads and bounds-checks a GGUF file in memory. */
class In {
  readonly dv: DataView;
  at = 0;
  constructor(
    readonly bytes: Uint8Array,
    readonly file: string,
  ) {
    this.dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  need(n: number, what: string): void {
    if (this.at + n > this.bytes.length) {
      throw new FormatError(this.file, `truncated GGUF file: ${what} at byte ${this.at} needs ${n} bytes, the file has ${this.bytes.length}. ${HINT}`);
    }
  }
  u32(what: string): number {
    this.need(4, what);
    const v = this.dv.getUint32(this.at, true);
    this.at += 4;
    return v;
  }
  u64(what: string): number {
    this.need(8, what);
    const v = this.dv.getBigUint64(this.at, true);
    this.at += 8;
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new FormatError(this.file, `${what} is ${v}, too large. ${HINT}`);
    return Number(v);
  }
  str(what: string): string {
    const n = this.u64(`${what} length`);
    this.need(n, what);
    const s = this.bytes.subarray(this.at, this.at + n);
    this.at += n;
    try {
      return new TextDecoder('utf-8', { fatal: true }).decode(s);
    } catch {
      throw new FormatError(this.file, `${what} is not valid UTF-8. ${HINT}`);
    }
  }
  value(type: number, what: string, depth = 0): GgufScalar | GgufArray {
    const take = <T>(n: number, f: (at: number) => T): T => {
      this.need(n, what);
      const v = f(this.at);
      this.at += n;
      return v;
    };
    switch (type) {
      case GgufType.UINT8: return take(1, (a) => this.dv.getUint8(a));
      case GgufType.INT8: return take(1, (a) => this.dv.getInt8(a));
      case GgufType.UINT16: return take(2, (a) => this.dv.getUint16(a, true));
      case GgufType.INT16: return take(2, (a) => this.dv.getInt16(a, true));
      case GgufType.UINT32: return take(4, (a) => this.dv.getUint32(a, true));
      case GgufType.INT32: return take(4, (a) => this.dv.getInt32(a, true));
      case GgufType.FLOAT32: return take(4, (a) => this.dv.getFloat32(a, true));
      case GgufType.FLOAT64: return take(8, (a) => this.dv.getFloat64(a, true));
      case GgufType.UINT64: return take(8, (a) => this.dv.getBigUint64(a, true));
      case GgufType.INT64: return take(8, (a) => this.dv.getBigInt64(a, true));
      case GgufType.BOOL: {
        const b = take(1, (a) => this.dv.getUint8(a));
        if (b > 1) throw new FormatError(this.file, `${what}: a bool must be 0 or 1, got ${b}. ${HINT}`);
        return b === 1;
      }
      case GgufType.STRING: return this.str(what);
      case GgufType.ARRAY: {
        if (depth > 8) throw new FormatError(this.file, `${what}: arrays nested too deep. ${HINT}`);
        const itemType = this.u32(`${what} item type`) as GgufTypeId;
        const n = this.u64(`${what} count`);
        if (n > this.bytes.length - this.at) throw new FormatError(this.file, `${what}: array of ${n} items cannot fit in the file. ${HINT}`);
        const items: (GgufScalar | GgufArray)[] = [];
        for (let i = 0; i < n; i++) items.push(this.value(itemType, `${what}[${i}]`, depth + 1));
        return { itemType, items };
      }
      default:
        throw new FormatError(this.file, `${what} has unknown GGUF value type ${type}. ${HINT}`);
    }
  }
}

const GGML_BY_ID = new Map<number, GgmlTensorType>(Object.entries(GgmlType).map(([k, v]) => [v, k as GgmlTensorType]));

/**
 * Parse a GGUF v2/v3 file held in memory: metadata and tensor infos, every offset checked against the file. `bytes`
 * may be only the file's beginning (at least the header) when `totalBytes` gives the whole file's size.
 */
export function parseGguf(bytes: Uint8Array, file: string, totalBytes = bytes.length): GgufFile {
  const r = new In(bytes, file);
  if (bytes.length < 4 || r.u32('magic') !== GGUF_MAGIC) throw new FormatError(file, `does not start with the GGUF magic "GGUF". ${HINT}`);
  const version = r.u32('version');
  if (version !== 2 && version !== 3) {
    const swapped = ((version & 0xff) << 24) | ((version >>> 8) & 0xff) << 16 | ((version >>> 16) & 0xff) << 8 | (version >>> 24);
    if (swapped === 2 || swapped === 3) throw new FormatError(file, 'is a big-endian GGUF file; only little-endian files are supported. Convert it with gguf_convert_endian.py.');
    throw new FormatError(file, `GGUF version ${version} is not supported (only versions 2 and 3). Export it again with a current llama.cpp.`);
  }
  const nTensors = r.u64('tensor count');
  const nKv = r.u64('metadata count');
  if (nTensors > totalBytes || nKv > totalBytes) throw new FormatError(file, `header claims ${nTensors} tensors and ${nKv} metadata pairs, more than the file can hold. ${HINT}`);
  const kv = new Map<string, GgufKv>();
  const kvOrder: string[] = [];
  for (let i = 0; i < nKv; i++) {
    const key = r.str(`metadata key ${i}`);
    const type = r.u32(`type of "${key}"`) as GgufTypeId;
    const value = r.value(type, `metadata "${key}"`);
    if (kv.has(key)) throw new FormatError(file, `metadata key "${key}" appears twice. ${HINT}`);
    kv.set(key, { key, type, value });
    kvOrder.push(key);
  }
  let alignment = GGUF_DEFAULT_ALIGNMENT;
  const al = kv.get('general.alignment');
  if (al) {
    if (al.type !== GgufType.UINT32 || typeof al.value !== 'number' || al.value < 1 || (al.value & (al.value - 1)) !== 0) {
      throw new FormatError(file, `general.alignment must be a u32 power of two, got ${String(al.value)}. ${HINT}`);
    }
    alignment = al.value;
  }
  const infos: Omit<GgufTensorInfo, 'fileOffset'>[] = [];
  const seen = new Set<string>();
  for (let i = 0; i < nTensors; i++) {
    const name = r.str(`tensor ${i} name`);
    if (seen.has(name)) throw new FormatError(file, `tensor "${name}" appears twice. ${HINT}`);
    seen.add(name);
    const nd = r.u32(`tensor "${name}" n_dims`);
    if (nd < 1 || nd > 4) throw new FormatError(file, `tensor "${name}" has ${nd} dimensions (1 to 4 allowed). ${HINT}`);
    const ne: number[] = [];
    for (let d = 0; d < nd; d++) ne.push(r.u64(`tensor "${name}" ne[${d}]`));
    const typeId = r.u32(`tensor "${name}" type`);
    const type = GGML_BY_ID.get(typeId);
    if (!type) {
      throw new FormatError(file, `tensor "${name}" has ggml type ${typeId}; only F32 (0), F16 (1), Q4_0 (2), Q8_0 (8) and BF16 (30) tensors are read. Convert the file with --outtype f32, f16 or bf16.`);
    }
    const offset = r.u64(`tensor "${name}" offset`);
    if (offset % alignment !== 0) throw new FormatError(file, `tensor "${name}" offset ${offset} is not a multiple of the alignment ${alignment}. ${HINT}`);
    const byteLength = ggmlTensorBytes(type, ne);
    if (byteLength === null) throw new FormatError(file, `tensor "${name}" is ${type} with ne[0] = ${ne[0]}, not a multiple of its ${QK}-value blocks. ${HINT}`);
    infos.push({ name, ne, type, offset, byteLength });
  }
  const dataOffset = alignUp(r.at, alignment);
  const tensors: GgufTensorInfo[] = infos.map((t) => {
    const fileOffset = dataOffset + t.offset;
    if (fileOffset + t.byteLength > totalBytes) {
      throw new FormatError(file, `tensor "${t.name}" data [${fileOffset}, ${fileOffset + t.byteLength}) runs past the end of the file (${totalBytes} bytes): the file is truncated. ${HINT}`);
    }
    return { ...t, fileOffset };
  });
  const sorted = [...tensors].sort((a, b) => a.offset - b.offset);
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i].offset < sorted[i - 1].offset + sorted[i - 1].byteLength) throw new FormatError(file, `tensors "${sorted[i - 1].name}" and "${sorted[i].name}" overlap. ${HINT}`);
  }
  return { version, kv, kvOrder, tensors, alignment, dataOffset };
}

/** A tensor's values as f32 (F16/BF16 converted, Q8_0/Q4_0 dequantized as ggml does). */
export function ggufTensorF32(bytes: Uint8Array, t: GgufTensorInfo): Float32Array {
  const raw = new Uint8Array(t.byteLength); // an aligned copy (Node's Buffer.slice would be a view)
  raw.set(bytes.subarray(t.fileOffset, t.fileOffset + t.byteLength));
  if (isBlockType(t.type)) return dequantizeBlocks(t.type, raw);
  const n = t.byteLength / GGML_SIZE[t.type];
  if (!LITTLE_ENDIAN) {
    const dv = new DataView(raw.buffer);
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      out[i] = t.type === 'F32' ? dv.getFloat32(i * 4, true) : (t.type === 'F16' ? f16ToF32 : bf16ToF32)(dv.getUint16(i * 2, true));
    }
    return out;
  }
  if (t.type === 'F32') return new Float32Array(raw.buffer, 0, n);
  const u16 = new Uint16Array(raw.buffer, 0, n);
  return t.type === 'F16' ? f16ArrayToF32(u16) : bf16ArrayToF32(u16);
}

/**
 * A tensor's values as the little-endian bytes of a GGML type: F16/BF16 rounded to nearest even, Q8_0/Q4_0 quantized
 * row by row as ggml's reference quantizers do (values row-major, ne[0] a multiple of 32).
 */
export function ggufFloatBytes(values: Float32Array, type: GgmlTensorType): Uint8Array {
  if (isBlockType(type)) return quantizeBlocks(type, values);
  return littleEndianBytes(type === 'F32' ? values : type === 'F16' ? f32ArrayToF16(values) : f32ArrayToBf16(values));
}

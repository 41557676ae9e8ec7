// HF safetensors reader and writer (format of huggingface/safetensors: an 8-byte little-endian u64 header length N,
// N bytes of UTF-8 JSON {name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__"?: {string: string}},
// then the data buffer; offsets are relative to the data buffer, contiguous, in order, and cover it exactly).
// The reader validates everything in the header before any byte of data is touched and throws FormatError naming
// the file (and the tensor). The writer follows the reference library's layout: tensors ordered by dtype alignment
// (largest first) then name, header padded with spaces to a multiple of 8 bytes, so every tensor is naturally aligned.
// Pure TS: bytes in, bytes out. The Node host (core/node/modelfiles.ts) reads headers and tensor ranges from disk.
import { LITTLE_ENDIAN, littleEndianBytes } from './bytes';
import { FormatError, ShapeError } from './errors';
import { bf16ArrayToF32, bf16ToF32, f16ArrayToF32, f16ToF32, f32ArrayToBf16, f32ArrayToF16 } from './half';

/** Dtypes this reader accepts in a header. F32/F16/BF16 convert to f32, I32 reads as integers; any tensor's raw bytes come from tensorBytes. */
export const SUPPORTED_DTYPES = ['F32', 'F16', 'BF16', 'I32', 'I64', 'U8'] as const;
export type SafetensorsDtype = (typeof SUPPORTED_DTYPES)[number];
export type FloatDtype = 'F32' | 'F16' | 'BF16';

export const DTYPE_SIZE: Record<SafetensorsDtype, number> = { F32: 4, F16: 2, BF16: 2, I32: 4, I64: 8, U8: 1 };

/** Dtypes of the safetensors spec that we recognize but do not read (named in the error). */
const KNOWN_UNSUPPORTED = ['BOOL', 'I8', 'I16', 'U16', 'U32', 'U64', 'F64', 'F8_E4M3', 'F8_E5M2', 'F8_E8M0', 'F4', 'F6_E2M3', 'F6_E3M2', 'C64'];

/** The reference implementation refuses headers over 100 MB; real checkpoints have a few hundred KB. */
export const MAX_HEADER_BYTES = 100_000_000;

export interface TensorInfo {
  name: string;
  dtype: SafetensorsDtype;
  shape: number[];
  numel: number;
  /** [begin, end) relative to the data buffer, as in the header. */
  begin: number;
  end: number;
  /** Absolute byte offset of the tensor in the file (dataOffset + begin). */
  offset: number;
  byteLength: number;
}

export interface SafetensorsHeader {
  tensors: Map<string, TensorInfo>;
  metadata: Record<string, string>;
  /** Absolute offset of the data buffer: 8 + N. */
  dataOffset: number;
  /** N: the JSON header's length in bytes, padding included. */
  headerLength: number;
}

const ERR_HINT = 'The file is damaged or not a safetensors file: download or export it again.';

/**
 * N, the JSON header's length, from a file's first 8 bytes. `totalBytes` is the whole file's size, to reject a
 * header that runs past the end before reading it.
 */
export function safetensorsHeaderLength(first8: Uint8Array, file: string, totalBytes: number): number {
  if (first8.length < 8 || totalBytes < 8) {
    throw new FormatError(file, `truncated safetensors file: ${totalBytes} bytes, shorter than the 8-byte header length. ${ERR_HINT}`);
  }
  const dv = new DataView(first8.buffer, first8.byteOffset, 8);
  const lo = dv.getUint32(0, true);
  const hi = dv.getUint32(4, true);
  if (hi !== 0 || lo > MAX_HEADER_BYTES) {
    const n = BigInt(hi) * 2n ** 32n + BigInt(lo);
    throw new FormatError(file, `safetensors header length ${n} bytes is absurd (more than ${MAX_HEADER_BYTES}). ${ERR_HINT}`);
  }
  if (lo < 2) throw new FormatError(file, `safetensors header length ${lo} is too small to hold a JSON object. ${ERR_HINT}`);
  if (8 + lo > totalBytes) {
    throw new FormatError(file, `truncated safetensors file: the header says it is ${lo} bytes, but only ${totalBytes - 8} bytes follow the length. ${ERR_HINT}`);
  }
  return lo;
}

function isNonNegInt(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

function checkDtype(v: unknown, file: string, name: string): SafetensorsDtype {
  if (typeof v !== 'string') throw new FormatError(file, `tensor "${name}": "dtype" is missing or not a string. ${ERR_HINT}`);
  if ((SUPPORTED_DTYPES as readonly string[]).includes(v)) return v as SafetensorsDtype;
  const known = KNOWN_UNSUPPORTED.includes(v) ? 'a safetensors dtype this app does not read' : 'not a safetensors dtype';
  throw new FormatError(
    file,
    `tensor "${name}" has dtype ${JSON.stringify(v)}, ${known}. Supported: ${SUPPORTED_DTYPES.join(', ')} ` +
      `(F32, F16 and BF16 for weights). Convert the checkpoint to bf16, f16 or f32 (e.g. save it again with torch_dtype=bfloat16).`,
  );
}

/**
 * Parse and validate a safetensors header. `prefix` holds at least the file's first 8 + N bytes (it may be the whole
 * file); `totalBytes` is the file's full size, against which every offset is checked.
 */
export function parseSafetensorsHeader(prefix: Uint8Array, file: string, totalBytes: number): SafetensorsHeader {
  const n = safetensorsHeaderLength(prefix, file, totalBytes);
  if (prefix.length < 8 + n) {
    throw new FormatError(file, `truncated safetensors header: need ${8 + n} bytes, got ${prefix.length}. ${ERR_HINT}`);
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(prefix.subarray(8, 8 + n));
  } catch {
    throw new FormatError(file, `safetensors header is not valid UTF-8. ${ERR_HINT}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new FormatError(file, `safetensors header is not JSON (${(e as Error).message}). ${ERR_HINT}`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new FormatError(file, `safetensors header is not a JSON object. ${ERR_HINT}`);
  }
  const dataOffset = 8 + n;
  const dataBytes = totalBytes - dataOffset;
  const metadata: Record<string, string> = {};
  const tensors = new Map<string, TensorInfo>();
  for (const [name, entry] of Object.entries(json as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (entry === null) continue;
      if (typeof entry !== 'object' || Array.isArray(entry)) {
        throw new FormatError(file, `"__metadata__" must be an object of strings. ${ERR_HINT}`);
      }
      for (const [k, v] of Object.entries(entry as Record<string, unknown>)) {
        if (typeof v !== 'string') throw new FormatError(file, `"__metadata__"."${k}" must be a string, got ${JSON.stringify(v)}. ${ERR_HINT}`);
        metadata[k] = v;
      }
      continue;
    }
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
      throw new FormatError(file, `tensor "${name}": header entry is not an object {dtype, shape, data_offsets}. ${ERR_HINT}`);
    }
    const e = entry as Record<string, unknown>;
    const dtype = checkDtype(e.dtype, file, name);
    if (!Array.isArray(e.shape)) throw new FormatError(file, `tensor "${name}": "shape" is missing or not an array. ${ERR_HINT}`);
    const shape = e.shape as unknown[];
    let numel = 1;
    for (const d of shape) {
      if (!isNonNegInt(d)) {
        throw new FormatError(file, `tensor "${name}": shape [${shape.map((x) => JSON.stringify(x)).join(', ')}] must hold non-negative integers. ${ERR_HINT}`);
      }
      numel *= d;
    }
    if (!Number.isSafeInteger(numel)) throw new FormatError(file, `tensor "${name}": shape [${shape.join(', ')}] has too many elements. ${ERR_HINT}`);
    const offs = e.data_offsets;
    if (!Array.isArray(offs) || offs.length !== 2 || !isNonNegInt(offs[0]) || !isNonNegInt(offs[1])) {
      throw new FormatError(file, `tensor "${name}": "data_offsets" must be [begin, end] with non-negative integers, got ${JSON.stringify(offs)}. ${ERR_HINT}`);
    }
    const [begin, end] = offs as [number, number];
    if (end < begin) throw new FormatError(file, `tensor "${name}": data_offsets [${begin}, ${end}] end before they begin. ${ERR_HINT}`);
    if (end > dataBytes) {
      throw new FormatError(
        file,
        `tensor "${name}": data_offsets [${begin}, ${end}] run past the end of the data (${dataBytes} bytes): the file is truncated. ${ERR_HINT}`,
      );
    }
    const expected = numel * DTYPE_SIZE[dtype];
    if (end - begin !== expected) {
      throw new FormatError(
        file,
        `tensor "${name}": data_offsets [${begin}, ${end}] hold ${end - begin} bytes, but shape [${shape.join(', ')}] × ${dtype} ` +
          `(${DTYPE_SIZE[dtype]} bytes) needs ${expected}. ${ERR_HINT}`,
      );
    }
    tensors.set(name, { name, dtype, shape: shape as number[], numel, begin, end, offset: dataOffset + begin, byteLength: end - begin });
  }
  // Ranges must tile the data buffer: sorted by begin, each starts where the previous ended, the last ends at the end.
  const sorted = [...tensors.values()].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let at = 0;
  let prev: TensorInfo | null = null;
  for (const t of sorted) {
    if (t.begin < at) {
      throw new FormatError(file, `tensors "${prev!.name}" [${prev!.begin}, ${prev!.end}] and "${t.name}" [${t.begin}, ${t.end}] overlap. ${ERR_HINT}`);
    }
    if (t.begin > at) {
      throw new FormatError(file, `bytes [${at}, ${t.begin}) of the data buffer before tensor "${t.name}" belong to no tensor. ${ERR_HINT}`);
    }
    at = t.end;
    prev = t;
  }
  if (at !== dataBytes) {
    throw new FormatError(file, `the data buffer has ${dataBytes} bytes but the tensors cover ${at}: ${dataBytes - at} trailing bytes belong to no tensor. ${ERR_HINT}`);
  }
  return { tensors, metadata, dataOffset, headerLength: n };
}

/** Parse a whole safetensors file held in memory. */
export function parseSafetensors(bytes: Uint8Array, file: string): SafetensorsHeader {
  return parseSafetensorsHeader(bytes, file, bytes.length);
}

/** A tensor's bytes, a view into the whole file's `bytes` (no copy). */
export function tensorBytes(bytes: Uint8Array, info: TensorInfo, file: string): Uint8Array {
  if (info.offset + info.byteLength > bytes.length) {
    throw new FormatError(file, `tensor "${info.name}" ends at byte ${info.offset + info.byteLength}, past the end of the file (${bytes.length} bytes). ${ERR_HINT}`);
  }
  return bytes.subarray(info.offset, info.offset + info.byteLength);
}

/** Copy little-endian bytes into a fresh typed array of `n` elements of `size` bytes. */
function copyLE<T extends Float32Array | Uint16Array | Int32Array | BigInt64Array | Uint8Array>(raw: Uint8Array, out: T, size: number): T {
  if (LITTLE_ENDIAN || size === 1) {
    new Uint8Array(out.buffer, out.byteOffset, out.byteLength).set(raw);
    return out;
  }
  const dv = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  for (let i = 0; i < out.length; i++) {
    if (out instanceof Float32Array) out[i] = dv.getFloat32(i * 4, true);
    else if (out instanceof Uint16Array) out[i] = dv.getUint16(i * 2, true);
    else if (out instanceof Int32Array) out[i] = dv.getInt32(i * 4, true);
    else if (out instanceof BigInt64Array) out[i] = dv.getBigInt64(i * 8, true);
  }
  return out;
}

function checkRaw(raw: Uint8Array, info: TensorInfo, file: string): void {
  if (raw.length !== info.byteLength) {
    throw new FormatError(file, `tensor "${info.name}": got ${raw.length} bytes of data, expected ${info.byteLength}: the file is truncated. ${ERR_HINT}`);
  }
}

/**
 * Decode one tensor's own bytes (exactly `info.byteLength` of them) to f32, converting F16 and BF16.
 * Integer tensors are refused: they are not weights.
 */
export function decodeTensorF32(raw: Uint8Array, info: TensorInfo, file: string): Float32Array {
  checkRaw(raw, info, file);
  switch (info.dtype) {
    case 'F32':
      return copyLE(raw, new Float32Array(info.numel), 4);
    case 'F16':
      return f16ArrayToF32(copyLE(raw, new Uint16Array(info.numel), 2));
    case 'BF16':
      return bf16ArrayToF32(copyLE(raw, new Uint16Array(info.numel), 2));
    default:
      throw new FormatError(file, `tensor "${info.name}" has dtype ${info.dtype}, not a float dtype (F32, F16, BF16): it cannot be read as weights.`);
  }
}

/**
 * Decode a run of whole F32/F16/BF16 elements (`raw`, little-endian) into `out` from element `at`: lets a reader
 * convert a large tensor chunk by chunk into its final f32 array, never holding a second full copy.
 */
export function decodeF32Into(raw: Uint8Array, dtype: FloatDtype, out: Float32Array, at: number): void {
  const size = DTYPE_SIZE[dtype];
  if (raw.length % size !== 0 || at + raw.length / size > out.length) {
    throw new RangeError(`decodeF32Into: ${raw.length} bytes of ${dtype} at element ${at} do not fit an output of ${out.length}`);
  }
  const n = raw.length / size;
  if (!LITTLE_ENDIAN || raw.byteOffset % size !== 0) raw = raw.slice(); // aligned copy (and the DataView path below)
  if (!LITTLE_ENDIAN) {
    const dv = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    for (let i = 0; i < n; i++) {
      if (dtype === 'F32') out[at + i] = dv.getFloat32(i * 4, true);
      else if (dtype === 'F16') out[at + i] = f16ToF32(dv.getUint16(i * 2, true));
      else out[at + i] = bf16ToF32(dv.getUint16(i * 2, true));
    }
    return;
  }
  if (dtype === 'F32') {
    out.set(new Float32Array(raw.buffer, raw.byteOffset, n), at);
  } else if (dtype === 'BF16') {
    const src = new Uint16Array(raw.buffer, raw.byteOffset, n);
    const o32 = new Uint32Array(out.buffer, out.byteOffset + at * 4, n);
    for (let i = 0; i < n; i++) o32[i] = src[i] << 16;
  } else {
    const src = new Uint16Array(raw.buffer, raw.byteOffset, n);
    for (let i = 0; i < n; i++) out[at + i] = f16ToF32(src[i]);
  }
}

/** One tensor as f32 from a whole file in memory (F16/BF16 converted). */
export function readTensorF32(bytes: Uint8Array, info: TensorInfo, file: string): Float32Array {
  return decodeTensorF32(tensorBytes(bytes, info, file), info, file);
}

function requireDtype(info: TensorInfo, file: string, want: SafetensorsDtype[]): void {
  if (!want.includes(info.dtype)) {
    throw new FormatError(file, `tensor "${info.name}" has dtype ${info.dtype}; expected ${want.join(' or ')}.`);
  }
}

/** Raw 16-bit patterns of an F16 or BF16 tensor (no conversion). */
export function readTensorU16(bytes: Uint8Array, info: TensorInfo, file: string): Uint16Array {
  requireDtype(info, file, ['F16', 'BF16']);
  return copyLE(tensorBytes(bytes, info, file), new Uint16Array(info.numel), 2);
}

export function readTensorI32(bytes: Uint8Array, info: TensorInfo, file: string): Int32Array {
  requireDtype(info, file, ['I32']);
  return copyLE(tensorBytes(bytes, info, file), new Int32Array(info.numel), 4);
}

export type WriteDtype = 'F32' | 'F16' | 'BF16' | 'I32';

export interface TensorToWrite {
  name: string;
  dtype: WriteDtype;
  shape: readonly number[];
  /**
   * F32: Float32Array. F16/BF16: Uint16Array of bit patterns, or Float32Array (rounded to nearest even on write).
   * I32: Int32Array.
   */
  data: Float32Array | Uint16Array | Int32Array;
}

const WRITE_SIZE: Record<WriteDtype, number> = { F32: 4, F16: 2, BF16: 2, I32: 4 };

function encodeTensor(t: TensorToWrite): Uint8Array {
  const numel = t.shape.reduce((a, b) => a * b, 1);
  if (t.data.length !== numel) {
    throw new ShapeError(`safetensors writer: tensor "${t.name}" has ${t.data.length} values but shape [${t.shape.join(', ')}] needs ${numel}`);
  }
  let arr: Float32Array | Uint16Array | Int32Array;
  switch (t.dtype) {
    case 'F32':
      if (!(t.data instanceof Float32Array)) throw new ShapeError(`safetensors writer: tensor "${t.name}" is F32 and needs a Float32Array`);
      arr = t.data;
      break;
    case 'F16':
    case 'BF16':
      if (t.data instanceof Float32Array) arr = t.dtype === 'F16' ? f32ArrayToF16(t.data) : f32ArrayToBf16(t.data);
      else if (t.data instanceof Uint16Array) arr = t.data;
      else throw new ShapeError(`safetensors writer: tensor "${t.name}" is ${t.dtype} and needs a Uint16Array of bits or a Float32Array`);
      break;
    case 'I32':
      if (!(t.data instanceof Int32Array)) throw new ShapeError(`safetensors writer: tensor "${t.name}" is I32 and needs an Int32Array`);
      arr = t.data;
      break;
  }
  return littleEndianBytes(arr); // a view: writeSafetensors copies it into the file's bytes
}

function checkNames(tensors: readonly { name: string; shape: readonly number[] }[]): void {
  const seen = new Set<string>();
  for (const t of tensors) {
    if (!t.name || t.name === '__metadata__') throw new ShapeError(`safetensors writer: invalid tensor name ${JSON.stringify(t.name)}`);
    if (seen.has(t.name)) throw new ShapeError(`safetensors writer: tensor "${t.name}" given twice`);
    seen.add(t.name);
    for (const d of t.shape) {
      if (!isNonNegInt(d)) throw new ShapeError(`safetensors writer: tensor "${t.name}" has shape [${t.shape.join(', ')}]; dimensions must be non-negative integers`);
    }
  }
}

/** The file order: dtype size (largest first, so every tensor is aligned to its element size), then name. */
function fileOrder<T extends { name: string; dtype: WriteDtype }>(tensors: readonly T[]): T[] {
  return [...tensors].sort((a, b) => WRITE_SIZE[b.dtype] - WRITE_SIZE[a.dtype] || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** The 8-byte length and the JSON header (padded with spaces to a multiple of 8) for tensors in file order. */
function headerBytes(order: readonly { name: string; dtype: WriteDtype; shape: readonly number[] }[], metadata?: Record<string, string>): { head: Uint8Array; dataBytes: number } {
  const header: Record<string, unknown> = {};
  if (metadata && Object.keys(metadata).length > 0) {
    const md: Record<string, string> = {};
    for (const k of Object.keys(metadata).sort()) md[k] = String(metadata[k]);
    header.__metadata__ = md;
  }
  let at = 0;
  for (const t of order) {
    const n = t.shape.reduce((a, b) => a * b, 1) * WRITE_SIZE[t.dtype];
    header[t.name] = { dtype: t.dtype, shape: [...t.shape], data_offsets: [at, at + n] };
    at += n;
  }
  let json = new TextEncoder().encode(JSON.stringify(header));
  const pad = (8 - (json.length % 8)) % 8;
  if (pad) {
    const padded = new Uint8Array(json.length + pad).fill(0x20);
    padded.set(json);
    json = padded;
  }
  const head = new Uint8Array(8 + json.length);
  const dv = new DataView(head.buffer);
  dv.setUint32(0, json.length, true);
  dv.setUint32(4, 0, true);
  head.set(json, 8);
  return { head, dataBytes: at };
}

/** A tensor to stream: its values are produced only when the writer reaches it. */
export interface TensorToStream {
  name: string;
  dtype: WriteDtype;
  shape: readonly number[];
  /** The values, as TensorToWrite.data. */
  produce(): Float32Array | Uint16Array | Int32Array;
}

/** Bytes of the safetensors file writeSafetensorsStream writes for these tensors. */
export function safetensorsFileBytes(tensors: readonly Omit<TensorToStream, 'produce'>[], metadata?: Record<string, string>): number {
  const { head, dataBytes } = headerBytes(fileOrder(tensors), metadata);
  return head.length + dataBytes;
}

/**
 * Stream a safetensors file through `sink`, one tensor in memory at a time; the same bytes as writeSafetensors.
 * Returns the bytes written.
 */
export function writeSafetensorsStream(tensors: readonly TensorToStream[], metadata: Record<string, string> | undefined, sink: (chunk: Uint8Array) => void): number {
  checkNames(tensors);
  const order = fileOrder(tensors);
  const { head, dataBytes } = headerBytes(order, metadata);
  sink(head);
  for (const t of order) sink(encodeTensor({ name: t.name, dtype: t.dtype, shape: t.shape, data: t.produce() }));
  return head.length + dataBytes;
}

/**
 * Serialize tensors to a safetensors file. Deterministic: tensors ordered by dtype size (largest first, so every
 * tensor is aligned to its element size) then by name; header JSON padded with spaces to a multiple of 8 bytes.
 */
export function writeSafetensors(tensors: readonly TensorToWrite[], metadata?: Record<string, string>): Uint8Array {
  checkNames(tensors);
  const order = fileOrder(tensors);
  const blobs = order.map((t) => encodeTensor(t));
  const { head, dataBytes } = headerBytes(order, metadata);
  const out = new Uint8Array(head.length + dataBytes);
  out.set(head);
  let p = head.length;
  for (const b of blobs) {
    out.set(b, p);
    p += b.length;
  }
  return out;
}

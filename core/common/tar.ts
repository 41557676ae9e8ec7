// A tar archive's layout, written by hand from the POSIX ustar format (IEEE Std 1003.1, "pax" chapter, the ustar
// interchange format): each file is a 512-byte header followed by its bytes, padded to a multiple of 512, and the
// archive ends with two zero blocks. Sizes of 8 GiB and more use the base-256 size field GNU tar and libarchive read.
// The layout is computed from the files' sizes alone, so any byte range of the archive can be produced on demand
// (core/node/service/downloads.ts streams a bundle this way without writing the archive anywhere). Pure TS.

export const TAR_BLOCK = 512;

export interface TarEntry {
  /** The path inside the archive, '/'-separated (at most 255 bytes in UTF-8, the file name part at most 100). */
  path: string;
  size: number;
  /** Seconds since 1970. */
  mtime: number;
}

/** One region of the archive: a header, a file's bytes, or zero padding (including the end-of-archive blocks). */
export type TarPart =
  | { kind: 'header'; start: number; bytes: Uint8Array }
  | { kind: 'file'; start: number; length: number; entry: number }
  | { kind: 'zeros'; start: number; length: number };

const enc = new TextEncoder();

function put(block: Uint8Array, at: number, width: number, text: string): void {
  const b = enc.encode(text);
  if (b.length > width) throw new RangeError(`tar: "${text}" does not fit ${width} bytes`);
  block.set(b, at);
}

/** An octal field of `width` bytes: digits, zero-padded, then NUL. */
function octal(block: Uint8Array, at: number, width: number, v: number): void {
  put(block, at, width, `${Math.floor(v).toString(8).padStart(width - 1, '0')}\0`);
}

/** Split a path into ustar's prefix (directories) and name (≤ 100 bytes). */
function splitPath(path: string): { prefix: string; name: string } {
  if (enc.encode(path).length <= 100) return { prefix: '', name: path };
  for (let i = path.indexOf('/'); i >= 0; i = path.indexOf('/', i + 1)) {
    const prefix = path.slice(0, i);
    const name = path.slice(i + 1);
    if (enc.encode(prefix).length <= 155 && enc.encode(name).length <= 100) return { prefix, name };
  }
  throw new RangeError(`tar: the path "${path}" is too long for a ustar header (255 bytes, its file name 100)`);
}

/** The 512-byte ustar header of a regular file. */
export function tarHeader(e: TarEntry): Uint8Array {
  const h = new Uint8Array(TAR_BLOCK);
  const { prefix, name } = splitPath(e.path);
  put(h, 0, 100, name);
  octal(h, 100, 8, 0o644);
  octal(h, 108, 8, 0);
  octal(h, 116, 8, 0);
  if (e.size < 8 ** 11) octal(h, 124, 12, e.size);
  else {
    // base-256: the high bit of the first byte set, the size big-endian in the other 11
    h[124] = 0x80;
    let v = BigInt(e.size);
    for (let i = 135; i > 124; i--) {
      h[i] = Number(v & 0xffn);
      v >>= 8n;
    }
  }
  octal(h, 136, 12, e.mtime);
  h.fill(0x20, 148, 156); // the checksum counts its own field as spaces
  h[156] = 0x30; // '0': a regular file
  put(h, 257, 6, 'ustar\0');
  put(h, 263, 2, '00');
  put(h, 345, 155, prefix);
  let sum = 0;
  for (const b of h) sum += b;
  put(h, 148, 8, `${sum.toString(8).padStart(6, '0')}\0 `);
  return h;
}

/** The archive's regions in order, and its total size. */
export function tarLayout(entries: readonly TarEntry[]): { parts: TarPart[]; size: number } {
  const parts: TarPart[] = [];
  let at = 0;
  entries.forEach((e, i) => {
    parts.push({ kind: 'header', start: at, bytes: tarHeader(e) });
    at += TAR_BLOCK;
    if (e.size > 0) parts.push({ kind: 'file', start: at, length: e.size, entry: i });
    at += e.size;
    const pad = (TAR_BLOCK - (e.size % TAR_BLOCK)) % TAR_BLOCK;
    if (pad) parts.push({ kind: 'zeros', start: at, length: pad });
    at += pad;
  });
  parts.push({ kind: 'zeros', start: at, length: 2 * TAR_BLOCK });
  at += 2 * TAR_BLOCK;
  return { parts, size: at };
}

/**
 * Bytes [offset, offset + length) of the archive; `readFile(entry, position, length)` supplies a file's bytes (it must
 * return exactly `length` bytes).
 */
export function tarRange(layout: { parts: TarPart[]; size: number }, offset: number, length: number, readFile: (entry: number, position: number, length: number) => Uint8Array): Uint8Array {
  const end = Math.min(layout.size, offset + length);
  const out = new Uint8Array(Math.max(0, end - offset));
  for (const p of layout.parts) {
    const pLen = p.kind === 'header' ? p.bytes.length : p.length;
    const from = Math.max(offset, p.start);
    const to = Math.min(end, p.start + pLen);
    if (from >= to) continue;
    if (p.kind === 'header') out.set(p.bytes.subarray(from - p.start, to - p.start), from - offset);
    else if (p.kind === 'file') out.set(readFile(p.entry, from - p.start, to - from), from - offset);
    // zeros: already zero
  }
  return out;
}

// core/common/safetensors.ts: round trips (F32/F16/BF16/I32), the layout of the reference writer, and every bad
// input giving a FormatError that names the file (and the tensor).
import { describe, expect, test } from 'vitest';
import { FormatError, ShapeError } from '../../core/common/errors';
import { bf16ToF32, f16ToF32, f32ToBf16, f32ToF16 } from '../../core/common/half';
import {
  parseSafetensors,
  readTensorF32,
  readTensorI32,
  readTensorU16,
  writeSafetensors,
} from '../../core/common/safetensors';

const F = 'weights.safetensors';

/** A hand-made file: 8-byte length, the header text as given, then `data`. */
function rawFile(header: string | object, data: Uint8Array = new Uint8Array(0), lengthOverride?: bigint): Uint8Array {
  const text = typeof header === 'string' ? header : JSON.stringify(header);
  const h = new TextEncoder().encode(text);
  const out = new Uint8Array(8 + h.length + data.length);
  new DataView(out.buffer).setBigUint64(0, lengthOverride ?? BigInt(h.length), true);
  out.set(h, 8);
  out.set(data, 8 + h.length);
  return out;
}

function expectFormatError(fn: () => unknown, ...parts: (string | RegExp)[]): FormatError {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(FormatError);
  const fe = err as FormatError;
  expect(fe.message).toContain(F);
  expect(fe.file).toBe(F);
  for (const p of parts) expect(fe.message, `p ${p}`).toMatch(p);
  return fe;
}

describe('round trips', () => {
  const a = Float32Array.from({ length: 12 }, (_, i) => Math.sin(i) * 3.7 - 0.1 * i);
  const b = Float32Array.from([1, -2, 0.5, 65504, 1e-3, -0]);

  test('F32 is bit-exact and shapes/metadata survive', () => {
    const bytes = writeSafetensors(
      [
        { name: 'b', dtype: 'F32', shape: [6], data: b },
        { name: 'a.weight', dtype: 'F32', shape: [3, 4], data: a },
      ],
      { format: 'pt' },
    );
    const h = parseSafetensors(bytes, F);
    expect(h.metadata).toEqual({ format: 'pt' });
    expect([...h.tensors.keys()].sort()).toEqual(['a.weight', 'b']);
    expect(h.tensors.get('a.weight')!.shape).toEqual([3, 4]);
    expect(readTensorF32(bytes, h.tensors.get('a.weight')!, F)).toEqual(a);
    expect(readTensorF32(bytes, h.tensors.get('b')!, F)).toEqual(b);
  });

  test('F16 and BF16 from f32 round to nearest even, and from bits are kept as is', () => {
    const bytes = writeSafetensors([
      { name: 'h', dtype: 'F16', shape: [12], data: a },
      { name: 'g', dtype: 'BF16', shape: [2, 6], data: a },
      { name: 'bits', dtype: 'BF16', shape: [2], data: Uint16Array.from([0x3f80, 0xc000]) },
    ]);
    const h = parseSafetensors(bytes, F);
    const half = readTensorF32(bytes, h.tensors.get('h')!, F);
    const bf = readTensorF32(bytes, h.tensors.get('g')!, F);
    for (let i = 0; i < a.length; i++) {
      expect(half[i], `i ${i}`).toBe(f16ToF32(f32ToF16(a[i])));
      expect(bf[i], `i ${i}`).toBe(bf16ToF32(f32ToBf16(a[i])));
    }
    expect(readTensorF32(bytes, h.tensors.get('bits')!, F)).toEqual(Float32Array.from([1, -2]));
    expect(readTensorU16(bytes, h.tensors.get('bits')!, F)).toEqual(Uint16Array.from([0x3f80, 0xc000]));
  });

  test('bf16 conversion: exact values stay exact, others round to nearest even', () => {
    for (const v of [0, 1, -2, 0.5, 3.140625, 256, -1e30]) expect(bf16ToF32(f32ToBf16(v)), `v ${v}`).toBe(Math.fround(bf16ToF32(f32ToBf16(v))));
    expect(bf16ToF32(f32ToBf16(1))).toBe(1);
    expect(bf16ToF32(f32ToBf16(3.140625))).toBe(3.140625);
    // 1 + 2^-8 is halfway between 1 and 1 + 2^-7: ties to even (1).
    expect(bf16ToF32(f32ToBf16(1 + 2 ** -8))).toBe(1);
    expect(bf16ToF32(f32ToBf16(1 + 3 * 2 ** -8))).toBe(1 + 2 ** -6);
  });

  test('I32 round trip and empty tensors', () => {
    const ids = Int32Array.from([1, -5, 151643, 0]);
    const bytes = writeSafetensors([
      { name: 'ids', dtype: 'I32', shape: [2, 2], data: ids },
      { name: 'empty', dtype: 'F32', shape: [0, 4], data: new Float32Array(0) },
    ]);
    const h = parseSafetensors(bytes, F);
    expect(readTensorI32(bytes, h.tensors.get('ids')!, F)).toEqual(ids);
    expect(readTensorF32(bytes, h.tensors.get('empty')!, F)).toEqual(new Float32Array(0));
    expect(() => readTensorF32(bytes, h.tensors.get('ids')!, F)).toThrow(FormatError);
  });

  test('layout: deterministic, header padded with spaces to 8 bytes, larger dtypes first so tensors are aligned', () => {
    const t = [
      { name: 'z16', dtype: 'F16' as const, shape: [3], data: Float32Array.from([1, 2, 3]) },
      { name: 'a32', dtype: 'F32' as const, shape: [1], data: Float32Array.from([7]) },
      { name: 'm16', dtype: 'BF16' as const, shape: [1], data: Float32Array.from([5]) },
    ];
    const x = writeSafetensors(t, { format: 'pt' });
    const y = writeSafetensors([...t].reverse(), { format: 'pt' });
    expect(x).toEqual(y);
    const n = Number(new DataView(x.buffer).getBigUint64(0, true));
    expect(n % 8).toBe(0);
    const text = new TextDecoder().decode(x.subarray(8, 8 + n));
    expect(text.trimEnd().endsWith('}')).toBe(true);
    expect(text.slice(text.trimEnd().length)).toMatch(/^ *$/);
    const h = parseSafetensors(x, F);
    expect(h.dataOffset).toBe(8 + n);
    expect(h.tensors.get('a32')!.begin).toBe(0); // F32 first
    expect(h.tensors.get('m16')!.begin).toBe(4); // then 16-bit tensors by name: m16 before z16
    expect(h.tensors.get('z16')!.begin).toBe(6);
    expect(JSON.parse(text)).toMatchObject({ __metadata__: { format: 'pt' }, a32: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } });
  });

  test('writer refuses data that does not match its shape or dtype', () => {
    expect(() => writeSafetensors([{ name: 'x', dtype: 'F32', shape: [2, 2], data: new Float32Array(3) }])).toThrow(ShapeError);
    expect(() => writeSafetensors([{ name: 'x', dtype: 'F32', shape: [2], data: new Int32Array(2) }])).toThrow(ShapeError);
    expect(() => writeSafetensors([{ name: 'x', dtype: 'I32', shape: [1], data: new Int32Array(1) }, { name: 'x', dtype: 'I32', shape: [1], data: new Int32Array(1) }])).toThrow(/twice/);
  });
});

describe('bad input: FormatError naming the file', () => {
  const good = writeSafetensors([{ name: 'w', dtype: 'F32', shape: [4], data: Float32Array.from([1, 2, 3, 4]) }]);
  const f32 = (n: number) => new Uint8Array(n * 4);

  test('shorter than 8 bytes', () => {
    expectFormatError(() => parseSafetensors(new Uint8Array(5), F), /truncated/, /8-byte/);
    expectFormatError(() => parseSafetensors(new Uint8Array(0), F), /truncated/);
  });

  test('shorter than the header it announces', () => {
    expectFormatError(() => parseSafetensors(good.subarray(0, 20), F), /truncated/);
  });

  test('absurd header length', () => {
    expectFormatError(() => parseSafetensors(rawFile('{}', new Uint8Array(0), 2n ** 40n), F), /absurd/);
    expectFormatError(() => parseSafetensors(rawFile('{}', new Uint8Array(0), 200_000_000n), F), /absurd/);
  });

  test('header not JSON, or not an object', () => {
    expectFormatError(() => parseSafetensors(rawFile('{"w": {"dtype": "F32", '), F), /not JSON/);
    expectFormatError(() => parseSafetensors(rawFile('[1, 2]'), F), /not a JSON object/);
    const bad = rawFile('{"a":1}');
    bad[9] = 0xff; // invalid UTF-8 in place of the quote
    expectFormatError(() => parseSafetensors(bad, F), /UTF-8/);
  });

  test('data truncated: offsets run past the end', () => {
    expectFormatError(() => parseSafetensors(good.subarray(0, good.length - 4), F), /"w"/, /past the end/);
  });

  test('unsupported dtype is named, with the supported list', () => {
    const e = expectFormatError(() => parseSafetensors(rawFile({ w: { dtype: 'F64', shape: [1], data_offsets: [0, 8] } }, new Uint8Array(8)), F), /"w"/, /F64/);
    expect(e.message).toContain('F32, F16, BF16, I32, I64, U8');
    expectFormatError(() => parseSafetensors(rawFile({ w: { dtype: 'Q4', shape: [1], data_offsets: [0, 1] } }, new Uint8Array(1)), F), /"Q4"/);
  });

  test('offsets that do not match shape × dtype size', () => {
    expectFormatError(() => parseSafetensors(rawFile({ w: { dtype: 'F32', shape: [3], data_offsets: [0, 16] } }, f32(4)), F), /"w"/, /needs 12/);
  });

  test('overlapping, gapped and trailing ranges', () => {
    const overlap = { a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [2], data_offsets: [4, 12] } };
    expectFormatError(() => parseSafetensors(rawFile(overlap, f32(3)), F), /overlap/, /"a"/, /"b"/);
    const gap = { a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] }, b: { dtype: 'F32', shape: [1], data_offsets: [8, 12] } };
    expectFormatError(() => parseSafetensors(rawFile(gap, f32(3)), F), /belong to no tensor/);
    expectFormatError(() => parseSafetensors(rawFile({ a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } }, f32(2)), F), /trailing/);
  });

  test('negative, fractional or missing shapes and offsets', () => {
    expectFormatError(() => parseSafetensors(rawFile({ w: { dtype: 'F32', shape: [-1], data_offsets: [0, 4] } }, f32(1)), F), /"w"/, /non-negative integers/);
    expectFormatError(() => parseSafetensors(rawFile({ w: { dtype: 'F32', shape: [1.5], data_offsets: [0, 4] } }, f32(1)), F), /non-negative integers/);
    expectFormatError(() => parseSafetensors(rawFile({ w: { dtype: 'F32', data_offsets: [0, 4] } }, f32(1)), F), /"shape"/);
    expectFormatError(() => parseSafetensors(rawFile({ w: { dtype: 'F32', shape: [1], data_offsets: [4, 0] } }, f32(1)), F), /end before/);
    expectFormatError(() => parseSafetensors(rawFile({ w: { dtype: 'F32', shape: [1], data_offsets: [0] } }, f32(1)), F), /data_offsets/);
  });

  test('metadata must be strings', () => {
    expectFormatError(() => parseSafetensors(rawFile({ __metadata__: { format: 1 } }), F), /__metadata__/);
  });
});

// ggml's Q8_0 and Q4_0 block formats, bytes in and bytes out, for GGUF model files llama.cpp reads (ggml-common.h
// block_q8_0 / block_q4_0; the reference quantizers quantize_row_q8_0_ref / quantize_row_q4_0_ref of ggml-quants.c,
// which llama-quantize and gguf-py use to write files; the dequantizers dequantize_row_q8_0 / _q4_0).
// Both quantize a row in blocks of 32 consecutive values (along ne[0], the contiguous dimension):
//   Q8_0, 34 bytes a block: f16 d, then 32 × int8 q.       d = amax / 127, q = round(x / d) (half away from zero);
//                                                            x ≈ q · d.
//   Q4_0, 18 bytes a block: f16 d, then 16 bytes of nibbles. d = m / −8 where m is the value of largest magnitude
//                                                            (sign kept), q = min(15, trunc(x / d + 8.5)) ∈ [0, 15];
//                                                            byte j holds value j in its low nibble and value j + 16
//                                                            in its high nibble; x ≈ (q − 8) · d.
// The arithmetic is ggml's in f32 (1/d in f32, the products rounded to f32), so our bytes equal llama-quantize's.
// d is stored as IEEE half, rounded to nearest even. Pure TS.
import { ShapeError } from '../common/errors';
import { f16ToF32, f32ToF16 } from '../common/half';

/** Values per block (ggml's QK8_0 and QK4_0). */
export const QK = 32;
export const Q8_0_BLOCK_BYTES = 2 + QK; // f16 d + 32 int8
export const Q4_0_BLOCK_BYTES = 2 + QK / 2; // f16 d + 16 bytes of nibbles

export type QuantBlockType = 'Q8_0' | 'Q4_0';
export const QUANT_BLOCK_BYTES: Record<QuantBlockType, number> = { Q8_0: Q8_0_BLOCK_BYTES, Q4_0: Q4_0_BLOCK_BYTES };

const fr = Math.fround;

function checkLength(n: number, what: string): void {
  if (n % QK !== 0) throw new ShapeError(`${what}: ${n} values are not a whole number of ${QK}-value blocks; quantize only rows whose length (ne[0]) is a multiple of ${QK}`);
}

/** C's roundf: half away from zero. */
function roundHalfAway(v: number): number {
  return v < 0 ? -Math.floor(-v + 0.5) : Math.floor(v + 0.5);
}

/** Quantize values (a multiple of 32, row after row) to Q8_0 blocks. */
export function quantizeQ8_0(x: Float32Array): Uint8Array {
  checkLength(x.length, 'Q8_0');
  const nb = x.length / QK;
  const out = new Uint8Array(nb * Q8_0_BLOCK_BYTES);
  const dv = new DataView(out.buffer);
  for (let b = 0; b < nb; b++) {
    const x0 = b * QK;
    let amax = 0;
    for (let j = 0; j < QK; j++) amax = Math.max(amax, Math.abs(x[x0 + j]));
    const d = fr(amax / 127);
    const id = d ? fr(1 / d) : 0;
    const o = b * Q8_0_BLOCK_BYTES;
    dv.setUint16(o, f32ToF16(d), true);
    for (let j = 0; j < QK; j++) dv.setInt8(o + 2 + j, roundHalfAway(fr(x[x0 + j] * id)));
  }
  return out;
}

/** Quantize values (a multiple of 32, row after row) to Q4_0 blocks. */
export function quantizeQ4_0(x: Float32Array): Uint8Array {
  checkLength(x.length, 'Q4_0');
  const nb = x.length / QK;
  const out = new Uint8Array(nb * Q4_0_BLOCK_BYTES);
  const dv = new DataView(out.buffer);
  const half = QK / 2;
  for (let b = 0; b < nb; b++) {
    const x0 = b * QK;
    let amax = 0;
    let max = 0;
    for (let j = 0; j < QK; j++) {
      const v = x[x0 + j];
      if (amax < Math.abs(v)) {
        amax = Math.abs(v);
        max = v;
      }
    }
    const d = fr(max / -8);
    const id = d ? fr(1 / d) : 0;
    const o = b * Q4_0_BLOCK_BYTES;
    dv.setUint16(o, f32ToF16(d), true);
    const code = (v: number): number => Math.min(15, Math.trunc(fr(fr(v * id) + 8.5))); // ggml: MIN(15, (int8_t)(x0 + 8.5f))
    for (let j = 0; j < half; j++) out[o + 2 + j] = code(x[x0 + j]) | (code(x[x0 + half + j]) << 4);
  }
  return out;
}

/**
 * Blocks of `blockBytes` (an f16 scale d, then the codes) back to QK values each: `decode(out, base, o, d)` writes the
 * block at byte o into out[base .. base + QK).
 */
function decodeBlocks(name: string, bytes: Uint8Array, blockBytes: number, decode: (out: Float32Array, base: number, o: number, d: number) => void): Float32Array {
  if (bytes.length % blockBytes !== 0) throw new ShapeError(`${name}: ${bytes.length} bytes are not a whole number of ${blockBytes}-byte blocks`);
  const nb = bytes.length / blockBytes;
  const out = new Float32Array(nb * QK); // (nb·QK,)
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let b = 0; b < nb; b++) decode(out, b * QK, b * blockBytes, f16ToF32(dv.getUint16(b * blockBytes, true)));
  return out;
}

/** Q8_0 blocks back to values: x = q · d. */
export function dequantizeQ8_0(bytes: Uint8Array): Float32Array {
  const codes = new Int8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return decodeBlocks('Q8_0', bytes, Q8_0_BLOCK_BYTES, (out, base, o, d) => {
    for (let j = 0; j < QK; j++) out[base + j] = codes[o + 2 + j] * d;
  });
}

/** Q4_0 blocks back to values: x = (q − 8) · d, low nibbles first (values 0..15), then high nibbles (16..31). */
export function dequantizeQ4_0(bytes: Uint8Array): Float32Array {
  const half = QK / 2;
  return decodeBlocks('Q4_0', bytes, Q4_0_BLOCK_BYTES, (out, base, o, d) => {
    for (let j = 0; j < half; j++) {
      const q = bytes[o + 2 + j];
      out[base + j] = ((q & 0x0f) - 8) * d;
      out[base + half + j] = ((q >> 4) - 8) * d;
    }
  });
}

export function quantizeBlocks(type: QuantBlockType, x: Float32Array): Uint8Array {
  return type === 'Q8_0' ? quantizeQ8_0(x) : quantizeQ4_0(x);
}

export function dequantizeBlocks(type: QuantBlockType, bytes: Uint8Array): Float32Array {
  return type === 'Q8_0' ? dequantizeQ8_0(bytes) : dequantizeQ4_0(bytes);
}

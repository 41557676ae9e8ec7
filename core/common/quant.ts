// CPU packing of frozen weights into the engine's int8 / int4 formats (DESIGN.md §4; layout in core/kernels/weight.ts):
// affine per group of 64 inputs, f16 scale and bias, w ≈ scale·q + bias with q in [0, 2^bits − 1].
// Quantization uses the f16-rounded scale and bias, so dequantize(quantize(w)) is exactly what the GPU computes.
import { f16ToF32, f32ToF16 } from './half';

export const GROUP = 64;
export type QuantBits = 4 | 8;

export interface PackedRows {
  bits: QuantBits;
  rows: number;
  cols: number;
  /** (rows, cols·bits/32) u32: q values, lowest bits first. */
  data: Uint32Array;
  /** (rows, cols/64) u32: f16 scale in the low half, f16 bias in the high half. */
  sb: Uint32Array;
}

/** Quantize a row-major [rows, cols] f32 matrix. cols must be a multiple of 64. */
export function quantizeRows(w: ArrayLike<number>, rows: number, cols: number, bits: QuantBits): PackedRows {
  if (cols % GROUP !== 0) throw new RangeError(`quantize: ${cols} input features is not a multiple of ${GROUP}`);
  const perWord = 32 / bits;
  const qmax = (1 << bits) - 1;
  const groups = cols / GROUP;
  const data = new Uint32Array((rows * cols) / perWord);
  const sb = new Uint32Array(rows * groups);
  for (let r = 0; r < rows; r++) {
    for (let g = 0; g < groups; g++) {
      const base = r * cols + g * GROUP;
      let lo = Infinity;
      let hi = -Infinity;
      for (let i = 0; i < GROUP; i++) {
        const v = w[base + i];
        if (v < lo) lo = v;
        if (v > hi) hi = v;
      }
      const sBits = f32ToF16(hi > lo ? (hi - lo) / qmax : 0);
      const bBits = f32ToF16(lo);
      const scale = f16ToF32(sBits);
      const bias = f16ToF32(bBits);
      sb[r * groups + g] = (sBits | (bBits << 16)) >>> 0;
      for (let i = 0; i < GROUP; i++) {
        const q = scale > 0 ? Math.min(qmax, Math.max(0, Math.round((w[base + i] - bias) / scale))) : 0;
        const col = g * GROUP + i;
        const word = (r * cols + col) / perWord;
        const wi = Math.floor(word);
        const shift = (col % perWord) * bits;
        data[wi] = (data[wi] | (q << shift)) >>> 0;
      }
    }
  }
  return { bits, rows, cols, data, sb };
}

/** The exact values the GPU kernels use: scale·q + bias, computed in f32 as the kernels do. */
export function dequantizeRows(p: PackedRows): Float32Array {
  const { bits, rows, cols } = p;
  const perWord = 32 / bits;
  const mask = (1 << bits) - 1;
  const groups = cols / GROUP;
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const word = p.data[Math.floor((r * cols + c) / perWord)];
      const q = (word >>> ((c % perWord) * bits)) & mask;
      const s = p.sb[r * groups + Math.floor(c / GROUP)];
      const scale = f16ToF32(s & 0xffff);
      const bias = f16ToF32(s >>> 16);
      out[r * cols + c] = Math.fround(Math.fround(scale * q) + bias);
    }
  }
  return out;
}

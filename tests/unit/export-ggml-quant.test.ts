// ggml's Q8_0 and Q4_0 blocks (core/export/ggml-quant.ts) against the block layout of ggml-common.h and the reference
// quantizers of ggml-quants.c, worked out by hand here for small blocks (the scale d as f16 first, then the codes; Q4_0's
// low nibbles hold values 0..15 and the high nibbles 16..31), and against the CPU dequantizer on random data: the round
// trip error stays within half a step (Q8_0) or a step (Q4_0, whose top code is clamped), and the largest is printed.
// That llama.cpp reads our blocks the same way is tests/gpu/llama-parity.test.ts.
import { describe, expect, it } from 'vitest';
import { f16ToF32, f32ToF16 } from '../../core/common/half';
import { ShapeError } from '../../core/common/errors';
import {
  dequantizeQ4_0, dequantizeQ8_0, Q4_0_BLOCK_BYTES, Q8_0_BLOCK_BYTES, QK, quantizeQ4_0, quantizeQ8_0,
} from '../../core/export/ggml-quant';
import { ggufFloatBytes, ggmlTensorBytes } from '../../core/export/gguf-file';
import { rand } from '../helpers/gpu';

const ramp = (): Float32Array => Float32Array.from({ length: 32 }, (_, j) => (j - 16) * 0.25); // −4 .. 3.75

describe('Q8_0 blocks', () => {
  it('lays out f16 d = amax / 127, then 32 int8 codes round(x / d)', () => {
    const b = quantizeQ8_0(ramp());
    expect(b.length).toBe(Q8_0_BLOCK_BYTES);
    const dv = new DataView(b.buffer);
    expect(dv.getUint16(0, true)).toBe(f32ToF16(4 / 127));
    // x / d = (j − 16) · 0.25 · 127 / 4 = (j − 16) · 7.9375
    expect(dv.getInt8(2 + 0)).toBe(-127);
    expect(dv.getInt8(2 + 1)).toBe(-119); // −119.06
    expect(dv.getInt8(2 + 16)).toBe(0);
    expect(dv.getInt8(2 + 17)).toBe(8); // 7.94
    expect(dv.getInt8(2 + 31)).toBe(119); // 119.06
    const d = f16ToF32(dv.getUint16(0, true));
    expect(dequantizeQ8_0(b)[0]).toBe(-127 * d);
  });

  it('rounds halves away from zero, as C roundf', () => {
    // amax 127 → d = 1, x / d = ±2.5 → ±3
    const x = new Float32Array(32);
    x[0] = 127;
    x[1] = 2.5;
    x[2] = -2.5;
    const b = quantizeQ8_0(x);
    expect([new DataView(b.buffer).getInt8(3), new DataView(b.buffer).getInt8(4)]).toEqual([3, -3]);
  });

  it('an all-zero block is d = 0 and codes 0', () => {
    const b = quantizeQ8_0(new Float32Array(64));
    expect([...b]).toEqual(new Array(2 * Q8_0_BLOCK_BYTES).fill(0));
    expect([...dequantizeQ8_0(b)]).toEqual(new Array(64).fill(0));
  });

  it('round trip of random rows within half a step (plus the f16 rounding of d)', () => {
    const x = rand(32 * 256, 5, 0.3);
    const y = dequantizeQ8_0(quantizeQ8_0(x));
    let worst = 0;
    for (let b = 0; b < x.length / QK; b++) {
      let amax = 0;
      for (let j = 0; j < QK; j++) amax = Math.max(amax, Math.abs(x[b * QK + j]));
      const d = f16ToF32(f32ToF16(amax / 127));
      for (let j = 0; j < QK; j++) {
        const e = Math.abs(x[b * QK + j] - y[b * QK + j]) / d;
        worst = Math.max(worst, e);
        expect(e, `block ${b} value ${j}`).toBeLessThanOrEqual(0.5 + 127 * 2 ** -11);
      }
    }
    console.log(`[max diff] Q8_0 round trip: ${worst.toFixed(4)} steps`);
  });
});

describe('Q4_0 blocks', () => {
  it('lays out f16 d = m / −8 (m the value of largest magnitude), then value j | value j+16 << 4', () => {
    const b = quantizeQ4_0(ramp()); // m = −4 → d = 0.5, codes trunc(x / d + 8.5) = trunc((j − 16) / 2 + 8.5)
    expect(b.length).toBe(Q4_0_BLOCK_BYTES);
    expect(new DataView(b.buffer).getUint16(0, true)).toBe(f32ToF16(0.5));
    const code = (j: number): number => Math.min(15, Math.trunc((j - 16) / 2 + 8.5));
    expect([code(0), code(1), code(2), code(16), code(31)]).toEqual([0, 1, 1, 8, 15]); // 31: 16 clamped to 15
    for (let j = 0; j < 16; j++) expect(b[2 + j], `byte ${j}`).toBe(code(j) | (code(j + 16) << 4));
    expect(b[2]).toBe(0x80);
    expect(b[2 + 15]).toBe(0xf8);
    const y = dequantizeQ4_0(b);
    expect([y[0], y[16], y[31]]).toEqual([-4, 0, 3.5]); // (q − 8) · d; 3.75 came back as 3.5 (the clamp)
  });

  it('a positive extreme gives a negative d and still decodes to itself', () => {
    const x = new Float32Array(32);
    x[0] = 3;
    x[5] = -1.5;
    const b = quantizeQ4_0(x);
    const d = f16ToF32(new DataView(b.buffer).getUint16(0, true));
    expect(d).toBe(-0.375);
    const y = dequantizeQ4_0(b);
    expect([y[0], y[5], y[1] + 0]).toEqual([3, -1.5, 0]); // (8 − 8) · d is −0 for a negative d
  });

  it('round trip of random rows within one step, and most values within half a step', () => {
    const x = rand(32 * 256, 9, 0.3);
    const y = dequantizeQ4_0(quantizeQ4_0(x));
    let worst = 0;
    let half = 0;
    for (let b = 0; b < x.length / QK; b++) {
      let m = 0;
      for (let j = 0; j < QK; j++) if (Math.abs(x[b * QK + j]) > Math.abs(m)) m = x[b * QK + j];
      const d = Math.abs(f16ToF32(f32ToF16(m / -8)));
      for (let j = 0; j < QK; j++) {
        const e = Math.abs(x[b * QK + j] - y[b * QK + j]) / d;
        worst = Math.max(worst, e);
        if (e <= 0.5 + 8 * 2 ** -11) half++;
        expect(e, `block ${b} value ${j}`).toBeLessThanOrEqual(1 + 8 * 2 ** -11);
      }
    }
    console.log(`[max diff] Q4_0 round trip: ${worst.toFixed(4)} steps; ${((100 * half) / x.length).toFixed(1)} % within half a step`);
    expect(half / x.length).toBeGreaterThan(0.95);
  });
});

describe('block types in the GGUF container', () => {
  it('sizes a tensor by blocks along ne[0] and refuses rows that are not whole blocks', () => {
    expect(ggmlTensorBytes('Q8_0', [64, 3])).toBe(6 * Q8_0_BLOCK_BYTES);
    expect(ggmlTensorBytes('Q4_0', [64, 3])).toBe(6 * Q4_0_BLOCK_BYTES);
    expect(ggmlTensorBytes('Q4_0', [48, 3])).toBeNull();
    expect(ggmlTensorBytes('F16', [48, 3])).toBe(288);
    expect(() => quantizeQ4_0(new Float32Array(48))).toThrow(ShapeError);
    expect(ggufFloatBytes(ramp(), 'Q4_0')).toEqual(quantizeQ4_0(ramp()));
  });
});

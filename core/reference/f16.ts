// CPU reference for core/kernels/f16 (f16 storage of f32 values): each value rounded to the nearest f16 (ties to
// even, core/common/half.ts) and read back as f32.
import { f16ArrayToF32, f32ArrayToF16 } from '../common/half';

/** The f16 bits of each value (what toF16 stores). */
export function toF16Ref(x: ArrayLike<number>): Uint16Array {
  return f32ArrayToF16(x);
}

/** Each value as stored in f16 and read back (what fromF16(toF16(x)) gives). */
export function roundF16Ref(x: ArrayLike<number>): Float32Array {
  return f16ArrayToF32(f32ArrayToF16(x));
}

// CPU reference for core/kernels/f16 (f16 storage of f32 values): each value rounded to the nearest f16 (ties to
// even, core/common/half.ts) and read back as f32.
import { f16ToF32, f32ToF16 } from '../common/half';

/** The f16 bits of each value (what toF16 stores). */
export function toF16Ref(x: ArrayLike<number>): Uint16Array {
  const out = new Uint16Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = f32ToF16(x[i]);
  return out;
}

/** Each value as stored in f16 and read back (what fromF16(toF16(x)) gives). */
export function roundF16Ref(x: ArrayLike<number>): Float32Array {
  const out = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = f16ToF32(f32ToF16(x[i]));
  return out;
}

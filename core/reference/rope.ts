// CPU reference for core/kernels/rope (HF Qwen2 rotate-half RoPE), in float64 from a cos|sin table: the forward
// x·cos + rotate_half(x)·sin and its transpose. The table is core/kernels/rope.ts ropeTableValues (HF's f32 angles).
import type { RopeDims } from '../kernels/rope';

/** out (B*T, H*HS) = RoPE(x), or its transpose when `backward`. out may be x. */
export function ropeRef(
  out: Float64Array | Float32Array, // (B*T, H*HS)
  x: ArrayLike<number>, // (B*T, H*HS)
  table: ArrayLike<number>, // (T, HS): [cos | sin]
  { B, T, H, HS }: RopeDims,
  backward = false,
): void {
  const half = HS / 2;
  for (let row = 0; row < B * T; row++) {
    const t = row % T;
    for (let h = 0; h < H; h++) {
      for (let j = 0; j < half; j++) {
        const i1 = row * H * HS + h * HS + j;
        const i2 = i1 + half;
        const c = table[t * HS + j];
        const s = table[t * HS + half + j];
        const a = x[i1];
        const b = x[i2];
        // forward: rotate_half(x) = [−x2 | x1];  backward: Rᵀ
        out[i1] = backward ? a * c + b * s : a * c - b * s;
        out[i2] = backward ? b * c - a * s : b * c + a * s;
      }
    }
  }
}

/** cos/sin of HF's angles recomputed independently in float64 (no f32 rounding), for checking the table. */
export function ropeAnglesF64(t: number, i: number, HS: number, theta: number): number {
  return t * Math.pow(theta, (-2 * i) / HS);
}

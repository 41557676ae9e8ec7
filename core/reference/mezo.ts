// CPU reference of MeZO's counter-based Gaussian generator (core/kernels/mezo.wgsl), in float64.
import { mezoKey, pcgHash } from '../kernels/mezo';

export function mezoZ(seed: number, stream: number, n: number): Float64Array {
  const key = mezoKey(seed, stream);
  const z = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const h1 = pcgHash((key ^ pcgHash((2 * i) >>> 0)) >>> 0);
    const h2 = pcgHash((key ^ pcgHash((2 * i + 1) >>> 0)) >>> 0);
    const u1 = ((h1 >>> 8) + 1) / 16777216;
    const u2 = (h2 >>> 8) / 16777216;
    z[i] = Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
  }
  return z;
}

// A GPU tensor: one ledger-counted buffer with a shape, a dtype, a category and a name (DESIGN.md §3).
// Shapes are row-major; packed quantized weights are u32 arrays whose shape is that of the packed words.
import type { Category } from './ledger';

/** f16: IEEE half floats, two a 32-bit word (the f16 storage of `--precision f16`, core/kernels/f16.ts). */
export type DType = 'f32' | 'i32' | 'u32' | 'f16';

export const DTYPE_BYTES: Record<DType, number> = { f32: 4, i32: 4, u32: 4, f16: 2 };

export function numelOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Bytes a buffer of this shape takes: whole 4-byte words (an odd count of f16 values takes one more half), at least 4
 * bytes (WebGPU needs a non-empty binding of a multiple of 4 bytes). */
export function bytesOf(shape: readonly number[], dtype: DType): number {
  return Math.max(4, Math.ceil((numelOf(shape) * DTYPE_BYTES[dtype]) / 4) * 4);
}

export class Tensor {
  /** The encoder serial in which this tensor was last bound to a dispatch or copy (see GpuContext.free). */
  lastUse = -1;
  freed = false;
  constructor(
    readonly handle: number,
    readonly category: Category,
    readonly name: string,
    readonly shape: readonly number[],
    readonly dtype: DType,
    readonly bytes: number,
    /** null in a dry (planning) context, where no GPU memory exists. */
    readonly buffer: GPUBuffer | null,
  ) {}

  get numel(): number {
    return numelOf(this.shape);
  }

  toString(): string {
    return `${this.category}:${this.name}[${this.shape.join('×')}] ${this.dtype}`;
  }
}

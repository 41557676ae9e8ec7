// Argument checks shared by the element-wise and normalization kernels (rmsnorm, rope, swiglu, elementwise,
// embedding): a tensor must hold at least the values a dispatch reads or writes, with the expected dtype, so a shape
// mistake is a ShapeError naming the tensor rather than a silent out-of-bounds read (which WebGPU clamps).
import { ShapeError } from '../common/errors';
import type { DType, Tensor } from '../gpu/tensor';

/** Throw unless `t` holds at least `n` values of `dtype`. */
export function needValues(op: string, role: string, t: Tensor, n: number, dtype: DType = 'f32'): void {
  if (t.dtype !== dtype) throw new ShapeError(`${op}: ${role} ${t} must be ${dtype}`);
  if (t.numel < n) throw new ShapeError(`${op}: ${role} ${t} holds ${t.numel} values, needs ${n}`);
}

/** Throw unless every (integer) dim is a non-negative integer, and those named in `positive` are ≥ 1. */
export function needDims(op: string, dims: Record<string, number>, positive: string[] = []): void {
  for (const [k, v] of Object.entries(dims)) {
    if (!Number.isInteger(v) || v < 0) throw new ShapeError(`${op}: dims.${k} = ${v} is not a non-negative integer`);
  }
  for (const k of positive) {
    if (!(dims[k] >= 1)) throw new ShapeError(`${op}: dims.${k} must be ≥ 1, got ${dims[k]}`);
  }
}

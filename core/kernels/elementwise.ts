// Element-wise f32 ops of the Qwen2 block and the trainers: the residual add (out = a + b), y += alpha·x (gradient
// accumulation, residual-stream gradients) and y *= alpha. Kernel: elementwise.wgsl. CPU reference:
// core/reference/elementwise.ts. An operand that is also the output is bound once, read_write (WebGPU aliasing rule).
import type { GpuContext } from '../gpu/context';
import { Params } from '../gpu/params';
import type { Tensor } from '../gpu/tensor';
import { needDims, needValues } from './checks';
import { grid1d } from './grid';
import code from './elementwise.wgsl';

export interface ElementwiseDims {
  N: number;
}

const WG = 256;
const OP_ADD = 0;
const OP_AXPY = 1;
const OP_SCALE = 2;
const OP_NAMES = ['add', 'axpy', 'scale'];

function dispatch(ctx: GpuContext, op: number, y: Tensor, a: Tensor | null, b: Tensor | null, N: number, alpha: number): void {
  const aIsY = a === y;
  const bIsY = b === y;
  ctx.run(
    { name: 'elementwise', code, constants: { OP: op, A_IS_Y: aIsY, B_IS_Y: bIsY } },
    [y, !a || aIsY ? ctx.dummy : a, !b || bIsY ? ctx.dummy : b],
    new Params().u(N).f(alpha),
    grid1d(N, WG),
    // add: 1 FLOP, 2 reads, 1 write; axpy: 2 FLOPs, 2 reads, 1 write; scale: 1 FLOP, 1 read, 1 write
    { flops: (op === OP_AXPY ? 2 : 1) * N, bytes: 4 * N * (op === OP_SCALE || (op === OP_ADD && aIsY && bIsY) ? 2 : 3), kernel: OP_NAMES[op] },
  );
}

/** out = a + b. `out` may be `a` or `b` (then bound once). */
export function add(
  ctx: GpuContext,
  out: Tensor, // (N)
  a: Tensor, // (N)
  b: Tensor, // (N)
  dims: ElementwiseDims,
): void {
  const { N } = dims;
  needDims('add', { N });
  needValues('add', 'out', out, N);
  needValues('add', 'a', a, N);
  needValues('add', 'b', b, N);
  dispatch(ctx, OP_ADD, out, a, b, N, 1);
}

/** y += alpha·x (alpha defaults to 1). `x` may be `y`. */
export function addInPlace(
  ctx: GpuContext,
  y: Tensor, // (N)
  x: Tensor, // (N)
  dims: ElementwiseDims & { alpha?: number },
): void {
  const { N } = dims;
  needDims('addInPlace', { N });
  needValues('addInPlace', 'y', y, N);
  needValues('addInPlace', 'x', x, N);
  dispatch(ctx, OP_AXPY, y, x, null, N, dims.alpha ?? 1);
}

/** y *= alpha. */
export function scaleInPlace(
  ctx: GpuContext,
  y: Tensor, // (N)
  dims: ElementwiseDims & { alpha: number },
): void {
  const { N } = dims;
  needDims('scaleInPlace', { N });
  needValues('scaleInPlace', 'y', y, N);
  dispatch(ctx, OP_SCALE, y, null, null, N, dims.alpha);
}

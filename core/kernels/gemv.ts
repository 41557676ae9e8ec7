// The one-token forward of a frozen linear layer over one row tile of its weight (core/kernels/weight.ts), for
// decoding: y[ycol + n] (+)= alpha · x·W_tile[n]ᵀ (+ bias), in every format, dequantizing in the kernel with the same
// function as qlinear (qlinear_common.wgsl). linearForward (core/kernels/linear.ts) uses it when T = 1, and the
// decoder's LM head (core/infer/decoder.ts) tile by tile. Kernel: gemv.wgsl. CPU reference: core/reference/linear.ts.
import { ShapeError } from '../common/errors';
import { bindingElems, bindingTensor, type Binding, type GpuContext } from '../gpu/context';
import { Params } from '../gpu/params';
import type { Tensor } from '../gpu/tensor';
import { weightRowBytes, type WeightMatrix, type WeightTile } from './weight';
import commonCode from './qlinear_common.wgsl';
import code from './gemv.wgsl';

const ROWS = 8; // output rows per workgroup
const MAX_GRID = 65535;

/** The kernel reads vec4 chunks: K % 4 == 0 for f32 (int8 / int4 have K % 64 == 0 by construction). */
export function gemvFits(W: WeightMatrix): boolean {
  return W.format !== 'f32' || W.cols % 4 === 0;
}

/**
 * y[ycol + n] (+)= alpha · Σ_k x[xrow·K + k] · W_tile[n, k] (+ bias[ycol + n]) for the tile's rows n, one token:
 * x is row `xrow` of a (rows, K) tensor.
 */
export function gemvTile(
  ctx: GpuContext,
  y: Binding, // (≥ ycol + tile.rows)
  x: Binding, // (≥ xrow + 1, K)
  W: WeightMatrix,
  tile: WeightTile,
  at: { ycol: number; xrow?: number },
  o: { bias?: Tensor; accumulate?: boolean; alpha?: number } = {},
): void {
  const K = W.cols;
  const N = tile.rows;
  const xrow = at.xrow ?? 0;
  if (N === 0) return;
  if (!gemvFits(W)) throw new ShapeError(`gemv ${W.name}: f32 weights need input features divisible by 4, got ${K}`);
  if (bindingElems(x) < (xrow + 1) * K) throw new ShapeError(`gemv: x ${String(bindingTensor(x))} holds ${bindingElems(x)} values, needs ${(xrow + 1) * K}`);
  if (bindingElems(y) < at.ycol + N) throw new ShapeError(`gemv: y ${String(bindingTensor(y))} holds ${bindingElems(y)} values, needs ${at.ycol + N}`);
  if (o.bias && o.bias.numel < at.ycol + N) throw new ShapeError(`gemv: bias ${o.bias} shorter than ${at.ycol + N}`);
  const yt = bindingTensor(y);
  for (const t of [bindingTensor(x), tile.data, tile.sb, o.bias]) {
    if (t === yt) throw new ShapeError(`gemv: output ${String(yt)} is also an input; use a separate tensor`);
  }
  const bits = W.format === 'f32' ? 32 : W.format === 'int8' ? 8 : 4;
  const spec = { name: 'gemv', code: commonCode + code, constants: { BITS: bits, ACCUM: !!o.accumulate, BIAS: !!o.bias } };
  const blocks = Math.ceil(N / ROWS);
  for (let b0 = 0; b0 < blocks; b0 += MAX_GRID) {
    const params = new Params().u(N).u(K).f(o.alpha ?? 1).u(at.ycol).u((xrow * K) / 4).u(b0);
    const n = Math.min(N - b0 * ROWS, MAX_GRID * ROWS); // output rows of this dispatch
    ctx.run(spec, [y, x, tile.data, tile.sb ?? ctx.dummy, o.bias ?? ctx.dummy], params, [Math.min(MAX_GRID, blocks - b0)], {
      flops: 2 * n * K, bytes: 4 * K + n * weightRowBytes(W) + 4 * ((o.accumulate ? 2 : 1) * n + (o.bias ? n : 0)), kernel: `gemv.${W.format}`,
    });
  }
}

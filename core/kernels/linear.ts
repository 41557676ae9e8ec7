// Frozen linear layers (HF nn.Linear layout, W [out, in]) over f32, int8 or int4 weights split into row tiles
// (core/kernels/weight.ts): the forward y = x·Wᵀ (+ bias) and the frozen path of the backward dx = g·W (the g·W0 term
// of DESIGN.md §5). Quantized weights are dequantized inside the kernels (qlinear.wgsl, qlinear_t.wgsl, both after
// qlinear_common.wgsl, which holds the one dequantization), exactly as core/common/quant.ts dequantizeRows does; no
// dequantized copy is ever made. Single-tile f32 weights use the f32 matmul (core/kernels/matmul.ts); one token
// (T = 1, decoding) uses the matrix-vector kernel (core/kernels/gemv.ts). CPU reference: core/reference/linear.ts.
import { ShapeError } from '../common/errors';
import { bindingElems, bindingTensor, type Binding, type GpuContext } from '../gpu/context';
import { Params } from '../gpu/params';
import { Tensor } from '../gpu/tensor';
import { gemvFits, gemvTile } from './gemv';
import { matmul } from './matmul';
import { weightRowBytes, type WeightFormat, type WeightMatrix, type WeightTile } from './weight';
import commonCode from './qlinear_common.wgsl';
import fwdCode from './qlinear.wgsl';
import bwdCode from './qlinear_t.wgsl';
import type { KernelSpec } from '../gpu/pipelines';
import { variantId } from '../gpu/tuning';
import { chooseVariant } from './variants';
import { qlinearSgSource, qlinearTSgSource, qlinearTiledSource, qlinearTTiledSource, type QBits } from './qlinear_variants';

export interface LinearDims {
  /** Tokens (rows of x and y). */
  T: number;
  /** Input features (W.cols). */
  in: number;
  /** Output features (W.rows). */
  out: number;
}

export interface LinearForwardOptions {
  /** The profile row; "linear.<format>" when absent. */
  label?: string;
  /** (out) added once per output. */
  bias?: Tensor;
  /** y += result instead of y = result. */
  accumulate?: boolean;
  alpha?: number;
}

export interface LinearBackwardOptions {
  /** The profile row; "linear_t.<format>" when absent. */
  label?: string;
  /** dx += result instead of dx = result. */
  accumulate?: boolean;
  alpha?: number;
}

/** Where one tile's forward reads and writes: Y[yrow0 + m, ycol + n] (row stride ldy) from X[xrow0 + m, :]. */
export interface TileForwardPlace {
  ldy: number;
  ycol: number;
  yrow0: number;
  xrow0: number;
}

/** Where one tile's transposed product reads and writes: DX[dxrow0 + m, :] from G[grow0 + m, gcol + k] (stride ldg). */
export interface TileBackwardPlace {
  ldg: number;
  gcol: number;
  grow0: number;
  dxrow0: number;
}

const MAX_GRID = 65535;
/** Output rows n per workgroup of qlinear.wgsl, columns per workgroup of qlinear_t.wgsl, tokens per workgroup. */
const FWD_N_BLOCK = 8;
const BWD_N_BLOCK = 32;
const M_BLOCK = 32;

function bitsOf(format: WeightFormat): number {
  return format === 'f32' ? 32 : format === 'int8' ? 8 : 4;
}

function checkDims(op: string, d: LinearDims, W: WeightMatrix): void {
  for (const [k, v] of Object.entries(d)) {
    if (!Number.isInteger(v) || v < 0) throw new ShapeError(`${op}: dims.${k} = ${v} is not a non-negative integer`);
  }
  if (W.rows !== d.out || W.cols !== d.in) {
    throw new ShapeError(`${op}: weight ${W.name} is [${W.rows}, ${W.cols}], dims say [out ${d.out}, in ${d.in}]`);
  }
  if (W.tiles.length === 0) throw new ShapeError(`${op}: weight ${W.name} has no tiles (freed?)`);
}

function need(op: string, role: string, b: Binding, n: number): void {
  if (bindingElems(b) < n) throw new ShapeError(`${op}: ${role} ${String(bindingTensor(b))} holds ${bindingElems(b)} values, needs ${n}`);
}

function noAlias(op: string, out: Binding, ...inputs: (Binding | Tensor | null | undefined)[]): void {
  const o = bindingTensor(out);
  for (const i of inputs) {
    if (i && bindingTensor(i) === o) throw new ShapeError(`${op}: output ${String(o)} is also an input; use a separate tensor`);
  }
}

/** The kernels need vec4 rows: in % 4 == 0 for f32 (int8/int4 have in % 64 == 0 by construction). */
export function qlinearFits(W: WeightMatrix): boolean {
  return W.format !== 'f32' || W.cols % 4 === 0;
}

/**
 * One tile's forward with qlinear.wgsl: Y[yrow0 + m, ycol + n] (+)= alpha · Σ_k X[xrow0 + m, k] · W_tile[n, k]
 * (+ bias[ycol + n]), m < M, n < tile.rows, k < W.cols. The same kernel for every format, the LM head uses it.
 */
export function qlinearTile(
  ctx: GpuContext,
  y: Binding,
  x: Binding,
  W: WeightMatrix,
  tile: WeightTile,
  M: number,
  at: TileForwardPlace,
  o: LinearForwardOptions = {},
): void {
  const K = W.cols;
  const N = tile.rows;
  if (M === 0 || N === 0) return;
  if (!qlinearFits(W)) throw new ShapeError(`qlinear ${W.name}: f32 tiles need input features divisible by 4, got ${K}`);
  need('qlinear', 'x', x, (at.xrow0 + M) * K);
  need('qlinear', 'y', y, (at.yrow0 + M - 1) * at.ldy + at.ycol + N);
  if (o.bias && o.bias.numel < at.ycol + N) throw new ShapeError(`qlinear: bias ${o.bias} shorter than ${at.ycol + N}`);
  noAlias('qlinear', y, x, tile.data, tile.sb, o.bias);
  const bits = bitsOf(W.format);
  const v = chooseVariant(ctx, 'qlinear', W.format, { M, N, K });
  const constants = { ACCUM: !!o.accumulate, BIAS: !!o.bias };
  // Rows m and outputs n of one workgroup, and the variant's source.
  let spec: KernelSpec;
  let mBlock = M_BLOCK;
  let nBlock = FWD_N_BLOCK;
  if (v.kind === 'sg') {
    const { MR, NR, S } = v.params;
    spec = { name: 'qlinear', variant: `${variantId(v)}.b${bits}`, code: qlinearSgSource(bits as 4 | 8, MR, NR, S, 'f32'), constants };
    [mBlock, nBlock] = [MR, S * NR];
  } else if (v.kind === 'tiled') {
    spec = { name: 'qlinear', variant: `${variantId(v)}.b${bits}`, code: qlinearTiledSource(bits as QBits, 'f32'), constants };
    [mBlock, nBlock] = [64, 64];
  } else {
    spec = { name: 'qlinear', code: commonCode + fwdCode, constants: { BITS: bits, ...constants } };
  }
  const blocks = Math.ceil(N / nBlock);
  const gx = Math.ceil(M / mBlock);
  if (gx > MAX_GRID) throw new ShapeError(`qlinear: ${M} tokens is over one dispatch (${MAX_GRID * mBlock})`);
  for (let b0 = 0; b0 < blocks; b0 += MAX_GRID) {
    const params = new Params()
      .u(M).u(N).u(K).f(o.alpha ?? 1)
      .u(at.ldy).u(at.ycol).u(at.yrow0).u(at.xrow0)
      .u(b0);
    const n = Math.min(N - b0 * nBlock, MAX_GRID * nBlock); // outputs of this dispatch
    ctx.run(spec, [y, x, tile.data, tile.sb ?? ctx.dummy, o.bias ?? ctx.dummy], params, [gx, Math.min(MAX_GRID, blocks - b0)], {
      flops: 2 * M * n * K, bytes: 4 * M * K + n * weightRowBytes(W) + 4 * ((o.accumulate ? 2 : 1) * M * n + (o.bias ? n : 0)),
      kernel: o.label ?? `linear.${W.format}`,
    });
  }
}

/**
 * One tile's transposed product with qlinear_t.wgsl: DX[dxrow0 + m, c] (+)= alpha · Σ_k G[grow0 + m, gcol + k] ·
 * W_tile[k, c], m < M, k < tile.rows (ascending), c < W.cols.
 */
export function qlinearTileT(
  ctx: GpuContext,
  dx: Binding,
  g: Binding,
  W: WeightMatrix,
  tile: WeightTile,
  M: number,
  at: TileBackwardPlace,
  o: LinearBackwardOptions = {},
): void {
  const N = W.cols;
  const K = tile.rows;
  if (M === 0 || N === 0) return;
  if (!qlinearFits(W)) throw new ShapeError(`qlinear_t ${W.name}: f32 tiles need input features divisible by 4, got ${N}`);
  need('qlinear_t', 'g', g, (at.grow0 + M - 1) * at.ldg + at.gcol + K);
  need('qlinear_t', 'dx', dx, (at.dxrow0 + M) * N);
  noAlias('qlinear_t', dx, g, tile.data, tile.sb);
  const bits = bitsOf(W.format);
  const v = chooseVariant(ctx, 'qlinear_t', W.format, { M, N, K });
  const constants = { ACCUM: !!o.accumulate };
  let spec: KernelSpec;
  let mBlock = M_BLOCK;
  let nBlock = BWD_N_BLOCK;
  if (v.kind === 'sg') {
    const { MR, NC, S } = v.params;
    spec = { name: 'qlinear_t', variant: `${variantId(v)}.b${bits}`, code: qlinearTSgSource(bits as 4 | 8, MR, NC, S, 'f32'), constants };
    [mBlock, nBlock] = [MR, 8 * S * NC];
  } else if (v.kind === 'tiled') {
    spec = { name: 'qlinear_t', variant: `${variantId(v)}.b${bits}`, code: qlinearTTiledSource(bits as QBits, 'f32'), constants };
    [mBlock, nBlock] = [64, 64];
  } else {
    spec = { name: 'qlinear_t', code: commonCode + bwdCode, constants: { BITS: bits, ...constants } };
  }
  const blocks = Math.ceil(N / nBlock);
  const gx = Math.ceil(M / mBlock);
  if (gx > MAX_GRID) throw new ShapeError(`qlinear_t: ${M} tokens is over one dispatch (${MAX_GRID * mBlock})`);
  for (let b0 = 0; b0 < blocks; b0 += MAX_GRID) {
    const params = new Params()
      .u(M).u(N).u(K).f(o.alpha ?? 1)
      .u(at.ldg).u(at.gcol).u(at.grow0).u(at.dxrow0)
      .u(b0);
    const n = Math.min(N - b0 * nBlock, MAX_GRID * nBlock); // columns of this dispatch
    ctx.run(spec, [dx, g, tile.data, tile.sb ?? ctx.dummy], params, [gx, Math.min(MAX_GRID, blocks - b0)], {
      flops: 2 * M * n * K, bytes: 4 * M * K + (K * weightRowBytes(W) * n) / N + 4 * (o.accumulate ? 2 : 1) * M * n,
      kernel: o.label ?? `linear_t.${W.format}`,
    });
  }
}

/**
 * Forward of a frozen linear layer: y (T, out) (+)= alpha · x (T, in) · Wᵀ (+ bias). Each tile writes its output
 * columns [row0, row0 + rows) of y.
 */
export function linearForward(
  ctx: GpuContext,
  y: Binding, // (T, out)
  x: Binding, // (T, in)
  W: WeightMatrix, // (out, in)
  dims: LinearDims,
  opts: LinearForwardOptions = {},
): void {
  checkDims('linearForward', dims, W);
  const { T, in: C, out: N } = dims;
  if (T === 0 || N === 0) return;
  need('linearForward', 'x', x, T * C);
  need('linearForward', 'y', y, T * N);
  if (opts.bias && opts.bias.numel < N) throw new ShapeError(`linearForward: bias ${opts.bias} shorter than out = ${N}`);
  if (T === 1 && gemvFits(W)) {
    // One token (decoding): the matrix-vector kernel, tile by tile (core/kernels/gemv.ts).
    for (const tile of W.tiles) gemvTile(ctx, y, x, W, tile, { ycol: tile.row0 }, opts);
    return;
  }
  if (W.format === 'f32' && W.tiles.length === 1) {
    // y = alpha·x·Wᵀ (+ bias) (+ y): the f32 GEMM with B = W stored [out, in].
    matmul(ctx, y, x, W.tiles[0].data, { M: T, N, K: C }, { transB: true, ...opts });
    return;
  }
  for (const tile of W.tiles) {
    qlinearTile(ctx, y, x, W, tile, T, { ldy: N, ycol: tile.row0, yrow0: 0, xrow0: 0 }, opts);
  }
}

/**
 * The frozen path of the backward: forward y = x·Wᵀ, so dx (T, in) (+)= alpha · g (T, out) · W. Over several
 * tiles, dx accumulates tile by tile in tile order (a fixed order: deterministic).
 */
export function linearBackwardInput(
  ctx: GpuContext,
  dx: Binding, // (T, in)
  g: Binding, // (T, out)
  W: WeightMatrix, // (out, in)
  dims: LinearDims,
  opts: LinearBackwardOptions = {},
): void {
  checkDims('linearBackwardInput', dims, W);
  const { T, in: C, out: N } = dims;
  if (T === 0 || C === 0) return;
  need('linearBackwardInput', 'g', g, T * N);
  need('linearBackwardInput', 'dx', dx, T * C);
  if (N === 0) {
    if (!opts.accumulate) ctx.zero(bindingTensor(dx), dx instanceof Tensor ? 0 : dx.offset, T * C * 4);
    return;
  }
  if (W.format === 'f32' && W.tiles.length === 1) {
    // dx = alpha·g·W (+ dx): the f32 GEMM with A = g (T, out), B = W (out, in).
    matmul(ctx, dx, g, W.tiles[0].data, { M: T, N: C, K: N }, { accumulate: opts.accumulate, alpha: opts.alpha });
    return;
  }
  W.tiles.forEach((tile, i) => {
    const accumulate = !!opts.accumulate || i > 0;
    qlinearTileT(ctx, dx, g, W, tile, T, { ldg: N, gcol: tile.row0, grow0: 0, dxrow0: 0 }, { accumulate, alpha: opts.alpha });
  });
}

/** FLOPs of linearForward or linearBackwardInput (multiply-add = 2). */
export function linearFlops(dims: LinearDims): number {
  return 2 * dims.T * dims.in * dims.out;
}

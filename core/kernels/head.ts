// The LM head and its cross-entropy over a vocabulary-row-tiled weight W (V, C) (the tied embedding or lm_head,
// core/kernels/weight.ts), as HF Qwen2ForCausalLM computes them: logits = x·Wᵀ, nll[t] = logsumexp(logits[t]) −
// logits[t, target[t]], targets −100 (any value outside [0, V)) masked with nll 0. The mean over unmasked targets is
// the caller's (it passes `scale` = 1/count to the backward).
// Two paths over the same kernels and the same per-row arithmetic, hence BIT-IDENTICAL nll, lse and dx:
//  - fused and chunked over tokens (the MeSP paper's chunked head, arXiv 2602.13069): the T×V logits never exist
//    whole, the workspace holds one chunk × one tile of logits;
//  - unchunked (what an autograd engine keeps; `full`, `mebp`, `--no-chunked-head`): logits per tile, then the loss.
// Logits come from qlinear.wgsl (all formats), dx from qlinear_t.wgsl, the softmax statistics from head_stats.wgsl +
// head_merge.wgsl (fixed segments of HEAD_SEG columns, folded in order), the gradient from head_grad.wgsl.
// CPU reference: core/reference/head.ts.
import { ShapeError } from '../common/errors';
import type { GpuContext } from '../gpu/context';
import { Params } from '../gpu/params';
import type { Tensor } from '../gpu/tensor';
import { rowsPerBinding } from '../gpu/tiling';
import { qlinearFits, qlinearTile, qlinearTileT } from './linear';
import type { WeightMatrix } from './weight';
import statsCode from './head_stats.wgsl';
import mergeCode from './head_merge.wgsl';
import gradCode from './head_grad.wgsl';

/** Columns per softmax-statistics segment (SEG in head_stats.wgsl). */
export const HEAD_SEG = 256;

const MAX_GRID = 65535;

export interface HeadDims {
  T: number;
  C: number;
  V: number;
}

export interface HeadChunkDims extends HeadDims {
  /** Tokens per chunk: the logits workspace is (chunk, tile rows). */
  chunk: number;
}

function checkInt(op: string, dims: object): void {
  for (const [k, v] of Object.entries(dims)) {
    if (typeof v !== 'number' || k === 'scale') continue;
    if (!Number.isInteger(v) || v < 0) throw new ShapeError(`${op}: dims.${k} = ${v} is not a non-negative integer`);
  }
}

function needT(op: string, role: string, t: Tensor, n: number, dtype: Tensor['dtype'] = 'f32'): void {
  if (t.dtype !== dtype) throw new ShapeError(`${op}: ${role} ${t} must be ${dtype}`);
  if (t.numel < n) throw new ShapeError(`${op}: ${role} ${t} holds ${t.numel} values, needs ${n}`);
}

function checkHead(op: string, W: WeightMatrix, d: HeadDims): void {
  checkInt(op, d);
  if (W.rows !== d.V || W.cols !== d.C) throw new ShapeError(`${op}: weight ${W.name} is [${W.rows}, ${W.cols}], dims say [V ${d.V}, C ${d.C}]`);
  if (W.tiles.length === 0) throw new ShapeError(`${op}: weight ${W.name} has no tiles (freed?)`);
  if (!qlinearFits(W)) throw new ShapeError(`${op}: an f32 head needs C divisible by 4, got ${d.C}`);
}

function maxTileRows(W: WeightMatrix): number {
  return Math.max(...W.tiles.map((t) => t.rows));
}

/** The (rows, tile) logits workspace must fit one binding. */
function chunkRowsFor(ctx: GpuContext, op: string, W: WeightMatrix, d: HeadChunkDims): number {
  if (!Number.isInteger(d.chunk) || d.chunk < 1) throw new ShapeError(`${op}: chunk must be a positive integer, got ${d.chunk}`);
  const rows = Math.min(d.chunk, d.T);
  const most = rowsPerBinding(ctx.limits, maxTileRows(W) * 4, `${op}: one token's logits`);
  if (rows > most) {
    throw new ShapeError(`${op}: a chunk of ${rows} tokens × ${maxTileRows(W)} vocabulary rows of logits is ${rows * maxTileRows(W) * 4} bytes, over one binding; use a chunk of at most ${most}`);
  }
  return rows;
}

// ------------------------------------------------------------------ the cross-entropy steps over one tile of logits

interface TileLogits {
  /** (R rows from lrow0, N columns) with row stride ld. */
  L: Tensor;
  R: number;
  N: number;
  ld: number;
  lrow0: number;
  /** Token of row 0 (index into targets, nll, lse) and vocabulary entry of column 0. */
  trow0: number;
  col0: number;
}

/** Softmax statistics of each row and segment: part (R, nseg) vec2. */
function stats(ctx: GpuContext, part: Tensor, tl: TileLogits): number {
  const nseg = Math.ceil(tl.N / HEAD_SEG);
  ctx.run(
    { name: 'head_stats', code: statsCode },
    [part, tl.L],
    new Params().u(tl.R).u(tl.N).u(tl.ld).u(nseg).u(tl.lrow0),
    [Math.ceil(nseg / 64), tl.R],
    // max, then exp(L − mx) and the sum: 4 per logit; the logits read twice (a pass each), the parts written
    { flops: 4 * tl.R * tl.N, bytes: 4 * (2 * tl.R * tl.N + 2 * tl.R * nseg) },
  );
  return nseg;
}

/** Fold a tile's statistics into the per-row state; after the last tile, write lse and nll. */
function merge(ctx: GpuContext, state: Tensor, part: Tensor, nseg: number, tl: TileLogits, targets: Tensor, nll: Tensor, lse: Tensor, V: number, first: boolean, last: boolean): void {
  ctx.run(
    { name: 'head_merge', code: mergeCode },
    [state, part, tl.L, targets, nll, lse],
    new Params().u(tl.R).u(tl.N).u(tl.ld).u(nseg).u(tl.lrow0).u(tl.trow0).u(tl.col0).u(V).u(first ? 1 : 0).u(last ? 1 : 0),
    [Math.ceil(tl.R / 64)],
    // per segment: max, two exps, two products and a sum
    { flops: 6 * tl.R * nseg, bytes: 4 * (2 * tl.R * nseg + 8 * tl.R + 4 * tl.R) },
  );
}

/** In place: logits → scale·(softmax − onehot(target)), zero rows where masked. */
function grad(ctx: GpuContext, tl: TileLogits, lse: Tensor, targets: Tensor, V: number, scale: number): void {
  for (let r0 = 0; r0 < tl.R; r0 += MAX_GRID) {
    const R = Math.min(MAX_GRID, tl.R - r0);
    ctx.run(
      { name: 'head_grad', code: gradCode },
      [tl.L, lse, targets],
      new Params().u(R).u(tl.N).u(tl.ld).u(tl.lrow0 + r0).u(tl.trow0 + r0).u(tl.col0).u(V).f(scale),
      [Math.ceil(tl.N / 256), R],
      // scale·(exp(L − lse) − onehot): 4 per logit, read and written in place
      { flops: 4 * R * tl.N, bytes: 4 * (2 * R * tl.N + 2 * R) },
    );
  }
}

/** Statistics over the rows of one tile: (R, nseg) rows ≤ 65535 per dispatch. */
function statsRows(ctx: GpuContext, part: Tensor, tl: TileLogits): number {
  if (tl.R > MAX_GRID) throw new ShapeError(`head: ${tl.R} tokens in one pass is over ${MAX_GRID}; use the chunked head`);
  return stats(ctx, part, tl);
}

// ------------------------------------------------------------------ fused and chunked

/**
 * nll (T), lse (T) of the LM head over x (T, C), chunk tokens at a time: for each chunk, for each tile, the logits
 * (chunk, tile rows) are computed into a workspace, reduced into the running softmax state and dropped.
 */
export function headLossForward(
  ctx: GpuContext,
  nll: Tensor, // (T)
  lse: Tensor, // (T)
  x: Tensor, // (T, C)
  W: WeightMatrix, // (V, C)
  targets: Tensor, // (T) i32
  dims: HeadChunkDims,
): void {
  const op = 'headLossForward';
  checkHead(op, W, dims);
  const { T, C, V } = dims;
  needT(op, 'nll', nll, T);
  needT(op, 'lse', lse, T);
  needT(op, 'x', x, T * C);
  needT(op, 'targets', targets, T, 'i32');
  if (nll === lse) throw new ShapeError(`${op}: nll and lse must be different tensors`);
  if (T === 0) return;
  const rows = chunkRowsFor(ctx, op, W, dims);
  const tileRows = maxTileRows(W);
  const ws = ctx.alloc('workspace', 'head.logits', [rows, tileRows]); // (chunk, tile rows)
  const part = ctx.alloc('workspace', 'head.softmax_parts', [rows, Math.ceil(tileRows / HEAD_SEG), 2]); // (chunk, nseg, 2)
  const state = ctx.alloc('workspace', 'head.softmax_state', [rows, 4]); // (chunk, 4)
  try {
    for (let t0 = 0; t0 < T; t0 += rows) {
      const n = Math.min(rows, T - t0);
      W.tiles.forEach((tile, i) => {
        // logits (n, tile.rows) = x[t0 : t0+n] · W_tileᵀ
        qlinearTile(ctx, ws, x, W, tile, n, { ldy: tile.rows, ycol: 0, yrow0: 0, xrow0: t0 }, { label: `head.${W.format}` });
        const tl: TileLogits = { L: ws, R: n, N: tile.rows, ld: tile.rows, lrow0: 0, trow0: t0, col0: tile.row0 };
        const nseg = statsRows(ctx, part, tl);
        merge(ctx, state, part, nseg, tl, targets, nll, lse, V, i === 0, i === W.tiles.length - 1);
      });
    }
  } finally {
    ctx.free(ws, part, state);
  }
}

/**
 * dx (T, C) (+)= Σ_tiles dlogits_tile · W_tile, with dlogits = scale·(softmax(logits) − onehot(target)) (zero rows
 * where masked), the logits recomputed per chunk and tile with the forward's kernels (same bits).
 * forward: logits = x·Wᵀ, loss = scale·Σ_t (lse[t] − logits[t, target[t]])  so  dx = dlogits·W.
 */
export function headLossBackward(
  ctx: GpuContext,
  dx: Tensor, // (T, C)
  x: Tensor, // (T, C)
  W: WeightMatrix, // (V, C)
  targets: Tensor, // (T) i32
  lse: Tensor, // (T)
  dims: HeadChunkDims & { scale: number; accumulate?: boolean },
): void {
  const op = 'headLossBackward';
  checkHead(op, W, dims);
  const { T, C, V } = dims;
  needT(op, 'dx', dx, T * C);
  needT(op, 'x', x, T * C);
  needT(op, 'targets', targets, T, 'i32');
  needT(op, 'lse', lse, T);
  if (dx === x) throw new ShapeError(`${op}: dx and x must be different tensors`);
  if (T === 0) return;
  const rows = chunkRowsFor(ctx, op, W, dims);
  const ws = ctx.alloc('workspace', 'head.dlogits', [rows, maxTileRows(W)]); // (chunk, tile rows)
  try {
    for (let t0 = 0; t0 < T; t0 += rows) {
      const n = Math.min(rows, T - t0);
      W.tiles.forEach((tile, i) => {
        // logits (n, tile.rows) = x[t0 : t0+n] · W_tileᵀ, then dlogits in place
        qlinearTile(ctx, ws, x, W, tile, n, { ldy: tile.rows, ycol: 0, yrow0: 0, xrow0: t0 }, { label: `head.${W.format}` });
        grad(ctx, { L: ws, R: n, N: tile.rows, ld: tile.rows, lrow0: 0, trow0: t0, col0: tile.row0 }, lse, targets, V, dims.scale);
        // dx[t0 : t0+n] (+)= dlogits · W_tile, tiles in order
        const accumulate = !!dims.accumulate || i > 0;
        qlinearTileT(ctx, dx, ws, W, tile, n, { ldg: tile.rows, gcol: 0, grow0: 0, dxrow0: t0 }, { accumulate, label: `head_t.${W.format}` });
      });
    }
  } finally {
    ctx.free(ws);
  }
}

// ------------------------------------------------------------------ unchunked

function checkLogits(op: string, logits: Tensor[], W: WeightMatrix | null, T: number, V: number): number[] {
  const widths = logits.map((l) => (l.shape.length === 2 ? l.shape[1] : T > 0 ? l.numel / T : 0)); // tile rows
  let sum = 0;
  logits.forEach((l, i) => {
    if (l.dtype !== 'f32') throw new ShapeError(`${op}: logits ${l} must be f32`);
    if (!Number.isInteger(widths[i]) || l.numel < T * widths[i]) throw new ShapeError(`${op}: logits ${l} is not (T = ${T}, tile rows)`);
    if (W && W.tiles[i] && widths[i] !== W.tiles[i].rows) throw new ShapeError(`${op}: logits ${l} has ${widths[i]} columns, tile ${i} of ${W.name} has ${W.tiles[i].rows} rows`);
    sum += widths[i];
  });
  if (W && logits.length !== W.tiles.length) throw new ShapeError(`${op}: ${logits.length} logits tensors for ${W.tiles.length} tiles of ${W.name}`);
  if (sum !== V) throw new ShapeError(`${op}: the logits tensors have ${sum} columns in all, V = ${V}`);
  return widths;
}

/** logits[i] (T, tile i rows) = x (T, C) · W_tile_iᵀ: one tensor per W tile. */
export function headLogits(
  ctx: GpuContext,
  logits: Tensor[], // one per W tile: (T, tile.rows)
  x: Tensor, // (T, C)
  W: WeightMatrix, // (V, C)
  dims: HeadDims,
): void {
  const op = 'headLogits';
  checkHead(op, W, dims);
  const { T, C, V } = dims;
  needT(op, 'x', x, T * C);
  checkLogits(op, logits, W, T, V);
  W.tiles.forEach((tile, i) => {
    qlinearTile(ctx, logits[i], x, W, tile, T, { ldy: tile.rows, ycol: 0, yrow0: 0, xrow0: 0 }, { label: `head.${W.format}` });
  });
}

/** nll (T), lse (T) from the per-tile logits: nll[t] = lse[t] − logits[t, target[t]], 0 where masked. */
export function crossEntropyForward(
  ctx: GpuContext,
  nll: Tensor, // (T)
  lse: Tensor, // (T)
  logits: Tensor[], // one per vocabulary tile: (T, tile rows)
  targets: Tensor, // (T) i32
  dims: { T: number; V: number },
): void {
  const op = 'crossEntropyForward';
  checkInt(op, dims);
  const { T, V } = dims;
  needT(op, 'nll', nll, T);
  needT(op, 'lse', lse, T);
  needT(op, 'targets', targets, T, 'i32');
  const widths = checkLogits(op, logits, null, T, V);
  if (nll === lse) throw new ShapeError(`${op}: nll and lse must be different tensors`);
  if (T === 0) return;
  const part = ctx.alloc('workspace', 'ce.softmax_parts', [T, Math.ceil(Math.max(...widths) / HEAD_SEG), 2]); // (T, nseg, 2)
  const state = ctx.alloc('workspace', 'ce.softmax_state', [T, 4]); // (T, 4)
  try {
    let col0 = 0;
    logits.forEach((L, i) => {
      const tl: TileLogits = { L, R: T, N: widths[i], ld: widths[i], lrow0: 0, trow0: 0, col0 };
      const nseg = statsRows(ctx, part, tl);
      merge(ctx, state, part, nseg, tl, targets, nll, lse, V, i === 0, i === logits.length - 1);
      col0 += widths[i];
    });
  } finally {
    ctx.free(part, state);
  }
}

/**
 * forward: nll[t] = lse[t] − logits[t, target[t]], loss = scale·Σ_t nll[t]
 * so dlogits = scale·(softmax(logits) − onehot(target)), zero rows where masked; written over the logits.
 */
export function crossEntropyBackward(
  ctx: GpuContext,
  logits: Tensor[], // (T, tile rows) each, overwritten in place by dlogits
  lse: Tensor, // (T)
  targets: Tensor, // (T) i32
  dims: { T: number; V: number; scale: number },
): void {
  const op = 'crossEntropyBackward';
  checkInt(op, dims);
  const { T, V } = dims;
  needT(op, 'lse', lse, T);
  needT(op, 'targets', targets, T, 'i32');
  const widths = checkLogits(op, logits, null, T, V);
  if (T === 0) return;
  let col0 = 0;
  logits.forEach((L, i) => {
    grad(ctx, { L, R: T, N: widths[i], ld: widths[i], lrow0: 0, trow0: 0, col0 }, lse, targets, V, dims.scale);
    col0 += widths[i];
  });
}

/** forward: logits = x·Wᵀ  so  dx (T, C) (+)= Σ_tiles dlogits_tile · W_tile, tiles in order. */
export function headBackwardInput(
  ctx: GpuContext,
  dx: Tensor, // (T, C)
  dlogits: Tensor[], // one per W tile: (T, tile.rows)
  W: WeightMatrix, // (V, C)
  dims: HeadDims & { accumulate?: boolean },
): void {
  const op = 'headBackwardInput';
  checkHead(op, W, dims);
  const { T, C, V } = dims;
  needT(op, 'dx', dx, T * C);
  checkLogits(op, dlogits, W, T, V);
  if (T === 0) return;
  W.tiles.forEach((tile, i) => {
    const accumulate = !!dims.accumulate || i > 0;
    qlinearTileT(ctx, dx, dlogits[i], W, tile, T, { ldg: tile.rows, gcol: 0, grow0: 0, dxrow0: 0 }, { accumulate, label: `head_t.${W.format}` });
  });
}

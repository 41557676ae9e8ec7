// The LM head and loss inside a training step. Two schedules over the same kernels (core/kernels/head.ts):
//  - autograd: the (N, V) logits are kept from the forward to the backward, as an autograd engine keeps them
//    (`full`, `mebp`, and MeSP with --no-chunked-head). They are stored as token-row blocks small enough for one
//    binding each (N × 151936 f32 logits are over 128 MiB), which changes nothing of their size;
//  - chunked (MeSP): for each chunk of tokens, logits (chunk, V), loss, dlogits and dx are computed and dropped at once,
//    so the logits never exist whole and are never recomputed.
// Per row, both run the same arithmetic in the same order (row results of the matmuls and of the segment-wise
// softmax statistics do not depend on the other rows), so their losses and gradients are the same bits.
import type { GpuContext } from '../gpu/context';
import type { Category } from '../gpu/ledger';
import type { Tensor } from '../gpu/tensor';
import { rowsPerBinding } from '../gpu/tiling';
import { crossEntropyBackward, crossEntropyForward, headBackwardInput, headLogits } from '../kernels/head';
import type { WeightMatrix } from '../kernels/weight';

type Dims = { T: number; C: number; V: number };

/** The logits of rows [t0, t0 + n) (one tensor per vocabulary tile) and their log-sum-exp. */
interface RowBlock {
  t0: number;
  n: number;
  logits: Tensor[]; // per W tile: (n, tile rows)
  lse: Tensor; // (n)
}

export interface HeadSaved {
  blocks: RowBlock[];
}

/** Most token rows whose logits (rows × the widest tile) fit one binding. */
function logitRowsPerBinding(ctx: GpuContext, W: WeightMatrix): number {
  return rowsPerBinding(ctx.limits, Math.max(...W.tiles.map((t) => t.rows)) * 4, `head ${W.name}: one row of logits`);
}

/** Per-chunk scratch: the chunk's rows of x, targets, nll and dx, copied in and out. */
interface Scratch {
  x: Tensor; // (c, C)
  t: Tensor; // (c) i32
  nll: Tensor; // (c)
  dx: Tensor; // (c, C)
}

function scratch(ctx: GpuContext, c: number, C: number): Scratch {
  return {
    x: ctx.alloc('workspace', 'head.chunk.x', [c, C]),
    t: ctx.alloc('workspace', 'head.chunk.targets', [c], 'i32'),
    nll: ctx.alloc('workspace', 'head.chunk.nll', [c]),
    dx: ctx.alloc('workspace', 'head.chunk.dx', [c, C]),
  };
}

function freeScratch(ctx: GpuContext, s: Scratch): void {
  ctx.free(s.x, s.t, s.nll, s.dx);
}

function allocBlock(ctx: GpuContext, W: WeightMatrix, t0: number, n: number, category: Category, name: string): RowBlock {
  const logits = W.tiles.map((t, i) => ctx.alloc(category, `${name}${W.tiles.length > 1 ? `.tile${i}` : ''}`, [n, t.rows]));
  return { t0, n, logits, lse: ctx.alloc(category, `${name}.lse`, [n]) };
}

/** Forward of rows [b.t0, b.t0 + n) into block b: logits, lse and the rows' nll. */
function rowBlockForward(ctx: GpuContext, s: Scratch, b: RowBlock, n: number, nll: Tensor, x: Tensor, W: WeightMatrix, targets: Tensor, d: Dims): void {
  ctx.copy(x, s.x, n * d.C * 4, b.t0 * d.C * 4, 0);
  ctx.copy(targets, s.t, n * 4, b.t0 * 4, 0);
  headLogits(ctx, b.logits, s.x, W, { T: n, C: d.C, V: d.V });
  crossEntropyForward(ctx, s.nll, b.lse, b.logits, s.t, { T: n, V: d.V });
  ctx.copy(s.nll, nll, n * 4, 0, b.t0 * 4);
}

/** Backward of block b: dx rows [b.t0, b.t0 + n) = dlogits·W, dlogits = scale·(softmax − onehot), in place. */
function rowBlockBackward(ctx: GpuContext, s: Scratch, b: RowBlock, n: number, dx: Tensor, W: WeightMatrix, targets: Tensor, d: Dims & { scale: number }): void {
  ctx.copy(targets, s.t, n * 4, b.t0 * 4, 0);
  crossEntropyBackward(ctx, b.logits, b.lse, s.t, { T: n, V: d.V, scale: d.scale });
  headBackwardInput(ctx, s.dx, b.logits, W, { T: n, C: d.C, V: d.V });
  ctx.copy(s.dx, dx, n * d.C * 4, 0, b.t0 * d.C * 4);
}

/** nll (N) of x (N, C); keeps every row's logits and lse (category `activations`) for the backward. */
export function headAutogradForward(ctx: GpuContext, nll: Tensor, x: Tensor, W: WeightMatrix, targets: Tensor, d: Dims): HeadSaved {
  const c = Math.min(d.T, logitRowsPerBinding(ctx, W));
  const s = scratch(ctx, c, d.C);
  const blocks: RowBlock[] = [];
  try {
    for (let t0 = 0; t0 < d.T; t0 += c) {
      const n = Math.min(c, d.T - t0);
      const b = allocBlock(ctx, W, t0, n, 'activations', `head.logits${d.T > c ? `.rows${t0}` : ''}`);
      blocks.push(b);
      rowBlockForward(ctx, s, b, n, nll, x, W, targets, d);
    }
  } catch (e) {
    for (const b of blocks) ctx.free(b.lse, ...b.logits);
    throw e;
  } finally {
    freeScratch(ctx, s);
  }
  return { blocks };
}

/** dx (N, C) from the kept logits; frees them. */
export function headAutogradBackward(ctx: GpuContext, dx: Tensor, saved: HeadSaved, W: WeightMatrix, targets: Tensor, d: Dims & { scale: number }): void {
  const c = Math.max(...saved.blocks.map((b) => b.n));
  const s = scratch(ctx, c, d.C);
  try {
    for (const b of saved.blocks) {
      rowBlockBackward(ctx, s, b, b.n, dx, W, targets, d);
      ctx.free(b.lse, ...b.logits);
    }
    saved.blocks = [];
  } finally {
    freeScratch(ctx, s);
  }
}

/** MeSP's head: nll (N) and dx (N, C) of x (N, C), `chunk` tokens at a time, logits dropped after each chunk. */
export function headChunkedLossAndGrad(
  ctx: GpuContext, nll: Tensor, dx: Tensor, x: Tensor, W: WeightMatrix, targets: Tensor, d: Dims & { chunk: number; scale: number },
): void {
  const c = Math.max(1, Math.min(d.chunk, d.T, logitRowsPerBinding(ctx, W)));
  const s = scratch(ctx, c, d.C);
  const b = allocBlock(ctx, W, 0, c, 'workspace', 'head.chunk.logits');
  try {
    for (let t0 = 0; t0 < d.T; t0 += c) {
      const n = Math.min(c, d.T - t0);
      b.t0 = t0;
      rowBlockForward(ctx, s, b, n, nll, x, W, targets, d);
      rowBlockBackward(ctx, s, b, n, dx, W, targets, d);
    }
  } finally {
    ctx.free(b.lse, ...b.logits);
    freeScratch(ctx, s);
  }
}

// The LM head and loss inside a training step. Two schedules over the same kernels (core/kernels/head.ts):
//  - autograd: the (N, V) logits are kept from the forward to the backward, as an autograd engine keeps them
//    (`full`, `mebp`, and MeSP with --no-chunked-head);
//  - chunked (MeSP): for each chunk of tokens, logits (chunk, V), loss, dlogits and dx are computed and dropped at once,
//    so the logits never exist whole and are never recomputed.
// Per row, both run the same arithmetic in the same order (row results of the matmuls and of the segment-wise
// softmax statistics do not depend on the other rows), so their losses and gradients are the same bits.
import type { GpuContext } from '../gpu/context';
import type { Tensor } from '../gpu/tensor';
import { crossEntropyBackward, crossEntropyForward, headBackwardInput, headLogits } from '../kernels/head';
import type { WeightMatrix } from '../kernels/weight';

export interface HeadSaved {
  logits: Tensor[]; // per vocabulary tile: (N, tile rows)
  lse: Tensor; // (N)
}

type Dims = { T: number; C: number; V: number };

/** nll (N) of x (N, C); keeps the logits and lse for the backward. */
export function headAutogradForward(ctx: GpuContext, nll: Tensor, x: Tensor, W: WeightMatrix, targets: Tensor, d: Dims): HeadSaved {
  const logits = W.tiles.map((t, i) => ctx.alloc('activations', `head.logits${W.tiles.length > 1 ? `.tile${i}` : ''}`, [d.T, t.rows]));
  const lse = ctx.alloc('activations', 'head.lse', [d.T]); // (N)
  headLogits(ctx, logits, x, W, d);
  crossEntropyForward(ctx, nll, lse, logits, targets, { T: d.T, V: d.V });
  return { logits, lse };
}

/** dx (N, C) = dlogits·W with dlogits = scale·(softmax − onehot); frees the saved logits and lse. */
export function headAutogradBackward(ctx: GpuContext, dx: Tensor, s: HeadSaved, W: WeightMatrix, targets: Tensor, d: Dims & { scale: number }): void {
  crossEntropyBackward(ctx, s.logits, s.lse, targets, { T: d.T, V: d.V, scale: d.scale });
  headBackwardInput(ctx, dx, s.logits, W, { T: d.T, C: d.C, V: d.V });
  ctx.free(s.lse, ...s.logits);
}

/** MeSP's head: nll (N) and dx (N, C) of x (N, C), `chunk` tokens at a time. */
export function headChunkedLossAndGrad(
  ctx: GpuContext, nll: Tensor, dx: Tensor, x: Tensor, W: WeightMatrix, targets: Tensor, d: Dims & { chunk: number; scale: number },
): void {
  const c = Math.max(1, Math.min(d.chunk, d.T));
  const xc = ctx.alloc('workspace', 'head.chunk.x', [c, d.C]); // (c, C)
  const tc = ctx.alloc('workspace', 'head.chunk.targets', [c], 'i32'); // (c)
  const nllc = ctx.alloc('workspace', 'head.chunk.nll', [c]); // (c)
  const lsec = ctx.alloc('workspace', 'head.chunk.lse', [c]); // (c)
  const dxc = ctx.alloc('workspace', 'head.chunk.dx', [c, d.C]); // (c, C)
  const logits = W.tiles.map((t, i) => ctx.alloc('workspace', `head.chunk.logits${W.tiles.length > 1 ? `.tile${i}` : ''}`, [c, t.rows]));
  try {
    for (let t0 = 0; t0 < d.T; t0 += c) {
      const n = Math.min(c, d.T - t0);
      ctx.copy(x, xc, n * d.C * 4, t0 * d.C * 4, 0);
      ctx.copy(targets, tc, n * 4, t0 * 4, 0);
      const cd = { T: n, C: d.C, V: d.V };
      headLogits(ctx, logits, xc, W, cd);
      crossEntropyForward(ctx, nllc, lsec, logits, tc, { T: n, V: d.V });
      crossEntropyBackward(ctx, logits, lsec, tc, { T: n, V: d.V, scale: d.scale });
      headBackwardInput(ctx, dxc, logits, W, cd);
      ctx.copy(nllc, nll, n * 4, 0, t0 * 4);
      ctx.copy(dxc, dx, n * d.C * 4, 0, t0 * d.C * 4);
    }
  } finally {
    ctx.free(xc, tc, nllc, lsec, dxc, ...logits);
  }
}

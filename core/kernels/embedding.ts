// Token embedding (HF Qwen2 `embed_tokens`, nn.Embedding) over a row-tiled frozen table in f32, int8 or int4
// (core/kernels/weight.ts), dequantized inside the kernel: no dequantized copy of the table ever exists. The
// 151936 × C table is over one 128 MiB binding under phone limits, so the lookup runs one dispatch per tile.
// The backward (dtable, deterministic, no atomics) is for completeness: LoRA training never calls it.
// Kernels: embedding.wgsl, embedding_backward.wgsl. CPU reference: core/reference/embedding.ts.
import { ShapeError } from '../common/errors';
import type { GpuContext } from '../gpu/context';
import { Params } from '../gpu/params';
import type { Tensor } from '../gpu/tensor';
import { rowsPerBinding, rowTiles } from '../gpu/tiling';
import { needDims, needValues } from './checks';
import { grid1d } from './grid';
import { dataWordsPerRow, sbWordsPerRow, type WeightMatrix } from './weight';
import forwardCode from './embedding.wgsl';
import backwardCode from './embedding_backward.wgsl';

export interface EmbeddingDims {
  /** Tokens (B·T). */
  N: number;
  /** Hidden size. */
  C: number;
  /** Vocabulary size (rows of the table). */
  V: number;
}

const WG = 256;
const BITS = { f32: 32, int8: 8, int4: 4 } as const;

/** out[n] = table[ids[n]] (dequantized); a zero row for an id outside [0, V). */
export function embeddingForward(
  ctx: GpuContext,
  out: Tensor, // (N, C)
  ids: Tensor, // (N) i32
  table: WeightMatrix, // (V, C)
  dims: EmbeddingDims,
): void {
  const { N, C, V } = dims;
  needDims('embeddingForward', { N, C, V }, ['C']);
  if (table.rows !== V || table.cols !== C) {
    throw new ShapeError(`embeddingForward: table ${table.name} is ${table.rows}×${table.cols}, dims say V ${V} × C ${C}`);
  }
  needValues('embeddingForward', 'out', out, N * C);
  needValues('embeddingForward', 'ids', ids, N, 'i32');
  if (N === 0) return;
  const W = dataWordsPerRow(table.format, C); // data words per row
  const SBW = sbWordsPerRow(table.format, C); // (scale, bias) words per row
  const count = N * W;
  const rowBytes = 4 * (W + SBW);
  table.tiles.forEach((tile, k) => {
    ctx.run(
      { name: 'embedding', code: forwardCode, constants: { BITS: BITS[table.format] } },
      [out, ids, tile.data, tile.sb ?? ctx.dummy],
      new Params().u(count).u(W).u(C).u(tile.row0).u(tile.rows).u(V).u(k === 0 ? 1 : 0).u(SBW),
      grid1d(count, WG),
      // every tile reads the ids; the N rows looked up and the (N, C) output are counted once, on the first tile.
      // Dequantization is scale·q + bias: 2 per value.
      { flops: k === 0 && table.format !== 'f32' ? 2 * N * C : 0, bytes: 4 * N + (k === 0 ? N * rowBytes + 4 * N * C : 0) },
    );
  });
}

export interface EmbeddingBackwardDims extends EmbeddingDims {
  /** dtable += the gradient instead of dtable = the gradient. */
  accumulate?: boolean;
}

/**
 * forward: out[n, :] = table[ids[n], :]
 * so dtable[v, :] (= or +=) Σ_{n: ids[n] = v} dout[n, :], summed in token order; out-of-range ids get nothing.
 * dtable may be over one binding: it is bound in ranges of rows that fit.
 */
export function embeddingBackward(
  ctx: GpuContext,
  dtable: Tensor, // (V, C) f32
  dout: Tensor, // (N, C)
  ids: Tensor, // (N) i32
  dims: EmbeddingBackwardDims,
): void {
  const { N, C, V } = dims;
  const accumulate = !!dims.accumulate;
  needDims('embeddingBackward', { N, C, V }, ['C']);
  needValues('embeddingBackward', 'dtable', dtable, V * C);
  needValues('embeddingBackward', 'dout', dout, N * C);
  needValues('embeddingBackward', 'ids', ids, N, 'i32');
  if (dtable === dout) throw new ShapeError('embeddingBackward: dtable and dout must be distinct tensors');
  if (!accumulate) ctx.zero(dtable, 0, V * C * 4);
  if (N === 0 || V === 0) return;
  // Row ranges of dtable that fit one binding; a multiple of 64 rows keeps each offset 256-byte aligned.
  const count = N * C;
  for (const { row0, rows } of rowTiles(V, rowsPerBinding(ctx.limits, C * 4, 'embeddingBackward dtable', 64))) {
    ctx.run(
      { name: 'embedding_backward', code: backwardCode, constants: { ACCUM: accumulate } },
      [{ tensor: dtable, offset: row0 * C * 4, size: rows * C * 4 }, dout, ids],
      new Params().u(count).u(N).u(C).u(row0).u(rows),
      grid1d(count, WG),
      { flops: N * C, bytes: 4 * (N + N * C + (accumulate ? 2 : 1) * rows * C) },
    );
  }
}

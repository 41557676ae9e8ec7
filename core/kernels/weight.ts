// Frozen weight matrices on the GPU: f32, int8 or int4 (DESIGN.md §4), split into row tiles (core/gpu/tiling.ts) so
// that no binding is over the profile's maxStorageBufferBindingSize (the 151936 × C embedding and LM head need several tiles under
// phone limits). Every linear layer, the embedding and the head use this one type.
//
// Formats, for a matrix W [rows = out, cols = in] (row-major, HF layout):
//   f32   data (rows, cols) f32.
//   int8  data (rows, cols/4) u32, byte j of word w = q[r, 4w+j];  sb (rows, cols/64) u32.
//   int4  data (rows, cols/8) u32, nibble j (bits 4j..4j+3) of word w = q[r, 8w+j];  sb (rows, cols/64) u32.
//   sb word = f16 scale (low 16 bits) | f16 bias (high 16 bits) of one group of 64 inputs: w = scale·q + bias.
// So int4 takes 4 + 32/64 = 4.5 bits per parameter and int8 8.5. CPU packing: core/common/quant.ts.
import { ShapeError } from '../common/errors';
import { quantizeRows } from '../common/quant';
import type { GpuContext } from '../gpu/context';
import type { Category } from '../gpu/ledger';
import type { Tensor } from '../gpu/tensor';
import { rowsPerBinding, rowTiles } from '../gpu/tiling';

export type WeightFormat = 'f32' | 'int8' | 'int4';

/** Inputs per quantization group. */
export const QUANT_GROUP = 64;

export interface WeightTile {
  /** First row (output feature) of the tile and its row count. */
  row0: number;
  rows: number;
  /** f32: (rows, cols) f32. int8: (rows, cols/4) u32. int4: (rows, cols/8) u32. */
  data: Tensor;
  /** int8/int4: (rows, cols/64) u32 packed f16 scale|bias; null for f32. */
  sb: Tensor | null;
}

export interface WeightMatrix {
  name: string;
  format: WeightFormat;
  /** Output features (the first dimension of the HF weight). */
  rows: number;
  /** Input features. */
  cols: number;
  tiles: WeightTile[];
}

/** 32-bit words per row of `data`. */
export function dataWordsPerRow(format: WeightFormat, cols: number): number {
  if (format === 'f32') return cols;
  return format === 'int8' ? cols / 4 : cols / 8;
}

export function sbWordsPerRow(format: WeightFormat, cols: number): number {
  return format === 'f32' ? 0 : cols / QUANT_GROUP;
}

/** Bytes of one weight row (data and scale|bias words), what a kernel reads per row (the per-kernel counts). */
export function weightRowBytes(W: WeightMatrix): number {
  return 4 * (dataWordsPerRow(W.format, W.cols) + sbWordsPerRow(W.format, W.cols));
}

/** Bytes the weight takes in the ledger (data + scales/biases), over all tiles. */
export function weightBytes(format: WeightFormat, rows: number, cols: number): number {
  return rows * (dataWordsPerRow(format, cols) + sbWordsPerRow(format, cols)) * 4;
}

/** Check a matrix can be stored in a format: quantized formats need cols % 64 == 0. */
export function formatFits(format: WeightFormat, cols: number): boolean {
  return format === 'f32' || cols % QUANT_GROUP === 0;
}


/**
 * Allocate (zeroed) tiles for a weight matrix under the context's binding limit. `maxTileRows` caps the rows per
 * tile below what the limit allows (tests use it to get several tiles from a small matrix).
 */
export function allocWeight(
  ctx: GpuContext,
  category: Category,
  name: string,
  rows: number,
  cols: number,
  format: WeightFormat,
  maxTileRows?: number,
): WeightMatrix {
  if (!formatFits(format, cols)) throw new RangeError(`${name}: ${format} needs input features divisible by ${QUANT_GROUP}, got ${cols}`);
  let perTile = rowsPerBinding(ctx.limits, dataWordsPerRow(format, cols) * 4, name); // the data binding is the widest
  if (maxTileRows !== undefined) {
    if (!Number.isInteger(maxTileRows) || maxTileRows < 1) throw new RangeError(`${name}: maxTileRows must be a positive integer, got ${maxTileRows}`);
    perTile = Math.min(perTile, maxTileRows);
  }
  const plan = rowTiles(rows, perTile);
  const tiles = ctx.scopedSync(() => plan.map((t, i): WeightTile => { // all tiles or none
    const suffix = plan.length > 1 ? `.tile${i}` : '';
    const data = ctx.alloc(category, `${name}${suffix}`, [t.rows, dataWordsPerRow(format, cols)], format === 'f32' ? 'f32' : 'u32');
    const sb = format !== 'f32' ? ctx.alloc(category, `${name}${suffix}.sb`, [t.rows, sbWordsPerRow(format, cols)], 'u32') : null;
    return { row0: t.row0, rows: t.rows, data, sb };
  }));
  return { name, format, rows, cols, tiles };
}

/**
 * Fill a weight matrix from row-major (rows, cols) f32 values: f32 tiles get them as they are; int8 / int4 tiles get
 * them quantized (core/common/quant.ts quantizeRows, bits 8 / 4), tile by tile (quantization is per row, so this
 * equals quantizing the whole matrix and slicing it).
 */
export function writeWeight(ctx: GpuContext, W: WeightMatrix, values: Float32Array): void {
  const { rows, cols, format } = W;
  if (values.length !== rows * cols) {
    throw new ShapeError(`writeWeight ${W.name}: got ${values.length} values, needs ${rows}×${cols} = ${rows * cols}`);
  }
  for (const tile of W.tiles) {
    const part = values.subarray(tile.row0 * cols, (tile.row0 + tile.rows) * cols); // (tile.rows, cols)
    if (format === 'f32') {
      ctx.write(tile.data, part);
      continue;
    }
    const packed = quantizeRows(part, tile.rows, cols, format === 'int8' ? 8 : 4);
    ctx.write(tile.data, packed.data); // (tile.rows, cols·bits/32) u32
    ctx.write(tile.sb!, packed.sb); // (tile.rows, cols/64) u32
  }
}

export function freeWeight(ctx: GpuContext, w: WeightMatrix): void {
  for (const t of w.tiles) ctx.free(t.data, t.sb);
  w.tiles = [];
}

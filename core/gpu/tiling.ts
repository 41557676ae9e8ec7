// Tiling under the device's binding limits, in one place (DESIGN.md §3 "phone WebGPU limits"): phones give 128 MiB per
// storage binding and 256 MiB per buffer, so a tensor of rows larger than that (the 151936-row embedding and LM head,
// their (tokens, V) logits, the embedding's gradient) is split into row tiles, each its own buffer or bound as a byte
// range of one. Every kernel and schedule that tiles asks here: weights (core/kernels/weight.ts), the head's logits
// (core/kernels/head.ts, core/train/head.ts) and the embedding's gradient ranges (core/kernels/embedding.ts).
import { ShapeError } from '../common/errors';
import type { DeviceLimits } from './context';

/** The most bytes one binding of a tensor may cover: the binding limit, within one buffer. */
export function maxBindingBytes(limits: DeviceLimits): number {
  return Math.min(limits.maxStorageBufferBindingSize, limits.maxBufferSize);
}

/**
 * The most rows of `rowBytes` bytes that fit one binding (a multiple of `align` rows when asked, e.g. to keep byte
 * offsets 256-aligned). Throws a ShapeError naming `what` when not even one (aligned) group of rows fits.
 */
export function rowsPerBinding(limits: DeviceLimits, rowBytes: number, what: string, align = 1): number {
  const rows = Math.floor(maxBindingBytes(limits) / rowBytes / align) * align;
  if (rows < 1) throw new ShapeError(`${what}: ${align} row${align > 1 ? 's' : ''} of ${rowBytes} bytes ${align > 1 ? 'are' : 'is'} over one binding (${maxBindingBytes(limits)} bytes)`);
  return rows;
}

/** Consecutive row tiles [row0, row0 + rows) of at most `perTile` rows covering `rows` rows. */
export function rowTiles(rows: number, perTile: number): { row0: number; rows: number }[] {
  const tiles: { row0: number; rows: number }[] = [];
  for (let r = 0; r < rows; r += perTile) tiles.push({ row0: r, rows: Math.min(perTile, rows - r) });
  return tiles;
}

// Dispatch grids for the one-invocation-per-item kernels (element-wise, RoPE, SwiGLU, embedding, RMSNorm rows):
// a 1-D grid of ceil(items / workgroupSize) workgroups, folded into 2-D when it is over WebGPU's 65535 workgroups per
// dimension (e.g. SwiGLU over T·I ≈ 256·11008 values). The WGSL side recovers the flat index with the built-in
// num_workgroups:  i = gid.x + gid.y · (nwg.x · WG), and skips i ≥ items (the folded grid may overshoot).
import { ShapeError } from '../common/errors';

/** WebGPU's default (and phones') maxComputeWorkgroupsPerDimension. */
export const MAX_WORKGROUPS_PER_DIM = 65535;

/** Workgroups for `items` invocations of `workgroupSize` each: [x, y] with x, y ≤ 65535. [0, 1] when items is 0. */
export function grid1d(items: number, workgroupSize: number): [number, number] {
  if (!Number.isInteger(items) || items < 0) throw new ShapeError(`grid1d: bad item count ${items}`);
  const groups = Math.ceil(items / workgroupSize);
  if (groups <= MAX_WORKGROUPS_PER_DIM) return [groups, 1];
  const y = Math.ceil(groups / MAX_WORKGROUPS_PER_DIM);
  if (y > MAX_WORKGROUPS_PER_DIM) throw new ShapeError(`grid1d: ${items} items is too many for one dispatch`);
  return [Math.ceil(groups / y), y];
}

// Rotary position embedding (HF Qwen2, rotate-half form with `rope_theta`): the cos/sin table built on the CPU, and
// the forward and backward (transpose) rotations. Kernel: rope.wgsl. CPU reference: core/reference/rope.ts.
//
// The table follows HF's float32 arithmetic (Qwen2RotaryEmbedding, default rope type):
//   inv_freq[i] = 1 / theta^(2i/HS)            each step rounded to f32, as torch computes it in float32
//   angle[t, i] = f32(t) · inv_freq[i]          rounded to f32 (HF's float32 matmul of inv_freq by positions)
//   table[t]    = [cos(angle[t, 0..HS/2)) | sin(angle[t, 0..HS/2))]   computed in float64, then rounded to f32.
// (f32 division and product are emulated exactly by rounding the float64 result: 53 ≥ 2·24 + 2.)
import { ShapeError } from '../common/errors';
import type { GpuContext } from '../gpu/context';
import { Params } from '../gpu/params';
import type { Tensor } from '../gpu/tensor';
import { needDims, needValues } from './checks';
import { grid1d } from './grid';
import code from './rope.wgsl';

export interface RopeDims {
  /** Rows of T tokens. */
  B: number;
  /** Tokens per row; the position of a token is its index t in its row. */
  T: number;
  /** Heads in the tensor (NH for q, NKV for k). */
  H: number;
  /** Head size (even). */
  HS: number;
}

const WG = 256;

/** The (T, HS) cos|sin table: row t = [cos(angle[t, i]) for i < HS/2 | sin(angle[t, i]) for i < HS/2]. */
export function ropeTableValues(T: number, HS: number, theta: number): Float32Array /* (T, HS) */ {
  if (!Number.isInteger(T) || T < 0) throw new ShapeError(`ropeTableValues: bad T ${T}`);
  if (!Number.isInteger(HS) || HS < 2 || HS % 2 !== 0) throw new ShapeError(`ropeTableValues: head size ${HS} must be even`);
  if (!(theta > 0)) throw new ShapeError(`ropeTableValues: rope_theta must be > 0, got ${theta}`);
  const half = HS / 2;
  const base = Math.fround(theta);
  const invFreq = new Float32Array(half); // (HS/2)
  for (let i = 0; i < half; i++) {
    const e = Math.fround((2 * i) / HS); // torch.arange(0, HS, 2).float() / HS
    invFreq[i] = Math.fround(1 / Math.fround(Math.pow(base, e))); // 1.0 / (base ** e)
  }
  const table = new Float32Array(T * HS); // (T, HS)
  for (let t = 0; t < T; t++) {
    for (let i = 0; i < half; i++) {
      const angle = Math.fround(Math.fround(t) * invFreq[i]);
      table[t * HS + i] = Math.cos(angle);
      table[t * HS + half + i] = Math.sin(angle);
    }
  }
  return table;
}

/** Allocate and fill the table for positions 0..T-1 (category 'workspace', name 'rope.table'). */
export function ropeTable(ctx: GpuContext, T: number, HS: number, theta: number): Tensor /* (T, HS) */ {
  const values = ropeTableValues(T, HS, theta); // (T, HS)
  const t = ctx.alloc('workspace', 'rope.table', [T, HS]);
  ctx.write(t, values);
  return t;
}

function dispatch(ctx: GpuContext, op: string, out: Tensor, x: Tensor, table: Tensor, dims: RopeDims, backward: boolean): void {
  const { B, T, H, HS } = dims;
  needDims(op, { B, T, H, HS }, ['T', 'HS']);
  if (HS % 2 !== 0) throw new ShapeError(`${op}: head size ${HS} must be even`);
  const n = B * T * H * HS;
  needValues(op, 'output', out, n);
  needValues(op, 'input', x, n);
  needValues(op, 'table', table, T * HS);
  if (table === out) throw new ShapeError(`${op}: the table ${table} cannot be the output`);
  const inPlace = out === x;
  const count = n / 2;
  ctx.run(
    { name: 'rope', code, constants: { BACKWARD: backward, IN_PLACE: inPlace } },
    [out, inPlace ? ctx.dummy : x, table],
    new Params().u(count).u(T).u(H).u(HS / 2),
    grid1d(count, WG),
    // a 2×2 rotation per pair: 6 FLOPs; x read and out written, the (T, HS) table once
    { flops: 6 * count, bytes: 4 * (2 * n + T * HS), kernel: backward ? 'rope_backward' : 'rope' },
  );
}

/** out = x·cos + rotate_half(x)·sin per head (HF apply_rotary_pos_emb). `out` may be `x` (in place). */
export function ropeForward(
  ctx: GpuContext,
  out: Tensor, // (B*T, H*HS)
  x: Tensor, // (B*T, H*HS)
  table: Tensor, // (T, HS)
  dims: RopeDims,
): void {
  dispatch(ctx, 'ropeForward', out, x, table, dims, false);
}

/**
 * forward: per pair (x1, x2), out = R(θ)·(x1, x2) with R = [[cos, −sin], [sin, cos]], a linear map,
 * so dx = R(θ)ᵀ·dout: dx1 = d1·cos + d2·sin, dx2 = d2·cos − d1·sin. `dx` may be `dout` (in place).
 */
export function ropeBackward(
  ctx: GpuContext,
  dx: Tensor, // (B*T, H*HS)
  dout: Tensor, // (B*T, H*HS)
  table: Tensor, // (T, HS)
  dims: RopeDims,
): void {
  dispatch(ctx, 'ropeBackward', dx, dout, table, dims, true);
}

// f16 storage of f32 tensors (`--precision f16`, issue "speed and precision"): toF16 packs N f32 values into an f16
// tensor (two a u32 word), fromF16 unpacks them back to f32, where every kernel accumulates. What is stored in f16 is rounded once, to a nearest f16;
// what is read back is exact. `unpacked` and `packed` are the moves the schedules make around them: an f32 workspace
// copy of an f16 tensor for a kernel that reads f32, and an f16 copy of an f32 one to keep.
// Kernel: f16.wgsl. CPU reference: core/reference/f16.ts (core/common/half.ts's f32ToF16, round to nearest even).
import type { Precision } from '../api/names';
import { ConfigError } from '../common/errors';
import type { GpuContext } from '../gpu/context';
import type { Category } from '../gpu/ledger';
import { Params } from '../gpu/params';
import type { Tensor } from '../gpu/tensor';
import { needDims, needValues } from './checks';
import { grid1d } from './grid';
import code from './f16.wgsl';

const WG = 256;
const MODE = { to: 0, from: 1 } as const;

function check(op: string, h: Tensor, f: Tensor, N: number): void {
  needDims(op, { N });
  needValues(op, 'f16 side', h, N, 'f16');
  needValues(op, 'f32 side', f, N);
}

/** Refuse precision f16 on an adapter without `shader-f16` (SwiftShader), naming the flag; a dry plan passes. */
export function requireF16(ctx: GpuContext, precision: Precision | undefined): void {
  if (precision !== 'f16' || ctx.dry || ctx.features.f16) return;
  throw new ConfigError(`precision f16 needs an adapter with the shader-f16 feature; ${ctx.adapter.description || 'this adapter'} has none. Use --precision f32.`, { field: 'precision' });
}

/** h (N, f16) = f (N, f32) rounded to a nearest f16. */
export function toF16(ctx: GpuContext, h: Tensor, f: Tensor, N: number): void {
  check('toF16', h, f, N);
  if (N === 0) return;
  ctx.run({ name: 'f16', code, constants: { MODE: MODE.to } }, [h, f], new Params().u(N), grid1d(Math.ceil(N / 2), WG), {
    flops: 0, bytes: 4 * N + 2 * N, kernel: 'to_f16',
  });
}

/** f (N, f32) = h (N, f16), exactly. */
export function fromF16(ctx: GpuContext, f: Tensor, h: Tensor, N: number): void {
  check('fromF16', h, f, N);
  if (N === 0) return;
  ctx.run({ name: 'f16', code, constants: { MODE: MODE.from } }, [h, f], new Params().u(N), grid1d(Math.ceil(N / 2), WG), {
    flops: 0, bytes: 2 * N + 4 * N, kernel: 'from_f16',
  });
}

/**
 * `t` as f32: t itself when it is f32, else a new f32 workspace tensor (named `<t.name>.f32`) holding its values.
 * The caller frees the copy with `dropUnpacked` when it is done.
 */
export function unpacked(ctx: GpuContext, t: Tensor): Tensor {
  if (t.dtype !== 'f16') return t;
  const f = ctx.alloc('workspace', `${t.name}.f32`, t.shape); // t's shape, f32
  fromF16(ctx, f, t, t.numel);
  return f;
}

/** `t` as f32 in its stead: an f16 `t` is read into an f32 workspace copy and freed; an f32 `t` is returned as is. */
export function unpackedInstead(ctx: GpuContext, t: Tensor): Tensor {
  const f = unpacked(ctx, t);
  if (f !== t) ctx.free(t);
  return f;
}

/** Free `f` if it is an unpacked copy of `t` (not `t` itself). */
export function dropUnpacked(ctx: GpuContext, f: Tensor, t: Tensor): void {
  if (f !== t) ctx.free(f);
}

/** A new f16 tensor (category, name) holding `f` (f32) rounded to f16. `f` is not freed. */
export function packed(ctx: GpuContext, f: Tensor, category: Category, name: string): Tensor {
  const h = ctx.alloc(category, name, f.shape, 'f16'); // f's shape, f16
  toF16(ctx, h, f, f.numel);
  return h;
}

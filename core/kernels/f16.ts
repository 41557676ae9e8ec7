// f16 storage of f32 tensors (`--precision f16`, issue "speed and precision"): toF16 packs N f32 values into an f16
// tensor (two a u32 word), fromF16 unpacks them back to f32, where every kernel accumulates. What is stored in f16 is
// rounded once, to a nearest f16; what is read back is exact. Kernel: f16.wgsl. CPU reference: core/reference/f16.ts
// (core/common/half.ts's f32ToF16, round to nearest even).
import type { GpuContext } from '../gpu/context';
import { Params } from '../gpu/params';
import type { Tensor } from '../gpu/tensor';
import { needDims, needValues } from './checks';
import { grid1d } from './grid';
import code from './f16.wgsl';

const WG = 256;

function check(op: string, h: Tensor, f: Tensor, N: number): void {
  needDims(op, { N });
  needValues(op, 'f16 side', h, N, 'f16');
  needValues(op, 'f32 side', f, N);
}

/** h (N, f16) = f (N, f32) rounded to a nearest f16. */
export function toF16(ctx: GpuContext, h: Tensor, f: Tensor, N: number): void {
  check('toF16', h, f, N);
  if (N === 0) return;
  ctx.run({ name: 'f16', code, constants: { TO_F16: true } }, [h, f], new Params().u(N), grid1d(Math.ceil(N / 2), WG), {
    flops: 0, bytes: 4 * N + 2 * N, kernel: 'to_f16',
  });
}

/** f (N, f32) = h (N, f16), exactly. */
export function fromF16(ctx: GpuContext, f: Tensor, h: Tensor, N: number): void {
  check('fromF16', h, f, N);
  if (N === 0) return;
  ctx.run({ name: 'f16', code, constants: { TO_F16: false } }, [h, f], new Params().u(N), grid1d(Math.ceil(N / 2), WG), {
    flops: 0, bytes: 2 * N + 4 * N, kernel: 'from_f16',
  });
}

// f32 matmul: C[M,N] = alpha·op(A)·op(B) (+C) (+bias). The one GEMM every linear layer, LoRA product and their
// backward passes use (forward y = x·Wᵀ, dx = g·W, dA = uᵀ·x, dB = gᵀ·h). CPU reference: core/reference/matmul.ts.
import { bindingElems, bindingTensor, type Binding, type GpuContext } from '../gpu/context';
import { Params } from '../gpu/params';
import { Tensor } from '../gpu/tensor';
import { ShapeError } from '../common/errors';
import commonCode from './matmul_common.wgsl';
import vec4Code from './matmul.wgsl';
import scalarCode from './matmul_scalar.wgsl';
import { variantId } from '../gpu/tuning';
import { chooseVariant } from './variants';
import { matmulTiledSource } from './matmul_variants';

export interface MatmulDims {
  M: number;
  N: number;
  K: number;
}

export interface MatmulOptions {
  /** A is stored [K, M] (use Aᵀ). */
  transA?: boolean;
  /** B is stored [N, K] (use Bᵀ); a linear layer's weight [out, in] is used this way. */
  transB?: boolean;
  /** C += result instead of C = result. */
  accumulate?: boolean;
  alpha?: number;
  /** bias[N], added once per output. */
  bias?: Tensor;
  /** The profile row (e.g. "lora.xA"); "matmul" when absent. */
  label?: string;
}

function nameOf(b: Binding): string {
  return String(bindingTensor(b));
}

/** Can the vec4 kernel run: is the contiguous dimension of each operand a multiple of 4? */
export function matmulVec4Ok(d: MatmulDims, o: MatmulOptions): boolean {
  const aContig = o.transA ? d.M : d.K;
  const bContig = o.transB ? d.K : d.N;
  return aContig % 4 === 0 && bContig % 4 === 0;
}

/** out (M, N) = alpha · op(a) (M, K) · op(b) (K, N). */
export function matmul(ctx: GpuContext, out: Binding, a: Binding, b: Binding, d: MatmulDims, o: MatmulOptions = {}): void {
  const { M, N, K } = d;
  if (M === 0 || N === 0) return;
  if (bindingElems(out) < M * N) throw new ShapeError(`matmul: output ${nameOf(out)} holds ${bindingElems(out)} values, needs ${M}×${N}`);
  if (bindingElems(a) < M * K) throw new ShapeError(`matmul: A ${nameOf(a)} holds ${bindingElems(a)} values, needs ${M}×${K}`);
  if (bindingElems(b) < K * N) throw new ShapeError(`matmul: B ${nameOf(b)} holds ${bindingElems(b)} values, needs ${K}×${N}`);
  if (o.bias && o.bias.numel < N) throw new ShapeError(`matmul: bias ${o.bias} shorter than N=${N}`);
  const vec4 = matmulVec4Ok(d, o);
  const constants = { TRANS_A: !!o.transA, TRANS_B: !!o.transB, ACCUM: !!o.accumulate, BIAS: !!o.bias };
  const v = chooseVariant(ctx, 'matmul', `f32.${o.transA ? 't' : 'n'}${o.transB ? 't' : 'n'}${vec4 ? '.vec4' : ''}`, d);
  const tiled = v.kind === 'tiled' && vec4;
  const block = tiled ? 64 : 32; // outputs per workgroup along m and n
  ctx.run(
    tiled
      ? { name: 'matmul', variant: variantId(v), code: matmulTiledSource('f32'), constants }
      : { name: vec4 ? 'matmul' : 'matmul_scalar', code: commonCode + (vec4 ? vec4Code : scalarCode), constants },
    [out, a, b, o.bias ?? ctx.dummy],
    new Params().u(M).u(N).u(K).f(o.alpha ?? 1),
    [Math.ceil(N / block), Math.ceil(M / block)],
    { flops: 2 * M * N * K, bytes: 4 * (M * K + K * N + (o.accumulate ? 2 : 1) * M * N + (o.bias ? N : 0)), kernel: o.label ?? 'matmul' },
  );
}

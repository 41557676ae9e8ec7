// Causal grouped-query attention of Qwen2, forward and backward, after RoPE (HF Qwen2Attention, eager path):
// scores = q·kᵀ/sqrt(HS) with a causal mask, softmax in f32, out = P·v; query head h reads kv head h / (NH/NKV).
// B rows (sequences) of T tokens each, tokens row-major; a (B*T, heads*HS) tensor holds head h at columns
// [h*HS, (h+1)*HS) and each row attends only within itself.
//
// The forward can write P (the autograd table `full` and `mebp` keep); MeSP keeps only lse and the backward recomputes
// P = exp(score − lse) with the very same WGSL functions (attention_common.wgsl), so both give the same bits.
// CPU reference: core/reference/attention.ts. Kernels: attention_{fwd,stats,dq,dkdv}.wgsl.
import type { GpuContext } from '../gpu/context';
import { Params } from '../gpu/params';
import type { Tensor } from '../gpu/tensor';
import { ShapeError } from '../common/errors';
import { grid1d } from './grid';
import commonCode from './attention_common.wgsl';
import fwdCode from './attention_fwd.wgsl';
import statsCode from './attention_stats.wgsl';
import dqCode from './attention_dq.wgsl';
import dkdvCode from './attention_dkdv.wgsl';
import type { KernelSpec } from '../gpu/pipelines';
import { attentionDkdvSgSource, attentionDqSgSource, attentionFwdSgSource } from './attention_variants';

export interface AttentionDims {
  /** Rows (sequences). */
  B: number;
  /** Tokens per row. */
  T: number;
  /** Query heads. */
  NH: number;
  /** Key/value heads (NH is a multiple of NKV). */
  NKV: number;
  /** Head size (a multiple of 4, at most ATTENTION_MAX_HS). */
  HS: number;
}

/** Largest head size the kernels hold in their private arrays (MAX_HS4·4 in attention_common.wgsl). Qwen2: 64 or 128. */
export const ATTENTION_MAX_HS = 128;

/** Query tokens (forward, dq) or key tokens (dk/dv) per workgroup: WG in the kernels. */
const TILE = 32;
const STATS_WG = 64;

const FWD = { name: 'attention_fwd', code: commonCode + fwdCode };
const STATS = { name: 'attention_stats', code: commonCode + statsCode };
const DQ = { name: 'attention_dq', code: commonCode + dqCode };
const DKDV = { name: 'attention_dkdv', code: commonCode + dkdvCode };

function checkDims(op: string, d: AttentionDims): void {
  const { B, T, NH, NKV, HS } = d;
  for (const [k, v] of Object.entries({ B, T, NH, NKV, HS })) {
    if (!Number.isInteger(v) || v < 1) throw new ShapeError(`${op}: ${k}=${v} must be a positive integer`);
  }
  if (NH % NKV !== 0) throw new ShapeError(`${op}: NH=${NH} is not a multiple of NKV=${NKV} (grouped-query attention)`);
  if (HS % 4 !== 0 || HS > ATTENTION_MAX_HS) {
    throw new ShapeError(`${op}: head size HS=${HS} must be a multiple of 4 and at most ${ATTENTION_MAX_HS} (every Qwen2 model has 64 or 128)`);
  }
  if (T > 65535 * TILE) throw new ShapeError(`${op}: T=${T} is over the dispatch grid limit (${65535 * TILE})`);
  if (B > 65535 || NH > 65535) throw new ShapeError(`${op}: B=${B} or NH=${NH} is over the dispatch grid limit 65535`);
}

function need(op: string, role: string, t: Tensor, numel: number, shape: string): void {
  if (t.dtype !== 'f32') throw new ShapeError(`${op}: ${role} ${t} must be f32`);
  if (t.numel < numel) throw new ShapeError(`${op}: ${role} ${t} holds ${t.numel} values, needs ${shape} = ${numel}`);
}

function distinct(op: string, outputs: Record<string, Tensor | null>, inputs: Record<string, Tensor | null>): void {
  const outs = Object.entries(outputs).filter((e): e is [string, Tensor] => e[1] !== null);
  for (let i = 0; i < outs.length; i++) {
    for (const [name, t] of [...outs.slice(i + 1), ...Object.entries(inputs)]) {
      if (t === outs[i][1]) throw new ShapeError(`${op}: output ${outs[i][0]} and ${name} are the same tensor ${t}; use separate buffers`);
    }
  }
}

function checkProbsBinding(ctx: GpuContext, op: string, d: AttentionDims): void {
  const bytes = d.B * d.NH * d.T * d.T * 4;
  if (bytes > ctx.limits.maxStorageBufferBindingSize) {
    throw new ShapeError(
      `${op}: the attention table P (B=${d.B}, NH=${d.NH}, T=${d.T}, T) takes ${bytes} bytes, over the device's ` +
        `maxStorageBufferBindingSize ${ctx.limits.maxStorageBufferBindingSize}; use --method mesp (which keeps no P) or a smaller batch or sequence length`,
    );
  }
}

type AttentionKernel = 'fwd' | 'dq' | 'dkdv';
const SG_SOURCES = { fwd: attentionFwdSgSource, dq: attentionDqSgSource, dkdv: attentionDkdvSgSource };
/** Largest head size the subgroup forms are generated for. */
const SG_MAX_HS = 64;

/**
 * The kernel of one pass: the subgroup form (attention_variants.ts, the same bits) where the adapter has one fixed
 * subgroup size that divides the 32-invocation workgroup and HS ≤ 64, else the original; ctx.forcedVariants 'attention' = reg
 * picks the original (tests compare the two).
 */
function spec(ctx: GpuContext, which: AttentionKernel, d: AttentionDims): KernelSpec {
  const base = which === 'fwd' ? FWD : which === 'dq' ? DQ : DKDV;
  const S = ctx.features.subgroupSize;
  const forced = ctx.forcedVariants.get('attention');
  // HS ≤ 64 only: with 32 vec4 per row (HS 128) the generated code takes minutes to compile on lavapipe.
  if (forced?.kind === 'reg' || !(S >= 4 && S <= TILE && TILE % S === 0) || d.HS > SG_MAX_HS) return base;
  const HS4 = d.HS / 4;
  return { name: base.name, variant: `sg.S${S}.HS4_${HS4}`, code: SG_SOURCES[which](HS4, S) };
}

function params(d: AttentionDims): Params {
  return new Params()
    .u(d.T)
    .u(d.NH)
    .u(d.NKV)
    .u(d.HS / 4)
    .u(d.NH / d.NKV)
    .f(1 / Math.sqrt(d.HS))
    .u(d.B * d.T * d.NH);
}

/**
 * out (B*T, NH*HS) = softmax(q·kᵀ/sqrt(HS) + causal mask)·v per row and head; lse (B*T, NH) = log Σ_{s≤t} exp(score)
 * (natural log), written if given; probs (B, NH, T, T) = P with zeros above the diagonal, written if given.
 * out and lse are the same bits whether probs is requested or not.
 */
export function attentionForward(
  ctx: GpuContext,
  out: Tensor, // (B*T, NH*HS)
  lse: Tensor | null, // (B*T, NH)
  probs: Tensor | null, // (B, NH, T, T)
  q: Tensor, // (B*T, NH*HS)
  k: Tensor, // (B*T, NKV*HS)
  v: Tensor, // (B*T, NKV*HS)
  dims: AttentionDims,
): void {
  const op = 'attentionForward';
  checkDims(op, dims);
  const { B, T, NH, NKV, HS } = dims;
  need(op, 'out', out, B * T * NH * HS, '(B*T, NH*HS)');
  if (lse) need(op, 'lse', lse, B * T * NH, '(B*T, NH)');
  if (probs) {
    need(op, 'probs', probs, B * NH * T * T, '(B, NH, T, T)');
    checkProbsBinding(ctx, op, dims);
  }
  need(op, 'q', q, B * T * NH * HS, '(B*T, NH*HS)');
  need(op, 'k', k, B * T * NKV * HS, '(B*T, NKV*HS)');
  need(op, 'v', v, B * T * NKV * HS, '(B*T, NKV*HS)');
  distinct(op, { out, lse, probs }, { q, k, v });
  // The kernel always writes lse; without a caller tensor it goes to a temporary (a buffer bound twice writable is
  // not allowed, so the dummy cannot stand in for both lse and probs).
  const lseOut = lse ?? ctx.alloc('workspace', 'attention.lse', [B * T, NH]); // (B*T, NH)
  const qBytes = 4 * B * T * NH * HS; // q, out, dq, dout
  const kvBytes = 4 * B * T * NKV * HS; // k, v, dk, dv
  const pBytes = 4 * B * NH * T * T;
  ctx.run(
    { ...spec(ctx, 'fwd', dims), constants: { PROBS: probs !== null } },
    [out, lseOut, probs ?? ctx.dummy, q, k, v],
    params(dims),
    [Math.ceil(T / TILE), NH, B],
    // q, k, v read, out and lse written (and P when kept)
    { flops: attentionFlops(dims).forward, bytes: 2 * qBytes + 2 * kvBytes + 4 * B * T * NH + (probs ? pBytes : 0) },
  );
  if (!lse) ctx.free(lseOut);
}

/**
 * Gradients of attentionForward, overwritten (not accumulated):
 *   dP = dout·vᵀ; D[t] = Σ_d dout[t,d]·out[t,d]; dS = P ⊙ (dP − D);
 *   dq = dS·k/sqrt(HS); dk = dSᵀ·q/sqrt(HS); dv = Pᵀ·dout, dk and dv summed over the NH/NKV query heads of a kv head.
 * P is read from `probs` when given (full, mebp), else recomputed as exp(score − lse) from q, k and lse (mesp); the
 * two give the same bits. Deterministic: every output element is owned by one invocation that sums in a fixed order.
 */
export function attentionBackward(
  ctx: GpuContext,
  dq: Tensor, // (B*T, NH*HS)
  dk: Tensor, // (B*T, NKV*HS)
  dv: Tensor, // (B*T, NKV*HS)
  dout: Tensor, // (B*T, NH*HS)
  q: Tensor, // (B*T, NH*HS)
  k: Tensor, // (B*T, NKV*HS)
  v: Tensor, // (B*T, NKV*HS)
  out: Tensor, // (B*T, NH*HS)
  lse: Tensor | null, // (B*T, NH); may be null when probs is given (P needs no recompute)
  probs: Tensor | null, // (B, NH, T, T)
  dims: AttentionDims,
): void {
  const op = 'attentionBackward';
  if (!lse && !probs) throw new ShapeError(`${op}: give lse (to recompute P) or probs`);
  checkDims(op, dims);
  const { B, T, NH, NKV, HS } = dims;
  need(op, 'dq', dq, B * T * NH * HS, '(B*T, NH*HS)');
  need(op, 'dk', dk, B * T * NKV * HS, '(B*T, NKV*HS)');
  need(op, 'dv', dv, B * T * NKV * HS, '(B*T, NKV*HS)');
  need(op, 'dout', dout, B * T * NH * HS, '(B*T, NH*HS)');
  need(op, 'q', q, B * T * NH * HS, '(B*T, NH*HS)');
  need(op, 'k', k, B * T * NKV * HS, '(B*T, NKV*HS)');
  need(op, 'v', v, B * T * NKV * HS, '(B*T, NKV*HS)');
  need(op, 'out', out, B * T * NH * HS, '(B*T, NH*HS)');
  if (lse) need(op, 'lse', lse, B * T * NH, '(B*T, NH)');
  if (probs) {
    need(op, 'probs', probs, B * NH * T * T, '(B, NH, T, T)');
    checkProbsBinding(ctx, op, dims);
  }
  distinct(op, { dq, dk, dv }, { dout, q, k, v, out, lse, probs });
  const R = B * T * NH;
  const p = params(dims);
  const qBytes = 4 * B * T * NH * HS; // q, out, dq, dout
  const kvBytes = 4 * B * T * NKV * HS; // k, v, dk, dv
  const pBytes = probs ? 4 * B * NH * T * T : 0;
  const pairs = causalPairs(dims);
  // stats[r] = (lse[r], D[r]), D = Σ_d dout·out per (token, query head).
  const stats = ctx.alloc('workspace', 'attention.stats', [B * T, NH, 2]); // (B*T, NH, 2)
  const lseIn = lse ?? ctx.alloc('workspace', 'attention.lse_unused', [B * T, NH]); // (B*T, NH) zeros: P is given
  ctx.run(STATS, [stats, dout, out, lseIn], p, grid1d(R, STATS_WG), { flops: 2 * R * HS, bytes: 2 * qBytes + 12 * R });
  if (!lse) ctx.free(lseIn);
  const probsIn = probs ?? ctx.dummy;
  const constants = { PROBS: probs !== null };
  // forward: out = P·v, P = softmax(q·kᵀ·scale)  so  dq = scale·dS·k
  // The algorithmic backward (attentionFlops) is 10·HS per pair: score recompute, dP and dq here (6), dk and dv in
  // attention_dkdv (4; that kernel recomputes scores and dP as well, which is not counted).
  ctx.run({ ...spec(ctx, 'dq', dims), constants }, [dq, stats, dout, q, k, v, probsIn], p, [Math.ceil(T / TILE), NH, B],
    { flops: 6 * HS * pairs, bytes: 3 * qBytes + 2 * kvBytes + 8 * R + pBytes });
  // so  dk = scale·dSᵀ·q and dv = Pᵀ·dout, summed over the group heads of each kv head
  ctx.run({ ...spec(ctx, 'dkdv', dims), constants }, [dk, dv, stats, dout, q, k, v, probsIn], p, [Math.ceil(T / TILE), NKV, B],
    { flops: 4 * HS * pairs, bytes: 2 * qBytes + 4 * kvBytes + 8 * R + pBytes });
  ctx.free(stats);
}

export interface AttentionFlops {
  /** q·kᵀ and P·v over the causal pairs. */
  forward: number;
  /** Score recompute, dP, dq, dk and dv over the causal pairs (as MeSP runs it; with a kept P, 8·HS per pair). */
  backward: number;
}

/** The B·NH·T(T+1)/2 causal (query, key) pairs. */
function causalPairs(dims: AttentionDims): number {
  return (dims.B * dims.NH * dims.T * (dims.T + 1)) / 2;
}

/** Algorithmic FLOPs (multiply-add = 2) over the B·NH·T(T+1)/2 causal (query, key) pairs. */
export function attentionFlops(dims: AttentionDims): AttentionFlops {
  const pairs = causalPairs(dims);
  return { forward: 4 * dims.HS * pairs, backward: 10 * dims.HS * pairs };
}

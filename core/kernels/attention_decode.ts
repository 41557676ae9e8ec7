// Decoding attention: one new token's causal grouped-query attention over the keys and values of a KV cache (HF
// Qwen2Attention with past_key_values, eager path, after RoPE): out = softmax(q·K[0..len)ᵀ/√HS)·V[0..len) per query
// head, query head h reading kv head h / (NH/NKV). The cache rows are positions; the caller has written the new
// token's k and v at row len − 1 (core/infer/kvcache.ts), so attending to all len rows is the causal mask.
// Kernel: attention_decode.wgsl. CPU reference: core/reference/attention_decode.ts.
import { ShapeError } from '../common/errors';
import type { GpuContext } from '../gpu/context';
import { Params } from '../gpu/params';
import type { Tensor } from '../gpu/tensor';
import { ATTENTION_MAX_HS } from './attention';
import { needDims, needValues } from './checks';
import code from './attention_decode.wgsl';

export interface AttentionDecodeDims {
  /** Cached positions attended: the new token is at position len − 1. */
  len: number;
  /** Query heads. */
  NH: number;
  /** Key/value heads (NH is a multiple of NKV). */
  NKV: number;
  /** Head size (a multiple of 4, at most ATTENTION_MAX_HS). */
  HS: number;
}

const SPEC = { name: 'attention_decode', code };

/**
 * out (1, NH*HS) = softmax(q·kᵀ/√HS)·v over the cached positions 0..len−1 of k and v (cap, NKV*HS) for the one query
 * token q (1, NH*HS). `scores` (NH, ld), ld ≥ len, is scratch (overwritten). Deterministic.
 */
export function attentionDecode(
  ctx: GpuContext,
  out: Tensor, // (1, NH*HS)
  scores: Tensor, // (NH, ld) scratch
  q: Tensor, // (1, NH*HS)
  k: Tensor, // (cap, NKV*HS), rows 0..len−1 written
  v: Tensor, // (cap, NKV*HS), rows 0..len−1 written
  dims: AttentionDecodeDims,
): void {
  const op = 'attentionDecode';
  const { len, NH, NKV, HS } = dims;
  needDims(op, { len, NH, NKV, HS }, ['len', 'NH', 'NKV', 'HS']);
  if (NH % NKV !== 0) throw new ShapeError(`${op}: NH=${NH} is not a multiple of NKV=${NKV} (grouped-query attention)`);
  if (HS % 4 !== 0 || HS > ATTENTION_MAX_HS) throw new ShapeError(`${op}: head size HS=${HS} must be a multiple of 4 and at most ${ATTENTION_MAX_HS}`);
  if (NH > 65535) throw new ShapeError(`${op}: NH=${NH} is over the dispatch grid limit 65535`);
  needValues(op, 'out', out, NH * HS);
  needValues(op, 'q', q, NH * HS);
  needValues(op, 'k', k, len * NKV * HS);
  needValues(op, 'v', v, len * NKV * HS);
  const ld = scores.shape.length === 2 ? scores.shape[1] : 0;
  if (scores.shape.length !== 2 || scores.shape[0] < NH || ld < len) {
    throw new ShapeError(`${op}: scratch ${scores} must be (NH = ${NH}, ld ≥ len = ${len})`);
  }
  needValues(op, 'scores', scores, NH * ld);
  for (const [name, t] of [['scores', scores], ['q', q], ['k', k], ['v', v]] as const) {
    if (t === out) throw new ShapeError(`${op}: out and ${name} are the same tensor ${t}; use separate buffers`);
  }
  if (scores === q || scores === k || scores === v) throw new ShapeError(`${op}: the scratch ${scores} must not be an input`);
  ctx.run(SPEC, [out, scores, q, k, v], new Params().u(len).u(NKV).u(HS / 4).u(NH / NKV).f(1 / Math.sqrt(HS)).u(ld), [NH], {
    // q·k and p·v per head and position; q, the len keys and values of the head's group, the scores (written, read), out
    flops: 4 * HS * NH * len, bytes: 4 * (NH * HS + 2 * len * NKV * HS + 2 * NH * len + NH * HS),
  });
}

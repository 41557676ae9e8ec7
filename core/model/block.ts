// One Qwen2 decoder layer forward (HF Qwen2DecoderLayer), written once for eval and all four training methods.
// What a caller keeps is a set of names (`keep`): a kept intermediate is allocated as `activations` and returned in
// `saved`; anything else is a `workspace` temporary, freed as soon as the forward has consumed it. The training
// methods differ only in that set and in when they call this (core/train/methods).
//
//   a1 = rmsnorm(x)·w1                          (N, C)      [rstd1 (N)]
//   q = rope(a1·Wqᵀ + bq + s·(a1·Aqᵀ)·Bqᵀ)      (N, NH*HS)  "qr"     (and k → "kr"; v, without rope)
//   att = softmax(q·kᵀ/√HS, causal)·v          (N, NH*HS)  [lse (N, NH) or probs (B, NH, T, T)]
//   x2 = x + att·Woᵀ + lora                    (N, C)
//   a2 = rmsnorm(x2)·w2                         (N, C)      [rstd2 (N)]
//   gate, up = a2·Wgᵀ, a2·Wuᵀ (+ lora)          (N, I)
//   m = silu(gate) ⊙ up                         (N, I)
//   y = x2 + m·Wdᵀ + lora                       (N, C)
// LoRA h = inp·Aᵀ (N, R): kept in a saved table it is l<l>.h_<proj> (activations); a temporary is l<l>.<proj>.lora_h.
//
// f16 storage (`--precision f16`, Fwd.half): every tensor of HALF_NAMES is rounded to f16 where it is made and the
// forward goes on from the rounded value, whether or not it is kept, so every method and every replay computes from the
// same values; a kept one is stored as an f16 copy l<l>.<name>.f16 (activations) and its f32 form is a workspace
// temporary. gate and up go to f16 as soon as each is made, and m (f32) is made from them by swiglu_f16.wgsl, so the
// MLP never holds more than one (N, I) f32 tensor. LoRA A and B may be f16 tensors (read through an f32 workspace
// copy). rstd, lse, the attention probabilities, the LoRA h and m stay f32 (small, or kept only by `full` and `mebp`:
// MeSP makes m again from gate and up). Arithmetic is f32 throughout.
import type { GpuContext } from '../gpu/context';
import type { Category } from '../gpu/ledger';
import type { Tensor } from '../gpu/tensor';
import { attentionForward } from '../kernels/attention';
import { add, addInPlace } from '../kernels/elementwise';
import { linearForward } from '../kernels/linear';
import { matmul } from '../kernels/matmul';
import { rmsnormForward } from '../kernels/rmsnorm';
import { ropeForward } from '../kernels/rope';
import { dropUnpacked, fromF16, packed, unpacked } from '../kernels/f16';
import { swigluForward, swigluForwardF16 } from '../kernels/swiglu';
import type { LoraAdapter } from './adapter';
import type { ModelWeights, Projection } from './weights';

export const SAVED_NAMES = [
  'rstd1', 'a1', 'h_q', 'h_k', 'h_v', 'qr', 'kr', 'v', 'lse', 'probs', 'att', 'h_o',
  'x2', 'rstd2', 'a2', 'h_gate', 'h_up', 'gate', 'up', 'm', 'h_down',
] as const;
export type SavedName = (typeof SAVED_NAMES)[number];
export type Saved = Partial<Record<SavedName, Tensor>>;

/** The saved-table tensors stored in f16 with `--precision f16` (see the top comment). */
export const HALF_NAMES: ReadonlySet<SavedName> = new Set<SavedName>(['a1', 'qr', 'kr', 'v', 'att', 'x2', 'a2', 'gate', 'up']);

export interface BlockDims {
  B: number;
  T: number;
  /** Tokens: B·T. */
  N: number;
  C: number;
  NH: number;
  NKV: number;
  HS: number;
  I: number;
  eps: number;
}

/** What every block of one forward shares. */
export interface Fwd {
  ctx: GpuContext;
  model: ModelWeights;
  lora: LoraAdapter | null;
  /** RoPE cos|sin table (T, HS). */
  rope: Tensor;
  dims: BlockDims;
  /**
   * Inference with a KV cache (core/infer/decoder.ts): replaces the causal attention over this batch. Gets q, k, v of
   * layer l after RoPE and writes att; the cache decides which keys and values are attended.
   */
  attend?: (l: number, att: Tensor, q: Tensor, k: Tensor, v: Tensor) => void;
  /** f16 storage of the layer's intermediates (HALF_NAMES); see the top comment. */
  half?: boolean;
}

export function blockDims(model: ModelWeights, B: number, T: number): BlockDims {
  const c = model.cfg;
  return { B, T, N: B * T, C: c.hidden, NH: c.heads, NKV: c.kvHeads, HS: c.headDim, I: c.intermediate, eps: c.eps };
}

/**
 * out (N, outF) = inp (N, inF)·W0ᵀ (+ bias) + s·(inp·Aᵀ)·Bᵀ. The LoRA intermediate h (N, R) is kept in `saved` under
 * h_<p> when `keep` asks for it (the `full`/`mebp` tables and MeSP's --store-h), else freed at once.
 */
export function projForward(
  f: Fwd, l: number, p: Projection, out: Tensor, inp: Tensor, bias: Tensor | null,
  keep: ReadonlySet<SavedName>, saved: Saved,
): void {
  const { ctx, model, lora } = f;
  const W = model.layers[l].proj[p];
  const N = f.dims.N;
  linearForward(ctx, out, inp, W, { T: N, in: W.cols, out: W.rows }, bias ? { bias } : {});
  const ad = lora?.layers[l]?.[p];
  if (!ad || !lora) return;
  const R = lora.rank;
  const hName = `h_${p}` as SavedName;
  // A kept h is a saved-table entry, l<l>.h_<p>; one used only here is a temporary, l<l>.<p>.lora_h.
  const h = keep.has(hName) ? ctx.alloc('activations', `l${l}.${hName}`, [N, R]) : ctx.alloc('workspace', `l${l}.${p}.lora_h`, [N, R]); // (N, R)
  const A = unpacked(ctx, ad.A); // (R, in) f32
  matmul(ctx, h, inp, A, { M: N, N: R, K: W.cols }, { transB: true, label: 'lora.h' }); // h = inp·Aᵀ
  dropUnpacked(ctx, A, ad.A);
  const B = unpacked(ctx, ad.B); // (out, R) f32
  matmul(ctx, out, h, B, { M: N, N: W.rows, K: R }, { transB: true, accumulate: true, alpha: lora.scale, label: 'lora.y' }); // out += s·h·Bᵀ
  dropUnpacked(ctx, B, ad.B);
  if (keep.has(hName)) saved[hName] = h;
  else ctx.free(h);
}

/**
 * Run layer l on x (N, C). Returns y (N, C), allocated as `out.category:out.name`, and the kept intermediates.
 * x is not freed here; `xDone` is called once the layer no longer reads it (the caller may free it there). With
 * `out` null the forward stops at the last kept tensor (MeSP's replay: its backward never needs y, and makes m again
 * from gate and up), and y is null.
 */
export function blockForward(
  f: Fwd, l: number, x: Tensor, out: { category: Category; name: string } | null, keep: ReadonlySet<SavedName>, xDone?: () => void,
): { y: Tensor | null; saved: Saved } {
  const { ctx, model, dims: d } = f;
  const L = model.layers[l];
  const saved: Saved = {};
  const half = f.half === true;
  /** Stored in f16 here: its f32 form is a temporary, the kept copy (if any) an f16 one. */
  const isHalf = (n: SavedName): boolean => half && HALF_NAMES.has(n);
  const alloc = (n: SavedName, shape: number[]): Tensor => {
    const kept = keep.has(n) && !isHalf(n);
    const t = ctx.alloc(kept ? 'activations' : 'workspace', `l${l}.${n}`, shape);
    if (kept) saved[n] = t;
    return t;
  };
  /**
   * With half: round n's f32 form to f16 (through an f16 copy, kept when n is kept). Always the same two kernels, so a
   * kept and an unkept tensor hold the same values (a fused round could be compiled to round ties differently).
   */
  const settle = (n: SavedName): void => {
    const t = tmp[n]!;
    if (!isHalf(n)) return;
    const t16 = packed(ctx, t, keep.has(n) ? 'activations' : 'workspace', `l${l}.${n}.f16`); // t's shape, f16
    fromF16(ctx, t, t16, t.numel);
    if (keep.has(n)) saved[n] = t16;
    else ctx.free(t16);
  };
  const done = (...names: SavedName[]): void => {
    for (const n of names) {
      const t = tmp[n];
      if (t && (isHalf(n) || !keep.has(n))) ctx.free(t);
      delete tmp[n];
    }
  };
  const tmp: Saved = {};
  const mk = (n: SavedName, shape: number[]): Tensor => (tmp[n] = alloc(n, shape));
  const qDim = d.NH * d.HS;
  const kvDim = d.NKV * d.HS;

  // ---- attention half
  const rstd1 = keep.has('rstd1') ? mk('rstd1', [d.N]) : null; // (N)
  const a1 = mk('a1', [d.N, d.C]); // (N, C)
  rmsnormForward(ctx, a1, rstd1, x, L.inputNorm, { N: d.N, C: d.C, eps: d.eps });
  settle('a1');
  const q = mk('qr', [d.N, qDim]); // (N, NH*HS)
  projForward(f, l, 'q', q, a1, L.qBias, keep, saved);
  ropeForward(ctx, q, q, f.rope, { B: d.B, T: d.T, H: d.NH, HS: d.HS });
  settle('qr');
  const k = mk('kr', [d.N, kvDim]); // (N, NKV*HS)
  projForward(f, l, 'k', k, a1, L.kBias, keep, saved);
  ropeForward(ctx, k, k, f.rope, { B: d.B, T: d.T, H: d.NKV, HS: d.HS });
  settle('kr');
  const v = mk('v', [d.N, kvDim]); // (N, NKV*HS)
  projForward(f, l, 'v', v, a1, L.vBias, keep, saved);
  settle('v');
  done('a1');
  const att = mk('att', [d.N, qDim]); // (N, NH*HS)
  const lse = keep.has('lse') ? mk('lse', [d.N, d.NH]) : null; // (N, NH)
  const probs = keep.has('probs') ? mk('probs', [d.B, d.NH, d.T, d.T]) : null; // (B, NH, T, T)
  if (f.attend) f.attend(l, att, q, k, v);
  else attentionForward(ctx, att, lse, probs, q, k, v, { B: d.B, T: d.T, NH: d.NH, NKV: d.NKV, HS: d.HS });
  settle('att');
  done('qr', 'kr', 'v');
  const o = ctx.alloc('workspace', `l${l}.o`, [d.N, d.C]); // (N, C)
  projForward(f, l, 'o', o, att, null, keep, saved);
  done('att');
  const x2 = mk('x2', [d.N, d.C]); // (N, C)  x2 = x + o
  add(ctx, x2, x, o, { N: d.N * d.C });
  ctx.free(o);
  xDone?.(); // x's last use in this layer
  settle('x2');

  // ---- MLP half
  const rstd2 = keep.has('rstd2') ? mk('rstd2', [d.N]) : null; // (N)
  const a2 = mk('a2', [d.N, d.C]); // (N, C)
  rmsnormForward(ctx, a2, rstd2, x2, L.postNorm, { N: d.N, C: d.C, eps: d.eps });
  settle('a2');
  if (!out) done('x2'); // no residual add to come
  let m: Tensor; // (N, I) f32: the down projection's input
  if (half) {
    // gate and up go to f16 as soon as each exists; m (f32) is made from the two f16 tensors
    const mlpIn = (n: 'gate' | 'up'): Tensor => {
      const t32 = ctx.alloc('workspace', `l${l}.${n}`, [d.N, d.I]); // (N, I)
      projForward(f, l, n, t32, a2, null, keep, saved);
      if (n === 'up') done('a2');
      const t16 = packed(ctx, t32, keep.has(n) ? 'activations' : 'workspace', `l${l}.${n}.f16`); // (N, I) f16
      ctx.free(t32);
      if (keep.has(n)) saved[n] = t16;
      return t16;
    };
    const gate16 = mlpIn('gate');
    const up16 = mlpIn('up');
    if (!out && !keep.has('m')) {
      if (!keep.has('gate')) ctx.free(gate16);
      if (!keep.has('up')) ctx.free(up16);
      return { y: null, saved }; // MeSP's replay stops here: its backward makes m again from gate and up
    }
    m = mk('m', [d.N, d.I]); // (N, I)  m = silu(gate) ⊙ up
    swigluForwardF16(ctx, m, gate16, up16, { N: d.N * d.I });
    if (!keep.has('gate')) ctx.free(gate16);
    if (!keep.has('up')) ctx.free(up16);
    if (!out) {
      done('m', 'x2');
      return { y: null, saved };
    }
  } else {
    const gate = mk('gate', [d.N, d.I]); // (N, I)
    projForward(f, l, 'gate', gate, a2, null, keep, saved);
    const up = mk('up', [d.N, d.I]); // (N, I)
    projForward(f, l, 'up', up, a2, null, keep, saved);
    done('a2');
    if (!out && !keep.has('m')) {
      done('gate', 'up', 'x2'); // MeSP's replay stops here: its backward makes m again from gate and up
      return { y: null, saved };
    }
    m = mk('m', [d.N, d.I]); // (N, I)  m = silu(gate) ⊙ up
    swigluForward(ctx, m, gate, up, { N: d.N * d.I });
    done('gate', 'up');
    if (!out) {
      done('m', 'x2');
      return { y: null, saved };
    }
  }
  const y = ctx.alloc(out.category, out.name, [d.N, d.C]); // (N, C)
  projForward(f, l, 'down', y, m, null, keep, saved);
  done('m');
  addInPlace(ctx, y, x2, { N: d.N * d.C }); // y = x2 + down
  done('x2');
  return { y, saved };
}

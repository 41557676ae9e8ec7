// The hand-derived backward of one Qwen2 decoder layer with LoRA (DESIGN.md §5), shared by `full`, `mebp` and `mesp`:
// the three differ only in where the saved tensors come from (kept since the forward, or recomputed) and when they
// are freed — never in arithmetic. For a projection with frozen W0 (out, in), A (R, in), B (out, R), s = alpha/R:
//   forward:  h = x·Aᵀ;  y = x·W0ᵀ + b + s·h·Bᵀ
//   backward: dB = s·gᵀ·h;  u = g·B;  dA = s·uᵀ·x;  dx = g·W0 + s·u·A   (u shared by dA and dx; W0, A, B pre-update)
// Each saved tensor is freed as soon as its last consumer has run.
import { ShapeError } from '../common/errors';
import type { Tensor } from '../gpu/tensor';
import { attentionBackward } from '../kernels/attention';
import { linearBackwardInput } from '../kernels/linear';
import { matmul } from '../kernels/matmul';
import { rmsnormBackward } from '../kernels/rmsnorm';
import { ropeBackward } from '../kernels/rope';
import { dropUnpacked, unpacked, unpackedInstead } from '../kernels/f16';
import { swigluBackward, swigluBackwardF16, swigluBackwardInPlace, swigluForward, swigluForwardF16 } from '../kernels/swiglu';
import type { Fwd, Saved, SavedName } from '../model/block';
import type { Projection } from '../model/weights';

/** Receives each projection's fresh gradients dA (R, in) and dB (out, R), category `grads`. It owns them. */
export interface GradSink {
  take(l: number, p: Projection, dA: Tensor, dB: Tensor): void;
}

export interface Bwd extends Fwd {
  grads: GradSink;
  /** MeSP writes SwiGLU's gradients over gate and up; an autograd engine allocates new tensors. */
  inPlaceSwiglu: boolean;
}

function need(saved: Saved, n: SavedName, l: number): Tensor {
  const t = saved[n];
  if (!t) throw new ShapeError(`backward of layer ${l}: the saved table has no "${n}"`);
  return t;
}

/** Free saved tensors by name and drop them from the table. */
function release(b: Bwd, saved: Saved, ...names: SavedName[]): void {
  for (const n of names) {
    const t = saved[n];
    if (t) {
      b.ctx.free(t);
      delete saved[n];
    }
  }
}

/**
 * Backward of projection p of layer l: dInp (+)= g·W0 + s·u·A, and LoRA gradients to the sink.
 * g (N, out), inp (N, in) the projection's input (f32), dInp (N, in). h = inp·Aᵀ comes from the table (h_<p>, then
 * freed) or is recomputed. The LoRA terms that read inp run first, then `inpDone` (the caller frees inp there when this
 * was its last use), and only then is dInp made (`dInp` may be a function that allocates it): inp and dInp need not be
 * live together. The order of the arithmetic on dInp is the same either way: g·W0, then s·u·A added.
 */
export function projBackward(
  b: Bwd, l: number, p: Projection, g: Tensor, inp: Tensor, dInp: Tensor | (() => Tensor), accumulate: boolean, saved: Saved,
  inpDone?: () => void,
): Tensor {
  const { ctx, model, lora } = b;
  const W = model.layers[l].proj[p];
  const N = b.dims.N;
  const outF = W.rows;
  const inF = W.cols;
  const ad = lora?.layers[l]?.[p];
  const R = lora?.rank ?? 0;
  const s = lora?.scale ?? 0;
  let lo: { u: Tensor; A: Tensor; dA: Tensor; dB: Tensor } | null = null;
  if (ad && lora) {
    const hName = `h_${p}` as SavedName;
    const A = unpacked(ctx, ad.A); // (R, in) f32
    let h = saved[hName]; // (N, R)
    if (!h) {
      h = ctx.alloc('workspace', `l${l}.${p}.lora_h`, [N, R]); // recomputed, not stored: h = inp·Aᵀ
      matmul(ctx, h, inp, A, { M: N, N: R, K: inF }, { transB: true, label: 'lora.h' });
    }
    const dB = ctx.alloc('grads', `l${l}.${p}.lora_B.grad`, [outF, R]); // (out, R)
    matmul(ctx, dB, g, h, { M: outF, N: R, K: N }, { transA: true, alpha: s, label: 'lora.dB' }); // dB = s·gᵀ·h
    ctx.free(h);
    delete saved[hName];
    const u = ctx.alloc('workspace', `l${l}.${p}.u`, [N, R]); // (N, R)
    const B = unpacked(ctx, ad.B); // (out, R) f32
    matmul(ctx, u, g, B, { M: N, N: R, K: outF }, { label: 'lora.u' }); // u = g·B
    dropUnpacked(ctx, B, ad.B);
    const dA = ctx.alloc('grads', `l${l}.${p}.lora_A.grad`, [R, inF]); // (R, in)
    matmul(ctx, dA, u, inp, { M: R, N: inF, K: N }, { transA: true, alpha: s, label: 'lora.dA' }); // dA = s·uᵀ·inp
    lo = { u, A, dA, dB };
  }
  inpDone?.();
  const dx = typeof dInp === 'function' ? dInp() : dInp;
  // frozen path: dInp (+)= g·W0
  linearBackwardInput(ctx, dx, g, W, { T: N, in: inF, out: outF }, { accumulate });
  if (lo && ad) {
    matmul(ctx, dx, lo.u, lo.A, { M: N, N: inF, K: R }, { accumulate: true, alpha: s, label: 'lora.dx' }); // dInp += s·u·A
    ctx.free(lo.u);
    dropUnpacked(ctx, lo.A, ad.A);
    b.grads.take(l, p, lo.dA, lo.dB);
  }
  return dx;
}

/** A saved tensor as f32: an f16 one is read into a workspace copy, which takes its place in the table. */
function take32(b: Bwd, saved: Saved, n: SavedName, l: number): Tensor {
  const f = unpackedInstead(b.ctx, need(saved, n, l));
  saved[n] = f;
  return f;
}

/** m = silu(gate)·up made again from the table's gate and up (MeSP keeps no m), as the forward made it. */
function remakeM(b: Bwd, l: number, saved: Saved): Tensor {
  const gate = need(saved, 'gate', l);
  const up = need(saved, 'up', l);
  const N = b.dims.N * b.dims.I;
  const m = b.ctx.alloc('workspace', `l${l}.m`, [b.dims.N, b.dims.I]); // (N, I)
  if (gate.dtype === 'f16') swigluForwardF16(b.ctx, m, gate, up, { N });
  else swigluForward(b.ctx, m, gate, up, { N });
  saved.m = m;
  return m;
}

/**
 * Backward of layer l. `dy` (N, C) holds dL/dy on entry and dL/dx on return (the residual gradient is accumulated in
 * place). `x` (N, C) is the layer's input, or a function that makes it (then called for the last step, and what it
 * made freed after); `saved` holds the table (see core/train/methods.ts) and is emptied.
 * Tensors of the table may be f16 (`--precision f16`, core/model/block.ts): each is read into an f32 copy where it is
 * first needed, and SwiGLU's gradients are then f16 too (swiglu_backward_f16.wgsl).
 */
export function blockBackward(b: Bwd, l: number, dy: Tensor, x: Tensor | (() => Tensor), saved: Saved): void {
  const { ctx, dims: d } = b;
  const L = b.model.layers[l];
  const qDim = d.NH * d.HS;
  const kvDim = d.NKV * d.HS;
  const NI = d.N * d.I;

  // ---- MLP half.  forward: y = x2 + m·Wdᵀ;  m = silu(gate) ⊙ up;  gate, up = a2·W{g,u}ᵀ;  a2 = rmsnorm(x2)
  const m = saved.m ? take32(b, saved, 'm', l) : remakeM(b, l, saved); // (N, I)
  const dm = projBackward(b, l, 'down', dy, m, () => ctx.alloc('workspace', `l${l}.dm`, [d.N, d.I]), false, saved, () => release(b, saved, 'm')); // (N, I)
  const gate = need(saved, 'gate', l);
  const up = need(saved, 'up', l);
  const half = gate.dtype === 'f16';
  let dgate: Tensor; // (N, I), f16 when gate is
  let dup: Tensor; // (N, I), f16 when up is
  if (b.inPlaceSwiglu) {
    if (half) swigluBackwardF16(ctx, gate, up, dm, null, null, { N: NI }); // gate ← dgate, up ← dup
    else swigluBackwardInPlace(ctx, gate, up, dm, { N: NI });
    dgate = gate;
    dup = up;
    delete saved.gate;
    delete saved.up;
  } else {
    dgate = ctx.alloc('workspace', `l${l}.dgate`, [d.N, d.I], gate.dtype);
    dup = ctx.alloc('workspace', `l${l}.dup`, [d.N, d.I], up.dtype);
    if (half) swigluBackwardF16(ctx, dgate, dup, dm, gate, up, { N: NI });
    else swigluBackward(ctx, dgate, dup, dm, gate, up, { N: NI });
    release(b, saved, 'gate', 'up');
  }
  ctx.free(dm);
  const dgate32 = unpackedInstead(ctx, dgate); // (N, I) f32
  const a2 = take32(b, saved, 'a2', l);
  const da2 = ctx.alloc('workspace', `l${l}.da2`, [d.N, d.C]); // (N, C)
  projBackward(b, l, 'gate', dgate32, a2, da2, false, saved);
  ctx.free(dgate32);
  const dup32 = unpackedInstead(ctx, dup); // (N, I) f32
  projBackward(b, l, 'up', dup32, a2, da2, true, saved, () => release(b, saved, 'a2'));
  ctx.free(dup32);
  // dx2 = dy + rmsnorm'(da2): accumulate into dy
  rmsnormBackward(ctx, dy, da2, take32(b, saved, 'x2', l), L.postNorm, need(saved, 'rstd2', l), { N: d.N, C: d.C, accumulate: true });
  ctx.free(da2);
  release(b, saved, 'x2', 'rstd2');

  // ---- attention half.  forward: x2 = x + att·Woᵀ;  att = attention(qr, kr, v);  qr, kr = rope(q, k)
  const att = take32(b, saved, 'att', l);
  const datt = ctx.alloc('workspace', `l${l}.datt`, [d.N, qDim]); // (N, NH*HS)
  projBackward(b, l, 'o', dy, att, datt, false, saved);
  const dq = ctx.alloc('workspace', `l${l}.dq`, [d.N, qDim]); // (N, NH*HS)
  const dk = ctx.alloc('workspace', `l${l}.dk`, [d.N, kvDim]); // (N, NKV*HS)
  const dv = ctx.alloc('workspace', `l${l}.dv`, [d.N, kvDim]); // (N, NKV*HS)
  const probs = saved.probs ?? null;
  const lse = probs ? null : need(saved, 'lse', l);
  attentionBackward(
    ctx, dq, dk, dv, datt, take32(b, saved, 'qr', l), take32(b, saved, 'kr', l), take32(b, saved, 'v', l), att,
    lse, probs, { B: d.B, T: d.T, NH: d.NH, NKV: d.NKV, HS: d.HS },
  );
  ctx.free(datt);
  release(b, saved, 'att', 'probs', 'lse', 'qr', 'kr', 'v');
  ropeBackward(ctx, dq, dq, b.rope, { B: d.B, T: d.T, H: d.NH, HS: d.HS });
  ropeBackward(ctx, dk, dk, b.rope, { B: d.B, T: d.T, H: d.NKV, HS: d.HS });
  const a1 = take32(b, saved, 'a1', l);
  const da1 = ctx.alloc('workspace', `l${l}.da1`, [d.N, d.C]); // (N, C)
  projBackward(b, l, 'q', dq, a1, da1, false, saved);
  ctx.free(dq);
  projBackward(b, l, 'k', dk, a1, da1, true, saved);
  ctx.free(dk);
  projBackward(b, l, 'v', dv, a1, da1, true, saved, () => release(b, saved, 'a1'));
  ctx.free(dv);
  // dx = dx2 + rmsnorm'(da1): accumulate into dy
  const x1 = typeof x === 'function' ? x() : x;
  rmsnormBackward(ctx, dy, da1, x1, L.inputNorm, need(saved, 'rstd1', l), { N: d.N, C: d.C, accumulate: true });
  if (x1 !== x) ctx.free(x1);
  ctx.free(da1);
  release(b, saved, 'rstd1');
  const left = Object.keys(saved);
  if (left.length) throw new ShapeError(`backward of layer ${l}: saved tensors never consumed: ${left.join(', ')}`);
}

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
import { swigluBackward, swigluBackwardInPlace } from '../kernels/swiglu';
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
 * g (N, out), inp (N, in) the projection's input, dInp (N, in). h = inp·Aᵀ comes from the table (h_<p>, then freed)
 * or is recomputed.
 */
export function projBackward(b: Bwd, l: number, p: Projection, g: Tensor, inp: Tensor, dInp: Tensor, accumulate: boolean, saved: Saved): void {
  const { ctx, model, lora } = b;
  const W = model.layers[l].proj[p];
  const N = b.dims.N;
  const outF = W.rows;
  const inF = W.cols;
  // frozen path: dInp (+)= g·W0
  linearBackwardInput(ctx, dInp, g, W, { T: N, in: inF, out: outF }, { accumulate });
  const ad = lora?.layers[l]?.[p];
  if (!ad || !lora) return;
  const R = lora.rank;
  const s = lora.scale;
  const hName = `h_${p}` as SavedName;
  let h = saved[hName]; // (N, R)
  if (!h) {
    h = ctx.alloc('workspace', `l${l}.${p}.lora_h`, [N, R]); // recomputed, not stored: h = inp·Aᵀ
    matmul(ctx, h, inp, ad.A, { M: N, N: R, K: inF }, { transB: true, label: 'lora.h' });
  }
  const dB = ctx.alloc('grads', `l${l}.${p}.lora_B.grad`, [outF, R]); // (out, R)
  matmul(ctx, dB, g, h, { M: outF, N: R, K: N }, { transA: true, alpha: s, label: 'lora.dB' }); // dB = s·gᵀ·h
  ctx.free(h);
  delete saved[hName];
  const u = ctx.alloc('workspace', `l${l}.${p}.u`, [N, R]); // (N, R)  u = g·B
  matmul(ctx, u, g, ad.B, { M: N, N: R, K: outF }, { label: 'lora.u' });
  const dA = ctx.alloc('grads', `l${l}.${p}.lora_A.grad`, [R, inF]); // (R, in)
  matmul(ctx, dA, u, inp, { M: R, N: inF, K: N }, { transA: true, alpha: s, label: 'lora.dA' }); // dA = s·uᵀ·inp
  matmul(ctx, dInp, u, ad.A, { M: N, N: inF, K: R }, { accumulate: true, alpha: s, label: 'lora.dx' }); // dInp += s·u·A
  ctx.free(u);
  b.grads.take(l, p, dA, dB);
}

/**
 * Backward of layer l. `dy` (N, C) holds dL/dy on entry and dL/dx on return (the residual gradient is accumulated in
 * place). `x` (N, C) is the layer's input; `saved` holds the table (see core/train/methods.ts) and is emptied.
 */
export function blockBackward(b: Bwd, l: number, dy: Tensor, x: Tensor, saved: Saved): void {
  const { ctx, dims: d } = b;
  const L = b.model.layers[l];
  const qDim = d.NH * d.HS;
  const kvDim = d.NKV * d.HS;

  // ---- MLP half.  forward: y = x2 + m·Wdᵀ;  m = silu(gate) ⊙ up;  gate, up = a2·W{g,u}ᵀ;  a2 = rmsnorm(x2)
  const m = need(saved, 'm', l);
  const dm = ctx.alloc('workspace', `l${l}.dm`, [d.N, d.I]); // (N, I)
  projBackward(b, l, 'down', dy, m, dm, false, saved);
  release(b, saved, 'm');
  const gate = need(saved, 'gate', l);
  const up = need(saved, 'up', l);
  let dgate: Tensor; // (N, I)
  let dup: Tensor; // (N, I)
  if (b.inPlaceSwiglu) {
    swigluBackwardInPlace(ctx, gate, up, dm, { N: d.N * d.I }); // gate ← dgate, up ← dup
    dgate = gate;
    dup = up;
  } else {
    dgate = ctx.alloc('workspace', `l${l}.dgate`, [d.N, d.I]);
    dup = ctx.alloc('workspace', `l${l}.dup`, [d.N, d.I]);
    swigluBackward(ctx, dgate, dup, dm, gate, up, { N: d.N * d.I });
    release(b, saved, 'gate', 'up');
  }
  ctx.free(dm);
  const a2 = need(saved, 'a2', l);
  const da2 = ctx.alloc('workspace', `l${l}.da2`, [d.N, d.C]); // (N, C)
  projBackward(b, l, 'gate', dgate, a2, da2, false, saved);
  ctx.free(dgate);
  projBackward(b, l, 'up', dup, a2, da2, true, saved);
  ctx.free(dup);
  if (b.inPlaceSwiglu) {
    delete saved.gate;
    delete saved.up;
  }
  release(b, saved, 'a2');
  // dx2 = dy + rmsnorm'(da2): accumulate into dy
  rmsnormBackward(ctx, dy, da2, need(saved, 'x2', l), L.postNorm, need(saved, 'rstd2', l), { N: d.N, C: d.C, accumulate: true });
  ctx.free(da2);
  release(b, saved, 'x2', 'rstd2');

  // ---- attention half.  forward: x2 = x + att·Woᵀ;  att = attention(qr, kr, v);  qr, kr = rope(q, k)
  const att = need(saved, 'att', l);
  const datt = ctx.alloc('workspace', `l${l}.datt`, [d.N, qDim]); // (N, NH*HS)
  projBackward(b, l, 'o', dy, att, datt, false, saved);
  const dq = ctx.alloc('workspace', `l${l}.dq`, [d.N, qDim]); // (N, NH*HS)
  const dk = ctx.alloc('workspace', `l${l}.dk`, [d.N, kvDim]); // (N, NKV*HS)
  const dv = ctx.alloc('workspace', `l${l}.dv`, [d.N, kvDim]); // (N, NKV*HS)
  const probs = saved.probs ?? null;
  const lse = probs ? null : need(saved, 'lse', l);
  attentionBackward(
    ctx, dq, dk, dv, datt, need(saved, 'qr', l), need(saved, 'kr', l), need(saved, 'v', l), att,
    lse, probs, { B: d.B, T: d.T, NH: d.NH, NKV: d.NKV, HS: d.HS },
  );
  ctx.free(datt);
  release(b, saved, 'att', 'probs', 'lse', 'qr', 'kr', 'v');
  ropeBackward(ctx, dq, dq, b.rope, { B: d.B, T: d.T, H: d.NH, HS: d.HS });
  ropeBackward(ctx, dk, dk, b.rope, { B: d.B, T: d.T, H: d.NKV, HS: d.HS });
  const a1 = need(saved, 'a1', l);
  const da1 = ctx.alloc('workspace', `l${l}.da1`, [d.N, d.C]); // (N, C)
  projBackward(b, l, 'q', dq, a1, da1, false, saved);
  ctx.free(dq);
  projBackward(b, l, 'k', dk, a1, da1, true, saved);
  ctx.free(dk);
  projBackward(b, l, 'v', dv, a1, da1, true, saved);
  ctx.free(dv);
  release(b, saved, 'a1');
  // dx = dx2 + rmsnorm'(da1): accumulate into dy
  rmsnormBackward(ctx, dy, da1, x, L.inputNorm, need(saved, 'rstd1', l), { N: d.N, C: d.C, accumulate: true });
  ctx.free(da1);
  release(b, saved, 'rstd1');
  const left = Object.keys(saved);
  if (left.length) throw new ShapeError(`backward of layer ${l}: saved tensors never consumed: ${left.join(', ')}`);
}

// The four training methods (DESIGN.md §5) as schedules over the same kernels. `full`, `mebp` and `mesp` run the same
// forward (core/model/block.ts) and the same backward (core/train/backward.ts); they differ only in what they keep and
// when they recompute. The tables below are the whole difference, written where a reader can see them.
import type { MethodName, Precision } from '../api/names';
import { TRAIN_DEFAULTS } from '../api/train';
import type { GpuContext } from '../gpu/context';
import type { Tensor } from '../gpu/tensor';
import { embeddingForward } from '../kernels/embedding';
import { fromF16, requireF16, toF16 } from '../kernels/f16';
import { rmsnormBackward, rmsnormForward } from '../kernels/rmsnorm';
import { ropeTable } from '../kernels/rope';
import type { LoraAdapter } from '../model/adapter';
import { blockDims, blockForward, type Fwd, type Saved, type SavedName } from '../model/block';
import { batchNll, uploadBatch, type TokenBatch } from '../model/forward';
import type { ModelWeights } from '../model/weights';
import { blockBackward, type Bwd, type GradSink } from './backward';
import { headAutogradBackward, headAutogradForward, headChunkedLossAndGrad } from './head';

export { METHODS } from '../api/names';
export type Method = MethodName;

/**
 * What an autograd engine saves for one decoder layer with our fused ops (RMSNorm keeps its input and rstd, a linear
 * keeps its input, LoRA keeps h = x·Aᵀ for dB, eager attention keeps q, k, v and the softmax P, SwiGLU keeps gate and
 * up, the down projection keeps m). The layer input x itself is kept beside the table. `full` keeps this for every
 * layer from the forward to the backward; `mebp` re-creates it one layer at a time in the backward.
 */
export const AUTOGRAD_TABLE: readonly SavedName[] = [
  'rstd1', 'a1', 'h_q', 'h_k', 'h_v', 'qr', 'kr', 'v', 'probs', 'att', 'h_o',
  'x2', 'rstd2', 'a2', 'h_gate', 'h_up', 'gate', 'up', 'm', 'h_down',
];

/**
 * What MeSP keeps while it replays one layer for its backward: no LoRA h (recomputed from the projection's input, as
 * r ≪ in), no attention probabilities (recomputed from q, k and the log-sum-exp), no m (made again from gate and up,
 * an elementwise product, where the down projection's backward needs it), and the replay stops at gate and up (the
 * backward never needs the layer's output). Each of these is freed by the backward as soon as it is consumed.
 */
export const MESP_TABLE: readonly SavedName[] = ['rstd1', 'a1', 'qr', 'kr', 'v', 'lse', 'att', 'x2', 'rstd2', 'a2', 'gate', 'up'];

/** MeSP with --store-h (the paper's ablation): also keeps every h = x·Aᵀ from the replay. */
export const MESP_STORE_H_TABLE: readonly SavedName[] = [...MESP_TABLE, 'h_q', 'h_k', 'h_v', 'h_o', 'h_gate', 'h_up', 'h_down'];

/**
 * The storage precision of a run's LoRA weights: f16 with `--precision f16` for the exact methods; MeZO perturbs
 * them in place by ±ε·z, which f16 cannot carry, so its weights stay f32 (its forward's tables are f16 all the same).
 */
export function adapterPrecision(method: Method, precision: Precision): Precision {
  return method === 'mezo' ? 'f32' : precision;
}

export interface ExactStepOptions {
  method: Exclude<Method, 'mezo'>;
  /** MeSP ablation: keep h instead of recomputing it. */
  storeH?: boolean;
  /** MeSP runs the head and loss in token chunks; `--no-chunked-head` turns that off. `full`/`mebp` never chunk. */
  chunkedHead?: boolean;
  /** Tokens per head chunk. */
  headChunk?: number;
  /** f16: the checkpoints and the layers' saved tables are stored in f16 (see exactStep and core/model/block.ts). */
  precision?: Precision;
}

export interface StepTensors {
  ctx: GpuContext;
  model: ModelWeights;
  lora: LoraAdapter;
  grads: GradSink;
}

/** Sum of NLL over the batch's unmasked targets and their count (the loss is sum/count). */
export interface StepLoss {
  nllSum: number;
  tokens: number;
}

export function countTargets(batch: TokenBatch): number {
  let n = 0;
  for (const t of batch.targets) if (t !== -100) n++;
  return n;
}

/**
 * One forward and backward of `full`, `mebp` or `mesp` on a batch: every LoRA gradient goes to `grads` as soon as it
 * exists (the sink decides whether to update at once or to keep it). Returns the batch loss parts.
 */
export async function exactStep(s: StepTensors, batch: TokenBatch, o: ExactStepOptions): Promise<StepLoss> {
  const { ctx, model } = s;
  const d = blockDims(model, batch.B, batch.T);
  const L = model.cfg.layers;
  const count = countTargets(batch);
  const scale = count > 0 ? 1 / count : 0;
  const chunked = o.method === 'mesp' && o.chunkedHead !== false;
  const keepForward = new Set<SavedName>(o.method === 'full' ? AUTOGRAD_TABLE : []);
  const replayTable = new Set<SavedName>(o.method === 'mebp' ? AUTOGRAD_TABLE : o.storeH ? MESP_STORE_H_TABLE : MESP_TABLE);

  const { ids, targets } = uploadBatch(ctx, batch);
  const rope = ropeTable(ctx, d.T, d.HS, model.cfg.ropeTheta); // (T, HS)
  const half = o.precision === 'f16';
  const f: Fwd = { ctx, model, lora: s.lora, rope, dims: d, half };
  const b: Bwd = { ...f, grads: s.grads, inPlaceSwiglu: o.method === 'mesp' };

  // ---- forward: the residual stream entering each layer is kept (the checkpoints; `full` keeps its tables too).
  // With f16 precision each checkpoint is stored in f16 (activations) and the forward goes on from the stored value
  // (its f32 copy, rounded), so every method computes from the same values and full = mebp = mesp stays exact; the
  // backward reads a checkpoint back into an f32 workspace copy, one layer at a time. The layers' own tables are f16
  // too (core/model/block.ts HALF_NAMES), and so may the LoRA weights be (uploadAdapter's precision).
  requireF16(ctx, o.precision);
  const xs: Tensor[] = []; // xs[l]: (N, C) input of layer l (f16 with half: then xs16, and xs[l] only while in use)
  const xs16: Tensor[] = []; // xs16[l]: (N, C) f16, the stored checkpoints
  const NC = d.N * d.C;
  /** Store layer l's input `x` (f32) as its f16 checkpoint, and round `x` to what is stored. */
  const keep16 = (l: number, x: Tensor): void => {
    xs16[l] = ctx.alloc('activations', `resid.${l}.f16`, [d.N, d.C], 'f16');
    toF16(ctx, xs16[l], x, NC);
    fromF16(ctx, x, xs16[l], NC);
  };
  /** Layer l's input as f32: the f16 checkpoint read back into a workspace copy. */
  const back32 = (l: number): Tensor => {
    const x = ctx.alloc('workspace', `resid.${l}`, [d.N, d.C]);
    fromF16(ctx, x, xs16[l], NC);
    return x;
  };
  const tables: Saved[] = [];
  xs.push(ctx.alloc(half ? 'workspace' : 'activations', 'resid.0', [d.N, d.C]));
  embeddingForward(ctx, xs[0], ids, model.embed, { N: d.N, C: d.C, V: model.cfg.vocab });
  if (half) keep16(0, xs[0]);
  for (let l = 0; l < L; l++) {
    const { y, saved } = blockForward(f, l, xs[l], { category: half ? 'workspace' : 'activations', name: `resid.${l + 1}` }, keepForward);
    xs.push(y!);
    tables.push(saved);
    if (half) {
      keep16(l + 1, y!);
      ctx.free(xs[l]); // its f16 checkpoint stays
    }
  }
  const rstdF = ctx.alloc('activations', 'final_norm.rstd', [d.N]); // (N)
  const xf = ctx.alloc('activations', 'final_norm', [d.N, d.C]); // (N, C)
  rmsnormForward(ctx, xf, rstdF, xs[L], model.finalNorm, { N: d.N, C: d.C, eps: d.eps });
  const nll = ctx.alloc('activations', 'nll', [d.N]); // (N)
  const dxf = ctx.alloc('workspace', 'final_norm.grad', [d.N, d.C]); // (N, C)
  const headDims = { T: d.N, C: d.C, V: model.cfg.vocab };
  if (chunked) {
    // forward and backward of head + loss, one chunk of tokens at a time: (chunk, V) logits at most
    headChunkedLossAndGrad(ctx, nll, dxf, xf, model.head, targets, { ...headDims, chunk: o.headChunk ?? TRAIN_DEFAULTS.headChunk, scale });
  } else {
    const saved = headAutogradForward(ctx, nll, xf, model.head, targets, headDims); // logits (N, V) kept
    headAutogradBackward(ctx, dxf, saved, model.head, targets, { ...headDims, scale });
  }
  ctx.free(xf);

  // ---- backward
  const dy = ctx.alloc('workspace', 'resid.grad', [d.N, d.C]); // (N, C) dL/d(residual stream)
  rmsnormBackward(ctx, dy, dxf, xs[L], model.finalNorm, rstdF, { N: d.N, C: d.C });
  ctx.free(dxf, rstdF, xs[L]);
  if (half) ctx.free(xs16[L]);
  for (let l = L - 1; l >= 0; l--) {
    let saved = tables[l];
    if (o.method !== 'full') {
      // mebp: re-run the layer keeping its autograd table (its output is discarded);
      // mesp: replay it up to gate and up, keeping only what the hand-written backward consumes.
      if (half) xs[l] = back32(l);
      const out = o.method === 'mebp' ? { category: 'workspace' as const, name: `l${l}.recomputed_y` } : null;
      // with half the f32 copy of the layer's input is freed as soon as the replay is done with it
      const x = xs[l];
      const r = blockForward(f, l, x, out, replayTable, half ? () => ctx.free(x) : undefined);
      ctx.free(r.y);
      saved = r.saved;
    }
    if (half) {
      // the f32 copy of the layer's input lives only for the replay and for the backward's last step
      blockBackward(b, l, dy, () => back32(l), saved);
      ctx.free(xs16[l]);
    } else {
      blockBackward(b, l, dy, xs[l], saved);
      ctx.free(xs[l]);
    }
  }
  ctx.free(dy, ids, targets, rope);
  const nllHost = await ctx.readF32(nll);
  ctx.free(nll);
  return batchNll(nllHost, batch);
}

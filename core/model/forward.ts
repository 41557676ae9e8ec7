// The Qwen2 forward pass and its loss (HF Qwen2ForCausalLM): embedding → L decoder layers → final RMSNorm → LM head
// with cross-entropy, fused and chunked over tokens so the (N, V) logits never exist whole. Loss = mean next-token
// cross-entropy over unmasked targets (−100 masked), as HF computes it; targets are already shifted (core/data).
import { requireF16 } from '../kernels/f16';
import type { Precision } from '../api/names';
import type { GpuContext } from '../gpu/context';
import type { Tensor } from '../gpu/tensor';
import { embeddingForward } from '../kernels/embedding';
import { headLossForward } from '../kernels/head';
import { rmsnormForward } from '../kernels/rmsnorm';
import { ropeTable } from '../kernels/rope';
import type { LoraAdapter } from './adapter';
import { blockDims, blockForward, type Fwd } from './block';
import type { ModelWeights } from './weights';

/** B rows of T tokens, right-padded; targets[t] = the label of token t+1 (−100 = no loss). */
export interface TokenBatch {
  B: number;
  T: number;
  inputIds: Int32Array; // (B*T)
  targets: Int32Array; // (B*T)
}

/** Tokens per head chunk: the logits workspace holds chunk × (a vocab range) at a time. */
export const HEAD_CHUNK = 32;

export function uploadBatch(ctx: GpuContext, batch: TokenBatch): { ids: Tensor; targets: Tensor } {
  const N = batch.B * batch.T;
  const ids = ctx.alloc('workspace', 'batch.input_ids', [N], 'i32'); // (N)
  const targets = ctx.alloc('workspace', 'batch.targets', [N], 'i32'); // (N)
  ctx.write(ids, batch.inputIds);
  ctx.write(targets, batch.targets);
  return { ids, targets };
}

/**
 * Embedding → the L decoder blocks → final RMSNorm (LoRA unmerged): the hidden states (N, C) the LM head reads, in a
 * new workspace tensor the caller frees. The residual stream is freed as it goes, and on error.
 */
export function forwardHidden(f: Fwd, ids: Tensor): Tensor {
  const { ctx, model, dims: d } = f;
  const none = new Set<never>();
  let x = ctx.alloc('workspace', 'resid.0', [d.N, d.C]); // (N, C)
  try {
    embeddingForward(ctx, x, ids, model.embed, { N: d.N, C: d.C, V: model.cfg.vocab });
    for (let l = 0; l < model.cfg.layers; l++) {
      const { y } = blockForward(f, l, x, { category: 'workspace', name: `resid.${l + 1}` }, none);
      ctx.free(x);
      x = y!;
    }
    const xf = ctx.alloc('workspace', 'final_norm', [d.N, d.C]); // (N, C)
    rmsnormForward(ctx, xf, null, x, model.finalNorm, { N: d.N, C: d.C, eps: d.eps });
    return xf;
  } finally {
    ctx.free(x);
  }
}

/**
 * Per-token negative log-likelihood (N), 0 where the target is masked. With precision f16 the layers' intermediates are
 * stored in f16 (core/model/block.ts). Frees everything it allocated, also when it
 * fails (GpuContext.scoped).
 */
export async function forwardNll(ctx: GpuContext, model: ModelWeights, lora: LoraAdapter | null, batch: TokenBatch, precision: Precision = 'f32'): Promise<Float32Array> {
  requireF16(ctx, precision);
  return ctx.scoped(async () => {
    const d = blockDims(model, batch.B, batch.T);
    const { ids, targets } = uploadBatch(ctx, batch);
    const rope = ropeTable(ctx, d.T, d.HS, model.cfg.ropeTheta); // (T, HS)
    const xf = forwardHidden({ ctx, model, lora, rope, dims: d, half: precision === 'f16' }, ids); // (N, C)
    const nll = ctx.alloc('workspace', 'nll', [d.N]); // (N)
    const lse = ctx.alloc('workspace', 'lse', [d.N]); // (N)
    headLossForward(ctx, nll, lse, xf, model.head, targets, { T: d.N, C: d.C, V: model.cfg.vocab, chunk: Math.min(HEAD_CHUNK, d.N) });
    ctx.free(lse);
    const out = await ctx.readF32(nll);
    ctx.free(nll, xf, ids, targets, rope);
    return out;
  });
}

/** Sum of the NLL over the batch's unmasked targets and their count (the batch loss is nllSum / tokens). */
export function batchNll(nll: Float32Array, batch: TokenBatch): { nllSum: number; tokens: number } {
  let nllSum = 0;
  let tokens = 0;
  for (let i = 0; i < batch.targets.length; i++) {
    if (batch.targets[i] !== -100) {
      nllSum += nll[i];
      tokens++;
    }
  }
  return { nllSum, tokens };
}

/** Mean NLL over unmasked targets of each row, and the number of such targets. */
export function rowLosses(nll: Float32Array, batch: TokenBatch): { loss: number; tokens: number }[] {
  const rows: { loss: number; tokens: number }[] = [];
  for (let b = 0; b < batch.B; b++) {
    let s = 0;
    let n = 0;
    for (let t = 0; t < batch.T; t++) {
      const i = b * batch.T + t;
      if (batch.targets[i] !== -100) {
        s += nll[i];
        n++;
      }
    }
    rows.push({ loss: n ? s / n : NaN, tokens: n });
  }
  return rows;
}

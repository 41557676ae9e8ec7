// Gradients of one batch without an update: what `mesp grads` writes and what the tests compare between methods.
// Exact methods hand their gradients to a collecting sink; MeZO's estimate ĝ = ((L₊ − L₋)/2ε)·z is materialized by
// regenerating z into zeroed buffers (the only place MeZO's z is ever written out, because the user asked for ĝ).
import type { GpuContext } from '../gpu/context';
import type { Tensor } from '../gpu/tensor';
import { mezoPerturb } from '../kernels/mezo';
import type { LoraAdapter } from '../model/adapter';
import type { TokenBatch } from '../model/forward';
import type { ModelWeights, Projection } from '../model/weights';
import type { GradSink } from './backward';
import type { HostAdapter } from './lora';
import { exactStep, type ExactStepOptions } from './methods';
import { mezoEstimate } from './mezo';
import { adapterParams } from './optimizer';

/** Keeps every gradient on the GPU until downloaded. */
export class CollectSink implements GradSink {
  readonly grads = new Map<string, { dA: Tensor; dB: Tensor }>();
  constructor(private readonly ctx: GpuContext) {}
  take(l: number, p: Projection, dA: Tensor, dB: Tensor): void {
    this.grads.set(`${l}.${p}`, { dA, dB });
  }
  /** Download (as a HostAdapter-shaped pair of maps: dA under A, dB under B) and free. */
  async download(lora: LoraAdapter): Promise<HostAdapter> {
    const A = new Map<string, Float32Array>();
    const B = new Map<string, Float32Array>();
    for (const [key, g] of this.grads) {
      A.set(key, await this.ctx.readF32(g.dA));
      B.set(key, await this.ctx.readF32(g.dB));
    }
    this.release();
    return { rank: lora.rank, alpha: lora.alpha, targets: [...lora.targets], A, B };
  }
  release(): void {
    for (const g of this.grads.values()) this.ctx.free(g.dA, g.dB);
    this.grads.clear();
  }
}

/** Exact LoRA gradients of the batch's mean loss, with `full`, `mebp` or `mesp`. The adapter is not changed. */
export async function exactGradients(
  ctx: GpuContext, model: ModelWeights, lora: LoraAdapter, batch: TokenBatch, o: ExactStepOptions,
): Promise<{ grads: HostAdapter; loss: number }> {
  const sink = new CollectSink(ctx);
  try {
    const r = await exactStep({ ctx, model, lora, grads: sink }, batch, o);
    return { grads: await sink.download(lora), loss: r.nllSum / Math.max(1, r.tokens) };
  } finally {
    sink.release();
  }
}

/** MeZO's estimate ĝ along z(stepSeed), as a gradient-shaped HostAdapter. */
export async function mezoGradient(
  ctx: GpuContext, model: ModelWeights, lora: LoraAdapter, batch: TokenBatch, stepSeed: number, eps: number,
): Promise<{ grads: HostAdapter; projected: number; loss: number }> {
  const e = await mezoEstimate(ctx, model, lora, batch, stepSeed, eps);
  const A = new Map<string, Float32Array>();
  const B = new Map<string, Float32Array>();
  const params = adapterParams(lora);
  for (const [stream, p] of params.entries()) {
    const buf = ctx.alloc('grads', `mezo.ghat.${p.key}`, p.tensor.shape); // zero
    mezoPerturb(ctx, buf, stepSeed, stream, e.projected); // ĝ = projected · z
    const v = await ctx.readF32(buf);
    ctx.free(buf);
    const [l, proj, which] = p.key.split('.');
    (which === 'A' ? A : B).set(`${l}.${proj}`, v);
  }
  return { grads: { rank: lora.rank, alpha: lora.alpha, targets: [...lora.targets], A, B }, projected: e.projected, loss: (e.lossPlus + e.lossMinus) / 2 };
}

/** Pairs of same-named tensors of two gradient sets (A with A, B with B). */
function pairs(a: HostAdapter, b: HostAdapter): [Float32Array, Float32Array][] {
  return [...[...a.A].map(([k, v]) => [v, b.A.get(k)!] as [Float32Array, Float32Array]), ...[...a.B].map(([k, v]) => [v, b.B.get(k)!] as [Float32Array, Float32Array])];
}

/** Cosine similarity of two gradient sets (over every parameter), in float64. */
export function gradientCosine(a: HostAdapter, b: HostAdapter): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (const [x, y] of pairs(a, b)) {
    for (let i = 0; i < x.length; i++) {
      dot += x[i] * y[i];
      na += x[i] * x[i];
      nb += y[i] * y[i];
    }
  }
  return dot / Math.sqrt(na * nb);
}

/** Number of trainable parameters d. */
export function gradientSize(a: HostAdapter): number {
  let n = 0;
  for (const v of a.A.values()) n += v.length;
  for (const v of a.B.values()) n += v.length;
  return n;
}

/** Largest relative difference max|a − b| / max|b| over the tensors. */
export function maxRelDiff(a: HostAdapter, b: HostAdapter): number {
  let worst = 0;
  for (const [x, y] of pairs(a, b)) {
    let d = 0;
    let s = 0;
    for (let i = 0; i < x.length; i++) {
      d = Math.max(d, Math.abs(x[i] - y[i]));
      s = Math.max(s, Math.abs(y[i]));
    }
    worst = Math.max(worst, s > 0 ? d / s : d);
  }
  return worst;
}

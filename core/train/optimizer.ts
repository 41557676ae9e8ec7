// Optimizers over the LoRA parameters (SGD, the paper's setting; AdamW with decoupled weight decay), the learning-rate
// schedule, optional gradient-norm clipping, and the gradient sinks the backward hands each fresh gradient to:
//  - ImmediateSink applies the update at once and frees the gradient (MeSP: only one projection's gradients live);
//  - DeferredSink keeps every gradient until the backward ends (what an autograd engine does), then clips and updates.
// Both give the same bits: each parameter's update depends only on its own gradient (and moments).
// An f16 parameter (`--precision f16`) has no f32 master copy: its update reads it into an f32 workspace copy, applies
// the f32 update there and stores the result rounded to a nearest f16. AdamW's moments stay f32 (optimizer category).
import { TRAIN_DEFAULTS, type TrainSpec } from '../api/train';
import type { GpuContext } from '../gpu/context';
import type { Tensor } from '../gpu/tensor';
import { dropUnpacked, toF16, unpacked } from '../kernels/f16';
import { adamwUpdate, sgdUpdate, sumSquares } from '../kernels/optim';
import { scaleInPlace } from '../kernels/elementwise';
import type { LoraAdapter } from '../model/adapter';
import type { Projection } from '../model/weights';
import type { GradSink } from './backward';

/** The TrainSpec's optimizer settings (clipNorm null = off), the run's length and AdamW's constants. */
export interface OptimizerConfig extends Pick<TrainSpec, 'lr' | 'schedule' | 'warmupSteps' | 'weightDecay' | 'clipNorm'> {
  kind: TrainSpec['optimizer'];
  totalSteps: number;
  beta1: number;
  beta2: number;
  eps: number;
}

/** The spec's defaults (core/api/train.ts) with PyTorch's AdamW constants. */
export const DEFAULT_OPTIMIZER: OptimizerConfig = {
  kind: TRAIN_DEFAULTS.optimizer, lr: TRAIN_DEFAULTS.lr, schedule: TRAIN_DEFAULTS.schedule, warmupSteps: TRAIN_DEFAULTS.warmupSteps,
  weightDecay: TRAIN_DEFAULTS.weightDecay, clipNorm: TRAIN_DEFAULTS.clipNorm, totalSteps: 1, beta1: 0.9, beta2: 0.999, eps: 1e-8,
};

/** The optimizer of a run from its spec and its total steps. */
export function optimizerOf(spec: Pick<TrainSpec, 'optimizer' | 'lr' | 'schedule' | 'warmupSteps' | 'weightDecay' | 'clipNorm'>, totalSteps: number): OptimizerConfig {
  return {
    ...DEFAULT_OPTIMIZER, kind: spec.optimizer, lr: spec.lr, schedule: spec.schedule, warmupSteps: spec.warmupSteps,
    weightDecay: spec.weightDecay, clipNorm: spec.clipNorm, totalSteps,
  };
}

/** Learning rate at 0-based step `step`: linear warmup, then constant or cosine decay to 0. */
export function lrAt(c: OptimizerConfig, step: number): number {
  if (c.warmupSteps > 0 && step < c.warmupSteps) return (c.lr * (step + 1)) / c.warmupSteps;
  if (c.schedule === 'constant') return c.lr;
  const span = Math.max(1, c.totalSteps - c.warmupSteps);
  const t = Math.min(1, (step - c.warmupSteps) / span);
  return 0.5 * c.lr * (1 + Math.cos(Math.PI * t));
}

export interface ParamRef {
  key: string; // "l.proj.A" / "l.proj.B"
  tensor: Tensor;
}

/** The adapter's parameters in a fixed order (layer, projection, A then B): also MeZO's stream numbering. */
export function adapterParams(a: LoraAdapter): ParamRef[] {
  const out: ParamRef[] = [];
  for (const [l, layer] of a.layers.entries()) {
    for (const p of a.targets) {
      out.push({ key: `${l}.${p}.A`, tensor: layer[p]!.A });
      out.push({ key: `${l}.${p}.B`, tensor: layer[p]!.B });
    }
  }
  return out;
}

export class Optimizer {
  /** 1-based count of the update being applied (AdamW bias correction). */
  stepNumber = 0;
  lr = 0;
  readonly moments = new Map<string, { m: Tensor; v: Tensor }>();

  constructor(
    readonly ctx: GpuContext,
    readonly adapter: LoraAdapter,
    readonly cfg: OptimizerConfig,
  ) {
    if (cfg.kind === 'adamw') {
      ctx.scopedSync(() => {
        for (const { key, tensor } of adapterParams(adapter)) {
          this.moments.set(key, {
            m: ctx.alloc('optimizer', `${key}.exp_avg`, tensor.shape),
            v: ctx.alloc('optimizer', `${key}.exp_avg_sq`, tensor.shape),
          });
        }
      });
    }
  }

  /** Start update number `step` (0-based): sets its learning rate. */
  begin(step: number): void {
    this.stepNumber = step + 1;
    this.lr = lrAt(this.cfg, step);
  }

  update(key: string, param: Tensor, grad: Tensor): void {
    const p32 = unpacked(this.ctx, param); // param's values in f32 (param itself when it is f32)
    this.update32(key, p32, grad);
    if (p32 !== param) toF16(this.ctx, param, p32, param.numel);
    dropUnpacked(this.ctx, p32, param);
  }

  private update32(key: string, param: Tensor, grad: Tensor): void {
    if (this.cfg.kind === 'sgd') {
      sgdUpdate(this.ctx, param, grad, this.lr);
      return;
    }
    const mv = this.moments.get(key)!;
    adamwUpdate(this.ctx, param, grad, mv.m, mv.v, {
      lr: this.lr, beta1: this.cfg.beta1, beta2: this.cfg.beta2, eps: this.cfg.eps,
      weightDecay: this.cfg.weightDecay, step: this.stepNumber,
    });
  }

  /** Whether an update may be applied as soon as a gradient exists (no global clipping). */
  get separable(): boolean {
    return this.cfg.clipNorm === null;
  }

  free(): void {
    for (const { m, v } of this.moments.values()) this.ctx.free(m, v);
    this.moments.clear();
  }
}

/** Applies each gradient at once and frees it: the dx of the layer already used the pre-update A and B. */
export class ImmediateSink implements GradSink {
  constructor(private readonly opt: Optimizer) {}
  take(l: number, p: Projection, dA: Tensor, dB: Tensor): void {
    const layer = this.opt.adapter.layers[l][p]!;
    this.opt.update(`${l}.${p}.A`, layer.A, dA);
    this.opt.update(`${l}.${p}.B`, layer.B, dB);
    this.opt.ctx.free(dA, dB);
  }
}

/** Keeps gradients until the backward is over (autograd's `.grad`). */
export class DeferredSink implements GradSink {
  readonly grads = new Map<string, Tensor>();
  constructor(private readonly ctx: GpuContext) {}
  take(l: number, p: Projection, dA: Tensor, dB: Tensor): void {
    this.grads.set(`${l}.${p}.A`, dA);
    this.grads.set(`${l}.${p}.B`, dB);
  }

  /** Global L2 norm of the kept gradients (one small readback). */
  async norm(): Promise<number> {
    const keys = [...this.grads.keys()];
    const out = this.ctx.alloc('workspace', 'grad_norm.parts', [Math.max(1, keys.length)]);
    keys.forEach((k, i) => sumSquares(this.ctx, out, i, this.grads.get(k)!));
    const parts = await this.ctx.readF32(out);
    this.ctx.free(out);
    let s = 0;
    for (let i = 0; i < keys.length; i++) s += parts[i];
    return Math.sqrt(s);
  }

  /** Clip (if configured), update every parameter, free the gradients. Returns the pre-clip norm, if computed. */
  async apply(opt: Optimizer): Promise<number | null> {
    let norm: number | null = null;
    if (opt.cfg.clipNorm !== null) {
      norm = await this.norm();
      const coef = opt.cfg.clipNorm / (norm + 1e-6);
      if (coef < 1) for (const g of this.grads.values()) scaleInPlace(this.ctx, g, { N: g.numel, alpha: coef });
    }
    for (const ref of adapterParams(opt.adapter)) {
      const g = this.grads.get(ref.key);
      if (g) opt.update(ref.key, ref.tensor, g);
    }
    this.release();
    return norm;
  }

  release(): void {
    for (const g of this.grads.values()) this.ctx.free(g);
    this.grads.clear();
  }
}

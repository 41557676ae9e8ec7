// CPU references of the optimizer kernels (core/kernels/optim.ts), in float64, torch.optim semantics.
import type { AdamWHyper } from '../kernels/optim';

export function sgdRef(theta: Float64Array, g: ArrayLike<number>, lr: number): void {
  for (let i = 0; i < theta.length; i++) theta[i] -= lr * g[i];
}

export function adamwRef(theta: Float64Array, g: ArrayLike<number>, m: Float64Array, v: Float64Array, h: AdamWHyper): void {
  const bc1 = 1 - Math.pow(h.beta1, h.step);
  const bc2 = 1 - Math.pow(h.beta2, h.step);
  for (let i = 0; i < theta.length; i++) {
    theta[i] *= 1 - h.lr * h.weightDecay;
    m[i] = h.beta1 * m[i] + (1 - h.beta1) * g[i];
    v[i] = h.beta2 * v[i] + (1 - h.beta2) * g[i] * g[i];
    theta[i] -= (h.lr / bc1) * (m[i] / (Math.sqrt(v[i]) / Math.sqrt(bc2) + h.eps));
  }
}

// LoRA adapter tensors on the GPU, in PEFT shapes (DESIGN.md §5, §7): for a projection with weight W0 (out, in),
// A (R, in) and B (out, R), and y = x·W0ᵀ + s·(x·Aᵀ)·Bᵀ with s = alpha / R. Ledger category `adapter`.
// Initialisation and file I/O live in core/train; the forward only reads these tensors.
import type { Tensor } from '../gpu/tensor';
import type { Projection } from './weights';

export interface LoraProj {
  A: Tensor; // (R, in)
  B: Tensor; // (out, R)
}

export interface LoraAdapter {
  rank: number;
  alpha: number;
  /** s = alpha / rank. */
  scale: number;
  targets: readonly Projection[];
  /** layers[l][p] is present when p is a target. */
  layers: Partial<Record<Projection, LoraProj>>[];
}

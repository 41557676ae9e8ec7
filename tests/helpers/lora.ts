// LoRA helpers for tests: a host adapter as the float64 reference takes it, and the reference's gradients as a
// HostAdapter for maxRelDiff.
import type { HostAdapter } from '../../core/train/lora';
import type { Ref64Lora } from './ref64';

export function toRef64(h: HostAdapter): Ref64Lora {
  return {
    rank: h.rank, alpha: h.alpha,
    A: new Map([...h.A].map(([k, v]) => [k, Float64Array.from(v)])),
    B: new Map([...h.B].map(([k, v]) => [k, Float64Array.from(v)])),
  };
}

export function refGrads(like: HostAdapter, g: { gradA: Map<string, Float64Array>; gradB: Map<string, Float64Array> }): HostAdapter {
  return {
    rank: like.rank, alpha: like.alpha, targets: like.targets,
    A: new Map([...g.gradA].map(([k, v]) => [k, Float32Array.from(v)])),
    B: new Map([...g.gradB].map(([k, v]) => [k, Float32Array.from(v)])),
  };
}

// LoRA helpers for tests: a host adapter as the float64 reference takes it, the reference's gradients as a
// HostAdapter for maxRelDiff, and an adapter written as a PEFT folder.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writePeft } from '../../core/export/peft';
import { PROJECTIONS } from '../../core/model/weights';
import type { HostAdapter } from '../../core/train/lora';
import type { Ref64Lora } from './ref64';
import type { TinyModel } from './tiny';

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

/** A non-zero adapter on every projection (A and B uniform in ±0.15 from a seeded LCG), in PEFT shapes. */
export function randomAdapter(m: Pick<TinyModel, 'cfg'>, rank: number, alpha: number, seed: number): HostAdapter {
  let s = seed >>> 0;
  const r = (): number => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return (s / 4294967296 - 0.5) * 0.3;
  };
  const c = m.cfg;
  const hs = c.hidden / c.heads;
  const shape: Record<string, [number, number]> = {
    q: [c.heads * hs, c.hidden], k: [c.kvHeads * hs, c.hidden], v: [c.kvHeads * hs, c.hidden], o: [c.hidden, c.heads * hs],
    gate: [c.intermediate, c.hidden], up: [c.intermediate, c.hidden], down: [c.hidden, c.intermediate],
  };
  const A = new Map<string, Float32Array>();
  const B = new Map<string, Float32Array>();
  for (let l = 0; l < c.layers; l++) {
    for (const p of PROJECTIONS) {
      const [out, inF] = shape[p];
      A.set(`${l}.${p}`, Float32Array.from({ length: rank * inF }, r));
      B.set(`${l}.${p}`, Float32Array.from({ length: out * rank }, r));
    }
  }
  return { rank, alpha, targets: [...PROJECTIONS], A, B };
}

/** Write `a` as a PEFT folder (adapter_config.json with `configPatch` over its fields, adapter_model.safetensors in f32). */
export function writePeftFolder(dir: string, a: HostAdapter, baseModel = 'qwen2-demo', configPatch: Record<string, unknown> = {}): string {
  mkdirSync(dir, { recursive: true });
  const p = writePeft(a, baseModel, 'f32');
  writeFileSync(join(dir, 'adapter_config.json'), JSON.stringify({ ...JSON.parse(p.config), ...configPatch }));
  writeFileSync(join(dir, 'adapter_model.safetensors'), p.weights);
  return dir;
}

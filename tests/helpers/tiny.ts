// Tiny Qwen2 models for tests: written as an HF folder (safetensors + config.json) in a temp dir by the demo
// generator, and read back as plain f32 arrays for the independent float64 reference (tests/helpers/ref64.ts).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseSafetensors, readTensorF32 } from '../../core/common/safetensors';
import { writeTinyQwen2, type TinyQwen2Options } from '../../core/model/demo';
import { writeFolder } from '../../core/node/demo';
import type { Ref64Config } from './ref64';

export interface TinyModel {
  dir: string;
  cfg: Ref64Config;
  /** HF name → values, as stored (bf16/f16 already rounded). */
  weights: Map<string, Float32Array>;
  cleanup(): void;
}

export const TINY: TinyQwen2Options = {
  hidden: 64, layers: 2, heads: 4, kvHeads: 2, intermediate: 128, vocab: 1024, tied: true, dtype: 'F32', seed: 7,
  weightScale: 0.15, ropeTheta: 10000, eps: 1e-6,
};

export function makeTinyModel(opts: Partial<TinyQwen2Options> = {}): TinyModel {
  const o = { ...TINY, ...opts };
  const dir = mkdtempSync(join(tmpdir(), 'mesp-tiny-'));
  writeFolder(dir, writeTinyQwen2(o));
  const weights = new Map<string, Float32Array>();
  const files = (o.shards ?? 1) > 1
    ? [...new Set(Object.values((JSON.parse(readFileSync(join(dir, 'model.safetensors.index.json'), 'utf8')) as { weight_map: Record<string, string> }).weight_map))]
    : ['model.safetensors'];
  for (const f of files) {
    const bytes = new Uint8Array(readFileSync(join(dir, f)));
    const st = parseSafetensors(bytes, f);
    for (const [name, info] of st.tensors) weights.set(name, readTensorF32(bytes, info, f));
  }
  return {
    dir,
    cfg: {
      hidden: o.hidden, intermediate: o.intermediate, layers: o.layers, heads: o.heads, kvHeads: o.kvHeads,
      vocab: o.vocab, eps: o.eps ?? 1e-6, ropeTheta: o.ropeTheta ?? 10000, tied: o.tied,
    },
    weights,
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** Deterministic token rows: ids in [0, vocab), targets = next token (HF shift), last position masked. */
export function tokenRows(vocab: number, lengths: number[], seed = 3): { ids: number[]; targets: number[] }[] {
  let s = seed >>> 0;
  const next = (): number => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s;
  };
  return lengths.map((T) => {
    const ids = Array.from({ length: T }, () => next() % vocab);
    const targets = ids.map((_, t) => (t + 1 < T ? ids[t + 1] : -100));
    return { ids, targets };
  });
}

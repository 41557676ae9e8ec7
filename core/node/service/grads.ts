// `mesp grads`: the LoRA gradients of one dataset row (mean loss over its targets) under PEFT key names, for any
// method; for MeZO the estimate ĝ and, over K samples, each sample's cosine with the exact gradient against the
// expected 0.8/√d (the mean |cos| of a random direction with a fixed vector in d dimensions is √(2/(πd)) ≈ 0.8/√d).
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { GradsRequest as GradsFlags } from '../../api/grads';
import { ConfigError } from '../../common/errors';
import { deriveSeed } from '../../common/rng';
import { writeSafetensors, type TensorToWrite } from '../../common/safetensors';
import { makeBatch } from '../../data/batching';
import { peftKey } from '../../export/peft';
import type { Projection } from '../../model/weights';
import { exactGradients, gradientCosine, gradientSize, maxRelDiff, mezoGradient } from '../../train/grads';
import { uploadAdapter, type HostAdapter } from '../../train/lora';
import type { Method } from '../../train/methods';
import { writeFileAtomic } from '../atomic';
import { loadDataset, loadTokenizer } from '../loaders';
import { loadAdapterFolder } from './adapters';
import { loadModel, loadProfile, openContext, openModelFolder, resolveInputs, type JobEnv } from './context';

/** `mesp grads`'s request (core/api/grads.ts) with its method or comparison as the methods to run (the first is the one written to `out`). */
export interface GradsRequest extends Omit<GradsFlags, 'method' | 'compare' | 'samples'> {
  methods: Method[];
  samples: number;
}

export interface GradsMethodResult {
  method: Method;
  loss: number;
  /** Largest relative difference from the first exact method (exact methods only). */
  maxRelDiff?: number;
  /** MeZO: each sample's cosine with the exact gradient, their mean and standard deviation. */
  cosines?: number[];
  meanCosine?: number;
  stdCosine?: number;
}

export interface GradsResult {
  row: number;
  line: number;
  tokens: number;
  /** Trainable parameters d. */
  d: number;
  /** 0.8/√d. */
  expected: number;
  methods: GradsMethodResult[];
  out: string | null;
}

export function gradsToSafetensors(g: HostAdapter): Uint8Array {
  const tensors: TensorToWrite[] = [];
  for (const [key, a] of g.A) {
    const [l, p] = key.split('.') as [string, Projection];
    tensors.push({ name: peftKey(Number(l), p, 'A'), dtype: 'F32', shape: [g.rank, a.length / g.rank], data: a });
    const b = g.B.get(key)!;
    tensors.push({ name: peftKey(Number(l), p, 'B'), dtype: 'F32', shape: [b.length / g.rank, g.rank], data: b });
  }
  return writeSafetensors(tensors, { format: 'pt', content: 'LoRA gradients (mean loss over the row targets)' });
}

function meanOf(ghats: HostAdapter[]): HostAdapter {
  const first = ghats[0];
  const avg = (pick: (h: HostAdapter) => Map<string, Float32Array>): Map<string, Float32Array> =>
    new Map([...pick(first)].map(([k, v]) => [k, v.map((_, i) => ghats.reduce((s, h) => s + pick(h).get(k)![i], 0) / ghats.length)]));
  return { ...first, A: avg((h) => h.A), B: avg((h) => h.B) };
}

export async function runGrads(input: GradsRequest, env: JobEnv = {}): Promise<GradsResult> {
  if (input.out && existsSync(input.out) && !input.force) {
    throw new ConfigError(`${resolve(input.out)} already exists; add --force to replace it, or choose another --out`, { field: 'out' });
  }
  const req = await resolveInputs(input, env);
  const profile = loadProfile(req.profile);
  const folder = openModelFolder(req.modelDir);
  const rows = loadDataset(req.dataPath, loadTokenizer(folder.dir), { seqLen: req.seqLen, vocabSize: folder.config.vocab });
  if (!Number.isInteger(req.row) || req.row < 0 || req.row >= rows.length) {
    throw new ConfigError(`--row ${req.row} is outside ${req.dataPath}, which has ${rows.length} rows (0-based)`, { field: 'row' });
  }
  const adapter = loadAdapterFolder(req.adapterDir, folder.config);
  const batch = makeBatch([rows[req.row]]);
  const ctx = await openContext(profile, env);
  try {
    const model = loadModel(ctx, folder, req.quant);
    const lora = uploadAdapter(ctx, folder.config, adapter);
    const d = gradientSize(adapter);
    const results: GradsMethodResult[] = [];
    let written: HostAdapter | null = null;
    let exact: HostAdapter | null = null;
    for (const method of req.methods) {
      if (method === 'mezo') {
        exact ??= (await exactGradients(ctx, model, lora, batch, { method: 'mesp' })).grads;
        const cosines: number[] = [];
        const ghats: HostAdapter[] = [];
        let loss = 0;
        for (let s = 0; s < Math.max(1, req.samples); s++) {
          const g = await mezoGradient(ctx, model, lora, batch, deriveSeed(req.seed, 'mezo-sample', s), req.mezoEps);
          cosines.push(gradientCosine(g.grads, exact));
          ghats.push(g.grads);
          loss = g.loss;
        }
        const mean = cosines.reduce((a, b) => a + b, 0) / cosines.length;
        const std = Math.sqrt(cosines.reduce((a, c) => a + (c - mean) ** 2, 0) / cosines.length);
        results.push({ method, loss, cosines, meanCosine: mean, stdCosine: std });
        written ??= meanOf(ghats);
      } else {
        const g = await exactGradients(ctx, model, lora, batch, { method });
        exact ??= g.grads;
        results.push({ method, loss: g.loss, maxRelDiff: maxRelDiff(g.grads, exact) });
        written ??= g.grads;
      }
    }
    if (req.out && written) writeFileAtomic(req.out, gradsToSafetensors(written));
    return {
      row: req.row, line: rows[req.row].line, tokens: batch.tokensWithLoss, d, expected: 0.8 / Math.sqrt(d),
      methods: results, out: req.out ?? null,
    };
  } finally {
    ctx.destroy();
  }
}

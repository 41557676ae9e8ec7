// Run folders for export tests, as `mesp train` writes them (core/node/runstore.ts, core/api/train.ts RunConfig):
// RUN/config.json and RUN/adapter/ (PEFT), here with a random NON-ZERO adapter (B is not zero, unlike PEFT's init,
// so a merge or a transpose that goes wrong shows in every output). The GPU round-trip test trains real runs instead.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { TrainRequestSchema, type RunConfig } from '../../core/api/train';
import { Rng, deriveSeed } from '../../core/common/rng';
import { publishableBaseName, writePeft } from '../../core/export/peft';
import type { Qwen2Config } from '../../core/model/config';
import { parameterCount } from '../../core/model/names';
import { projShape, type Projection } from '../../core/model/weights';
import { openModelFolder } from '../../core/node/modelfiles';
import { loraParamCount, type HostAdapter } from '../../core/train/lora';

/** A LoRA adapter with every A and B entry uniform in ±scale (default 0.05) from `seed`. */
export function randomAdapter(cfg: Qwen2Config, o: { rank: number; alpha: number; targets: Projection[]; seed?: number; scale?: number; layers?: number[] }): HostAdapter {
  const A = new Map<string, Float32Array>();
  const B = new Map<string, Float32Array>();
  const layers = o.layers ?? Array.from({ length: cfg.layers }, (_, l) => l);
  for (const l of layers) {
    for (const p of o.targets) {
      const [out, inF] = projShape(cfg, p);
      const fill = (n: number, which: string): Float32Array => {
        const rng = new Rng(deriveSeed(o.seed ?? 11, which, l, p));
        const v = new Float32Array(n);
        for (let i = 0; i < n; i++) v[i] = rng.uniform(-(o.scale ?? 0.05), o.scale ?? 0.05);
        return v;
      };
      A.set(`${l}.${p}`, fill(o.rank * inF, 'A')); // (R, in)
      B.set(`${l}.${p}`, fill(out * o.rank, 'B')); // (out, R)
    }
  }
  return { rank: o.rank, alpha: o.alpha, targets: [...o.targets], A, B };
}

export interface RunFolder {
  dir: string;
  adapter: HostAdapter | null;
  config: RunConfig;
  cleanup(): void;
}

/**
 * A run folder over the model in `modelDir`: config.json as runTrain writes it, and RUN/adapter/ with `adapter`
 * (pass null for a run that has not saved one yet).
 */
export function makeRunFolder(modelDir: string, adapter: HostAdapter | null, o: { profile?: string; quant?: 'none' | 'int8' | 'int4'; seqLen?: number } = {}): RunFolder {
  const dir = mkdtempSync(join(tmpdir(), 'mesp-run-'));
  const folder = openModelFolder(modelDir);
  const rank = adapter?.rank ?? 4;
  const alpha = adapter?.alpha ?? 8;
  const targets = adapter?.targets ?? (['q', 'v'] as Projection[]);
  const name = publishableBaseName(basename(folder.dir));
  const config: RunConfig = {
    version: 1,
    createdAt: new Date().toISOString(),
    request: TrainRequestSchema.parse({
      modelDir: folder.dir, dataPath: join(dir, 'data.jsonl'), outDir: dir, rank, alpha, targets, steps: 3,
      profile: o.profile ?? 'phone-8gb', quant: o.quant ?? 'none', seqLen: o.seqLen ?? 64, method: 'mesp',
    }),
    totalSteps: 3,
    lora: { rank, alpha, targets },
    model: {
      dir: folder.dir, name, fingerprint: folder.fingerprint(), layers: folder.config.layers, hidden: folder.config.hidden,
      vocab: folder.config.vocab, parameters: parameterCount(folder.config),
    },
    data: { trainRows: 4, valRows: 0, trainTokens: 64 },
    loraParameters: loraParamCount(folder.config, rank, targets),
    capBytes: 6e9,
    profileId: o.profile ?? 'phone-8gb',
  };
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config, null, 2) + '\n');
  mkdirSync(join(dir, 'checkpoints'));
  if (adapter) {
    const peft = writePeft(adapter, name, 'f32');
    mkdirSync(join(dir, 'adapter'));
    writeFileSync(join(dir, 'adapter', 'adapter_config.json'), peft.config);
    writeFileSync(join(dir, 'adapter', 'adapter_model.safetensors'), peft.weights);
  }
  return { dir, adapter, config, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Every file under `dir` (relative paths, sorted), hidden ones included: to prove nothing partial was left. */
export function listTree(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  const walk = (d: string, pre: string): void => {
    for (const n of readdirSync(d).sort()) {
      const p = join(d, n);
      if (statSync(p).isDirectory()) walk(p, `${pre}${n}/`);
      else out.push(`${pre}${n}`);
    }
  };
  walk(dir, '');
  return out;
}

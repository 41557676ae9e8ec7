// LoRA adapters on the GPU (PEFT semantics, DESIGN.md §5, §7): targets among q, k, v, o, gate, up, down; rank R,
// alpha, s = alpha / R, dropout 0. PEFT's default init: A is Kaiming-uniform with a = √5, i.e. U(−1/√in, 1/√in), drawn
// here from our own seeded generator (one stream per layer and projection); B is zero, so the adapter starts as the
// identity. Tensors are ledger category `adapter`, f32, or f16 with `--precision f16` (the exact methods then keep no
// f32 copy: each update is computed in f32 and rounded to f16, core/train/optimizer.ts).
import type { Precision } from '../api/names';
import { ConfigError, ShapeError } from '../common/errors';
import { f32ArrayToF16 } from '../common/half';
import { Rng, deriveSeed } from '../common/rng';
import type { GpuContext } from '../gpu/context';
import type { LoraAdapter, LoraProj } from '../model/adapter';
import { projShape, type Projection } from '../model/weights';
import type { Qwen2Config } from '../model/config';

export interface LoraSettings {
  rank: number;
  alpha: number;
  targets: readonly Projection[];
  seed: number;
}

/** Host-side adapter values: A (R, in) and B (out, R) per "layer.proj" key, e.g. "3.q". */
export interface HostAdapter {
  rank: number;
  alpha: number;
  targets: Projection[];
  A: Map<string, Float32Array>;
  B: Map<string, Float32Array>;
}

/** Number of trainable parameters. */
export function loraParamCount(cfg: Qwen2Config, rank: number, targets: readonly Projection[]): number {
  let n = 0;
  for (const p of targets) {
    const [out, inF] = projShape(cfg, p);
    n += rank * (inF + out);
  }
  return n * cfg.layers;
}

/** PEFT's initial values: A ~ U(−1/√in, 1/√in) from the seed, B = 0. */
export function initHostAdapter(cfg: Qwen2Config, s: LoraSettings): HostAdapter {
  if (!Number.isInteger(s.rank) || s.rank < 1) throw new ConfigError(`LoRA rank must be a positive integer, got ${s.rank}`, { field: 'rank' });
  const A = new Map<string, Float32Array>();
  const B = new Map<string, Float32Array>();
  for (let l = 0; l < cfg.layers; l++) {
    for (const p of s.targets) {
      const [out, inF] = projShape(cfg, p);
      const rng = new Rng(deriveSeed(s.seed, 'lora_A', l, p));
      const bound = 1 / Math.sqrt(inF);
      const a = new Float32Array(s.rank * inF); // (R, in)
      for (let i = 0; i < a.length; i++) a[i] = rng.uniform(-bound, bound);
      A.set(`${l}.${p}`, a);
      B.set(`${l}.${p}`, new Float32Array(out * s.rank)); // (out, R)
    }
  }
  return { rank: s.rank, alpha: s.alpha, targets: [...s.targets], A, B };
}

/** Check a host adapter against the model: every target of every layer present with PEFT shapes. */
export function checkAdapterFits(cfg: Qwen2Config, h: HostAdapter, source: string): void {
  for (let l = 0; l < cfg.layers; l++) {
    for (const p of h.targets) {
      const [out, inF] = projShape(cfg, p);
      const a = h.A.get(`${l}.${p}`);
      const b = h.B.get(`${l}.${p}`);
      if (!a || !b) throw new ShapeError(`${source}: adapter has no ${p}_proj for layer ${l} (the model has ${cfg.layers} layers)`);
      if (a.length !== h.rank * inF) {
        throw new ShapeError(`${source}: layer ${l} ${p}_proj lora_A has ${a.length} values, the model needs [${h.rank}, ${inF}] (rank × in_features)`);
      }
      if (b.length !== out * h.rank) {
        throw new ShapeError(`${source}: layer ${l} ${p}_proj lora_B has ${b.length} values, the model needs [${out}, ${h.rank}] (out_features × rank)`);
      }
    }
  }
  for (const key of h.A.keys()) {
    const l = Number(key.split('.')[0]);
    if (l >= cfg.layers) throw new ShapeError(`${source}: adapter has layer ${l}, the model has only ${cfg.layers} layers`);
  }
}

/**
 * Allocate the adapter on the GPU and upload host values (or only allocate, in a dry plan). All or nothing. With
 * precision f16 the tensors are f16, the host values rounded to a nearest f16.
 */
export function uploadAdapter(ctx: GpuContext, cfg: Qwen2Config, h: HostAdapter | { rank: number; alpha: number; targets: readonly Projection[] }, precision: Precision = 'f32'): LoraAdapter {
  return ctx.scopedSync(() => allocAdapter(ctx, cfg, h, precision));
}

function allocAdapter(ctx: GpuContext, cfg: Qwen2Config, h: HostAdapter | { rank: number; alpha: number; targets: readonly Projection[] }, precision: Precision): LoraAdapter {
  const layers: Partial<Record<Projection, LoraProj>>[] = [];
  const host = 'A' in h ? h : null;
  for (let l = 0; l < cfg.layers; l++) {
    const layer: Partial<Record<Projection, LoraProj>> = {};
    for (const p of h.targets) {
      const [out, inF] = projShape(cfg, p);
      const A = ctx.alloc('adapter', `l${l}.${p}.lora_A`, [h.rank, inF], precision); // (R, in)
      const B = ctx.alloc('adapter', `l${l}.${p}.lora_B`, [out, h.rank], precision); // (out, R)
      if (host) {
        const put = (t: typeof A, v: Float32Array): void => ctx.write(t, precision === 'f16' ? f32ArrayToF16(v) : v);
        put(A, host.A.get(`${l}.${p}`)!);
        put(B, host.B.get(`${l}.${p}`)!);
      }
      layer[p] = { A, B };
    }
    layers.push(layer);
  }
  return { rank: h.rank, alpha: h.alpha, scale: h.alpha / h.rank, targets: [...h.targets], layers };
}

/** Read the adapter back to the host. */
export async function downloadAdapter(ctx: GpuContext, a: LoraAdapter): Promise<HostAdapter> {
  const A = new Map<string, Float32Array>();
  const B = new Map<string, Float32Array>();
  for (const [l, layer] of a.layers.entries()) {
    for (const p of a.targets) {
      const t = layer[p]!;
      A.set(`${l}.${p}`, await ctx.readF32(t.A));
      B.set(`${l}.${p}`, await ctx.readF32(t.B));
    }
  }
  return { rank: a.rank, alpha: a.alpha, targets: [...a.targets], A, B };
}

export function freeAdapter(ctx: GpuContext, a: LoraAdapter): void {
  for (const layer of a.layers) for (const p of a.targets) ctx.free(layer[p]!.A, layer[p]!.B);
  a.layers = [];
}

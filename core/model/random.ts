// Deterministic random weights for a Qwen2 shape, written straight into the engine's formats: what `mesp bench`
// trains on (the real Qwen2.5 shapes, nothing to download). Quantized matrices get uniform random codes and a fixed
// f16 scale and bias per group (values uniform in [−0.03, 0.03]); f32 matrices are normal with std 0.02 (HF's
// initializer_range); RMSNorm gains are 1 and biases small.
import { f32ToF16 } from '../common/half';
import { Rng, deriveSeed } from '../common/rng';
import type { GpuContext } from '../gpu/context';
import type { Tensor } from '../gpu/tensor';
import type { WeightMatrix } from '../kernels/weight';
import type { Qwen2Config } from './config';
import { loadModelWeights, PROJECTIONS, type ModelWeights, type Quant } from './weights';

const CHUNK = 1 << 20; // values generated and written at a time

function fillU32(ctx: GpuContext, t: Tensor, seed: number): void {
  let s = seed >>> 0 || 1;
  const buf = new Uint32Array(Math.min(CHUNK, t.numel));
  for (let o = 0; o < t.numel; o += buf.length) {
    const n = Math.min(buf.length, t.numel - o);
    for (let i = 0; i < n; i++) {
      s ^= s << 13;
      s ^= s >>> 17;
      s ^= s << 5;
      buf[i] = s >>> 0;
    }
    ctx.write(t, buf.subarray(0, n), o * 4);
  }
}

function fillNormal(ctx: GpuContext, t: Tensor, seed: number, std: number, mean = 0): void {
  const rng = new Rng(seed);
  const buf = new Float32Array(Math.min(CHUNK, t.numel));
  for (let o = 0; o < t.numel; o += buf.length) {
    const n = Math.min(buf.length, t.numel - o);
    for (let i = 0; i < n; i++) buf[i] = mean + std * rng.normal();
    ctx.write(t, buf.subarray(0, n), o * 4);
  }
}

function fillMatrix(ctx: GpuContext, w: WeightMatrix, seed: number): void {
  w.tiles.forEach((tile, i) => {
    const s = deriveSeed(seed, w.name, i);
    if (w.format === 'f32') {
      fillNormal(ctx, tile.data, s, 0.02);
      return;
    }
    fillU32(ctx, tile.data, s);
    const qmax = w.format === 'int4' ? 15 : 255;
    const word = (f32ToF16(0.06 / qmax) | (f32ToF16(-0.03) << 16)) >>> 0; // scale | bias
    const sb = new Uint32Array(Math.min(CHUNK, tile.sb!.numel)).fill(word);
    for (let o = 0; o < tile.sb!.numel; o += sb.length) ctx.write(tile.sb!, sb.subarray(0, Math.min(sb.length, tile.sb!.numel - o)), o * 4);
  });
}

/** Allocate a model of this shape and fill it with deterministic random weights. */
export function randomModelWeights(ctx: GpuContext, cfg: Qwen2Config, quant: Quant, seed: number): ModelWeights {
  const m = loadModelWeights(ctx, cfg, quant, null);
  if (ctx.dry) return m;
  fillMatrix(ctx, m.embed, seed);
  if (m.head !== m.embed) fillMatrix(ctx, m.head, seed);
  fillNormal(ctx, m.finalNorm, deriveSeed(seed, 'norm'), 0, 1);
  m.layers.forEach((L, l) => {
    for (const p of PROJECTIONS) fillMatrix(ctx, L.proj[p], seed);
    fillNormal(ctx, L.inputNorm, deriveSeed(seed, l, 'in'), 0, 1);
    fillNormal(ctx, L.postNorm, deriveSeed(seed, l, 'post'), 0, 1);
    for (const [k, b] of [['q', L.qBias], ['k', L.kBias], ['v', L.vBias]] as const) fillNormal(ctx, b, deriveSeed(seed, l, k), 0.01);
  });
  return m;
}

// The Qwen2 forward to full logits on the GPU (HF Qwen2ForCausalLM.forward's `logits`): embedding → the decoder
// blocks → final RMSNorm exactly as core/model/forward.ts runs them (forwardHidden, LoRA unmerged) → the LM head
// (headLogits of core/kernels/head.ts, one tensor per vocabulary tile). Used to check exports (the merged ONNX model
// must give the same logits) and for inspection; training and eval use the chunked head, which never holds logits.
// The head runs `chunk` tokens at a time, so the workspace holds (chunk, V) logits, never (B·T, V).
import type { GpuContext } from '../gpu/context';
import { headLogits } from '../kernels/head';
import { ropeTable } from '../kernels/rope';
import type { LoraAdapter } from './adapter';
import { blockDims } from './block';
import { HEAD_CHUNK, forwardHidden, type TokenBatch } from './forward';
import type { ModelWeights } from './weights';

/** Logits (B·T, V), row b·T + t for token t of row b. Targets are ignored. Frees everything it allocated. */
export async function forwardLogits(
  ctx: GpuContext, model: ModelWeights, lora: LoraAdapter | null, batch: Pick<TokenBatch, 'B' | 'T' | 'inputIds'>, chunk = HEAD_CHUNK,
): Promise<Float32Array /* (B*T, V) */> {
  return ctx.scoped(async () => {
    const d = blockDims(model, batch.B, batch.T);
    const V = model.cfg.vocab;
    const ids = ctx.alloc('workspace', 'batch.input_ids', [d.N], 'i32'); // (N)
    ctx.write(ids, batch.inputIds);
    const rope = ropeTable(ctx, d.T, d.HS, model.cfg.ropeTheta); // (T, HS)
    const xf = forwardHidden({ ctx, model, lora, rope, dims: d }, ids); // (N, C)
    const out = new Float32Array(d.N * V); // (N, V)
    const rows = Math.max(1, Math.min(chunk, d.N));
    const xc = ctx.alloc('workspace', 'logits.x_chunk', [rows, d.C]); // (rows, C)
    const tiles = model.head.tiles.map((t, i) => ctx.alloc('workspace', `logits.tile${i}`, [rows, t.rows])); // (rows, tile rows)
    for (let t0 = 0; t0 < d.N; t0 += rows) {
      const n = Math.min(rows, d.N - t0);
      ctx.copy(xf, xc, n * d.C * 4, t0 * d.C * 4, 0);
      headLogits(ctx, tiles, xc, model.head, { T: n, C: d.C, V });
      for (const [i, tile] of model.head.tiles.entries()) {
        const part = new Float32Array(await ctx.read(tiles[i], 0, n * tile.rows * 4)); // (n, tile rows)
        for (let r = 0; r < n; r++) out.set(part.subarray(r * tile.rows, (r + 1) * tile.rows), (t0 + r) * V + tile.row0);
      }
    }
    ctx.free(xc, ...tiles, xf, ids, rope);
    return out;
  });
}

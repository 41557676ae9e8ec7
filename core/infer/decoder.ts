// Incremental decoding of a Qwen2 model with a KV cache (HF Qwen2ForCausalLM.forward with past_key_values and
// use_cache, one sequence): prefill runs the prompt through the very forward that eval and training use
// (core/model/forward.ts forwardHidden → core/model/block.ts, LoRA unmerged through projForward) with the causal
// attention kernel, writing each layer's keys (after RoPE) and values into the cache; every later token runs the same
// forward on one row at its position p (the RoPE row of position p, core/kernels/rope.ts) and attends over the
// cache rows 0..p (core/kernels/attention_decode.ts); with one token, every linear layer runs the matrix-vector
// kernel (core/kernels/gemv.ts). A prompt longer than one batched forward can hold under the device's limits
// (maxPrefillTokens) has its first chunk prefilled at once and the rest fed token by token. Each call returns the
// logits (V) of its last token: the final RMSNorm, then the LM head's vocabulary tiles through the matrix-vector
// kernel.
//
// Memory: the cache (category kvcache), the decoding scratch and the RoPE row are allocated by `open`, before the
// prefill, so a generation that cannot fit is refused before any work; everything else is workspace freed by the call
// that made it, also on error (each call is a GpuContext.scoped unit of work). A decode step allocates the same bytes at every position, which is what lets the plan
// (core/infer/plan.ts) run one step to predict them all.
import { requireF16 } from '../kernels/f16';
import type { Precision } from '../api/names';
import { ShapeError } from '../common/errors';
import type { DeviceLimits, GpuContext } from '../gpu/context';
import type { Tensor } from '../gpu/tensor';
import { attentionForward } from '../kernels/attention';
import { attentionDecode } from '../kernels/attention_decode';
import { gemvTile } from '../kernels/gemv';
import { ropeTable, ropeTableValues } from '../kernels/rope';
import type { LoraAdapter } from '../model/adapter';
import type { Qwen2Config } from '../model/config';
import { blockDims, type Fwd } from '../model/block';
import { forwardHidden } from '../model/forward';
import type { ModelWeights } from '../model/weights';
import { KvCache } from './kvcache';

/**
 * Prompt tokens one batched forward can take under the device's limits: its widest activation, (n, max(I, NH·HS, C))
 * f32 (the MLP's gate and up), must fit one binding and one buffer. Qwen2.5-3B under phone limits: 3048.
 */
export function maxPrefillTokens(cfg: Qwen2Config, limits: DeviceLimits): number {
  const widest = Math.max(cfg.intermediate, cfg.heads * cfg.headDim, cfg.hidden) * 4;
  return Math.max(1, Math.floor(Math.min(limits.maxStorageBufferBindingSize, limits.maxBufferSize) / widest));
}

export class KvDecoder {
  /** Positions in the cache so far (the prompt, then each token fed by step). */
  length = 0;
  private freed = false;

  private constructor(
    private readonly ctx: GpuContext,
    private readonly model: ModelWeights,
    private readonly lora: LoraAdapter | null,
    readonly cache: KvCache,
    private readonly scores: Tensor, // (NH, capacity) scratch of attentionDecode
    private readonly ropeRow: Tensor, // (1, HS): the RoPE row of the position being decoded
    private readonly tokenId: Tensor, // (1) i32
    private readonly ropeHost: Float32Array, // (capacity, HS): rows of ropeTableValues
    /** Prompt tokens per batched forward. */
    readonly prefillChunk: number,
    /** f16 storage of the layers' intermediates (core/model/block.ts; the KV cache stays f32). */
    private readonly half: boolean,
  ) {}

  /**
   * Allocate the cache for `capacity` positions and the decoding buffers (refused here when over the cap).
   * `prefillChunk` (default: maxPrefillTokens) caps the prompt tokens of the batched forward.
   */
  static open(ctx: GpuContext, model: ModelWeights, lora: LoraAdapter | null, capacity: number, opts: { prefillChunk?: number; precision?: Precision } = {}): KvDecoder {
    requireF16(ctx, opts.precision);
    const c = model.cfg;
    const prefillChunk = Math.min(opts.prefillChunk ?? Number.POSITIVE_INFINITY, maxPrefillTokens(c, ctx.limits));
    if (!(prefillChunk >= 1) || !Number.isInteger(prefillChunk)) throw new ShapeError(`KvDecoder: prefill chunk must be a positive integer, got ${prefillChunk}`);
    return ctx.scopedSync(() => { // all of it or, when refused, nothing
      const cache = KvCache.alloc(ctx, c, capacity);
      const scores = ctx.alloc('workspace', 'decode.scores', [c.heads, capacity]); // (NH, capacity)
      const ropeRow = ctx.alloc('workspace', 'decode.rope_row', [1, c.headDim]); // (1, HS)
      const tokenId = ctx.alloc('workspace', 'decode.input_id', [1], 'i32'); // (1)
      return new KvDecoder(ctx, model, lora, cache, scores, ropeRow, tokenId, ropeTableValues(capacity, c.headDim, c.ropeTheta), prefillChunk, opts.precision === 'f16');
    });
  }

  get capacity(): number {
    return this.cache.capacity;
  }

  /**
   * Run the prompt (positions 0..P−1) and fill the cache; the logits (V) of its last token. The first
   * `prefillChunk` tokens go through one batched forward; a longer prompt's remaining tokens are fed one at a time.
   */
  async prefill(ids: readonly number[]): Promise<Float32Array> {
    this.check();
    const P = ids.length;
    if (this.length !== 0) throw new ShapeError(`KvDecoder.prefill: the cache already holds ${this.length} positions`);
    if (P < 1 || P > this.capacity) throw new ShapeError(`KvDecoder.prefill: ${P} prompt tokens for a cache of ${this.capacity}`);
    const n = Math.min(P, this.prefillChunk);
    let logits = await this.batched(ids.slice(0, n), n === P);
    for (let i = n; i < P; i++) logits = await this.feed(ids[i], i === P - 1);
    return logits!;
  }

  /** Feed one token at position `length`; the logits (V) of the next. */
  async step(id: number): Promise<Float32Array> {
    this.check();
    if (this.length === 0) throw new ShapeError('KvDecoder.step: prefill the prompt first');
    return (await this.feed(id, true))!;
  }

  /** Positions 0..n−1 in one forward with the causal attention kernel; the last token's logits when asked. */
  private async batched(ids: readonly number[], wantLogits: boolean): Promise<Float32Array | null> {
    const { ctx, model } = this;
    const c = model.cfg;
    const P = ids.length;
    const dims = blockDims(model, 1, P);
    return ctx.scoped(async () => { // a forward refused mid-way leaves nothing behind
      const idT = ctx.alloc('workspace', 'prefill.input_ids', [P], 'i32'); // (P)
      ctx.write(idT, Int32Array.from(ids));
      const rope = ropeTable(ctx, P, c.headDim, c.ropeTheta); // (P, HS)
      const f: Fwd = {
        ctx, model, lora: this.lora, rope, dims, half: this.half,
        attend: (l, att, q, k, v) => {
          this.cache.write(ctx, l, k, v, 0, P);
          attentionForward(ctx, att, null, null, q, k, v, { B: 1, T: P, NH: c.heads, NKV: c.kvHeads, HS: c.headDim });
        },
      };
      const xf = forwardHidden(f, idT); // (P, C)
      const logits = wantLogits ? await this.logitsOf(xf, P - 1) : null;
      ctx.free(xf, rope, idT);
      this.length = P;
      return logits;
    });
  }

  /** One token at position `length` (its RoPE row, attention over the cache rows 0..length); its logits when asked. */
  private async feed(id: number, wantLogits: boolean): Promise<Float32Array | null> {
    const pos = this.length;
    if (pos >= this.capacity) throw new ShapeError(`KvDecoder: the cache of ${this.capacity} positions is full`);
    const { ctx, model } = this;
    const c = model.cfg;
    const HS = c.headDim;
    ctx.write(this.tokenId, Int32Array.of(id));
    ctx.write(this.ropeRow, this.ropeHost.subarray(pos * HS, (pos + 1) * HS));
    const f: Fwd = {
      ctx, model, lora: this.lora, rope: this.ropeRow, dims: blockDims(model, 1, 1), half: this.half,
      attend: (l, att, q, k, v) => {
        this.cache.write(ctx, l, k, v, pos, 1);
        attentionDecode(ctx, att, this.scores, q, this.cache.k[l], this.cache.v[l], { len: pos + 1, NH: c.heads, NKV: c.kvHeads, HS });
      },
    };
    return ctx.scoped(async () => { // a forward refused mid-way leaves nothing behind
      const xf = forwardHidden(f, this.tokenId); // (1, C)
      const logits = wantLogits ? await this.logitsOf(xf, 0) : null;
      ctx.free(xf);
      this.length = pos + 1;
      return logits;
    });
  }

  /** The LM head of row `row` of the final hidden states xf (n, C): logits (V), one tensor per vocabulary tile. */
  private async logitsOf(xf: Tensor, row: number): Promise<Float32Array> {
    const { ctx, model } = this;
    const W = model.head;
    return ctx.scoped(async () => {
      const tiles = W.tiles.map((t, i) => ctx.alloc('workspace', `decode.logits${i}`, [1, t.rows])); // (1, tile rows)
      W.tiles.forEach((t, i) => gemvTile(ctx, tiles[i], xf, W, t, { ycol: 0, xrow: row })); // logits = xf[row]·W_tileᵀ
      const out = new Float32Array(model.cfg.vocab); // (V)
      for (const [i, t] of W.tiles.entries()) out.set(new Float32Array(await ctx.read(tiles[i])).subarray(0, t.rows), t.row0);
      ctx.free(...tiles);
      return out;
    });
  }

  private check(): void {
    if (this.freed) throw new Error('KvDecoder: used after free');
  }

  /** Free the cache and the decoding buffers (the ledger is back where `open` found it). */
  free(): void {
    if (this.freed) return;
    this.freed = true;
    this.ctx.free(this.scores, this.ropeRow, this.tokenId);
    this.cache.free(this.ctx);
  }
}

// The KV cache of generation (HF transformers' DynamicCache, preallocated): for every layer the keys after RoPE and
// the values of each position so far, K and V (capacity, NKV*HS), ledger category `kvcache`. One tensor per layer and
// per K/V, so a binding is one layer's cache: under phone limits (128 MiB per binding) that is 2^17 positions of a
// Qwen2.5-3B layer (NKV·HS = 256). The whole cache for prompt + max_new_tokens is allocated up front, before the
// prefill, so a cache over the cap is refused (OutOfBudgetError) before any work is done.
import { ShapeError } from '../common/errors';
import type { GpuContext } from '../gpu/context';
import type { Tensor } from '../gpu/tensor';
import type { Qwen2Config } from '../model/config';

/** Bytes of a cache of `capacity` positions: K and V, every layer, f32. */
export function kvCacheBytes(cfg: Qwen2Config, capacity: number): number {
  return 2 * cfg.layers * capacity * cfg.kvHeads * cfg.headDim * 4;
}

export class KvCache {
  private constructor(
    readonly capacity: number,
    /** NKV*HS: values per position of one layer's K (or V). */
    readonly rowValues: number,
    readonly k: Tensor[], // per layer (capacity, NKV*HS)
    readonly v: Tensor[], // per layer (capacity, NKV*HS)
  ) {}

  /** Allocate the cache; refused by the ledger (OutOfBudgetError) before anything else of the generation runs. */
  static alloc(ctx: GpuContext, cfg: Qwen2Config, capacity: number): KvCache {
    if (!Number.isInteger(capacity) || capacity < 1) throw new ShapeError(`KV cache: capacity must be a positive integer, got ${capacity}`);
    const row = cfg.kvHeads * cfg.headDim;
    const layerBytes = capacity * row * 4;
    const limit = Math.min(ctx.limits.maxStorageBufferBindingSize, ctx.limits.maxBufferSize);
    if (layerBytes > limit) {
      throw new ShapeError(
        `KV cache: one layer's keys for ${capacity} positions take ${layerBytes} bytes, over the device's binding limit of ${limit}; ` +
          `at most ${Math.floor(limit / (row * 4))} positions (prompt + --max-new-tokens) fit`,
      );
    }
    return ctx.scopedSync(() => { // every layer's K and V, or (refused) none
      const k: Tensor[] = [];
      const v: Tensor[] = [];
      for (let l = 0; l < cfg.layers; l++) {
        k.push(ctx.alloc('kvcache', `l${l}.k`, [capacity, row])); // (capacity, NKV*HS)
        v.push(ctx.alloc('kvcache', `l${l}.v`, [capacity, row])); // (capacity, NKV*HS)
      }
      return new KvCache(capacity, row, k, v);
    });
  }

  get bytes(): number {
    return 2 * this.k.length * this.capacity * this.rowValues * 4;
  }

  /** Rows pos..pos+n−1 of layer l's cache = k and v (n, NKV*HS): the keys after RoPE and the values of those positions. */
  write(ctx: GpuContext, l: number, k: Tensor, v: Tensor, pos: number, n: number): void {
    if (!Number.isInteger(pos) || pos < 0 || !Number.isInteger(n) || n < 1 || pos + n > this.capacity) {
      throw new ShapeError(`KV cache: positions ${pos}..${pos + n - 1} are outside the cache of ${this.capacity}`);
    }
    const bytes = n * this.rowValues * 4;
    if (k.bytes < bytes || v.bytes < bytes) throw new ShapeError(`KV cache: ${k} and ${v} must hold (${n}, ${this.rowValues}) values`);
    ctx.copy(k, this.k[l], bytes, 0, pos * this.rowValues * 4);
    ctx.copy(v, this.v[l], bytes, 0, pos * this.rowValues * 4);
  }

  free(ctx: GpuContext): void {
    ctx.free(...this.k.filter((t) => !t.freed), ...this.v.filter((t) => !t.freed));
  }
}

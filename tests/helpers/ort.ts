// onnxruntime-web's wasm backend in Node, with no network: the .wasm and its .mjs loader are the ones shipped in
// node_modules/onnxruntime-web/dist (ort.env.wasm.wasmPaths points there), one thread (ort.env.wasm.numThreads = 1:
// no worker threads, deterministic, and the 2 shared CPU cores stay free), no proxy worker.
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import * as ort from 'onnxruntime-web';

let ready = false;

export function ortWasm(): typeof ort {
  if (!ready) {
    const require = createRequire(import.meta.url);
    ort.env.wasm.wasmPaths = `${dirname(require.resolve('onnxruntime-web/ort-wasm-simd-threaded.wasm'))}/`;
    ort.env.wasm.numThreads = 1;
    ort.env.wasm.proxy = false;
    ort.env.logLevel = 'error';
    ready = true;
  }
  return ort;
}

/** Run a model on input_ids (B, T) and return logits (B·T·V) and their dims. */
export async function ortLogits(
  model: Uint8Array, ids: number[][], externalData?: { path: string; data: Uint8Array }[],
): Promise<{ logits: Float32Array; dims: readonly number[] }> {
  const o = ortWasm();
  const session = await o.InferenceSession.create(model, { executionProviders: ['wasm'], graphOptimizationLevel: 'all', ...(externalData ? { externalData } : {}) });
  try {
    const B = ids.length;
    const T = ids[0].length;
    const flat = BigInt64Array.from(ids.flat().map((v) => BigInt(v)));
    const out = await session.run({ input_ids: new o.Tensor('int64', flat, [B, T]) });
    const t = out.logits;
    return { logits: t.data as Float32Array, dims: t.dims };
  } finally {
    await session.release();
  }
}

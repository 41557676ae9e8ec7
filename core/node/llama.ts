// llama.cpp in this process through node-llama-cpp (its prebuilt CPU build, `@node-llama-cpp/linux-x64` etc.; nothing
// is downloaded or compiled: `getLlama({ gpu: false, build: 'never' })`). Optional at run time: imported dynamically,
// so the CLI and the app work without it and say why a check was skipped.
// What we use it for: per-row next-token losses of token-id rows (no tokenizer round trip) with a GGUF model and an
// optional GGUF LoRA, from `sequence.controlledEvaluate`'s per-position probabilities, with an F32 KV cache and no
// flash attention so that an f32 model computes in f32; tokenizing text with the GGUF's own vocabulary; and decode
// speed (`mesp llama-bench`). llama.cpp applies a LoRA as scale × alpha / r (alpha from adapter.lora.alpha).
import type * as NodeLlamaCpp from 'node-llama-cpp';
import { statSync } from 'node:fs';
import { errorMessage } from '../common/errors';

type Module = typeof NodeLlamaCpp;
type Llama = NodeLlamaCpp.Llama;
type LlamaModel = NodeLlamaCpp.LlamaModel;
type Token = NodeLlamaCpp.Token;

/** The package name, in a variable so bundlers leave the import to run time. */
const PACKAGE = 'node-llama-cpp';

export interface LlamaRuntime {
  llama: Llama;
  mod: Module;
  /** "node-llama-cpp 3.21.1, llama.cpp v0.4.0 (prebuilt, CPU)". */
  version: string;
  dispose(): Promise<void>;
}

let cached: Promise<LlamaRuntime | { unavailable: string }> | null = null;

/**
 * llama.cpp on the CPU, or why it cannot be used (the package is not installed, or its binary does not load here).
 * One instance per process: later calls get the same one.
 */
export function openLlama(): Promise<LlamaRuntime | { unavailable: string }> {
  cached ??= (async () => {
    let mod: Module;
    try {
      mod = (await import(PACKAGE)) as Module;
    } catch (e) {
      return { unavailable: `node-llama-cpp is not installed (${errorMessage(e).split('\n')[0]}); install it (npm i -E node-llama-cpp@3.21.1) to check parity in llama.cpp` };
    }
    try {
      const llama = await mod.getLlama({ gpu: false, build: 'never', logLevel: mod.LlamaLogLevel.error, progressLogs: false });
      const pkgVersion = await packageVersion();
      const rel = llama.llamaCppRelease;
      return {
        llama, mod,
        version: `node-llama-cpp ${pkgVersion}, llama.cpp ${rel.release} (${llama.buildType}, CPU)`,
        dispose: () => llama.dispose(),
      };
    } catch (e) {
      return { unavailable: `node-llama-cpp could not load its prebuilt llama.cpp (${errorMessage(e).split('\n')[0]})` };
    }
  })();
  return cached;
}

/** Dispose of the process's llama.cpp instance (the next openLlama makes a new one). */
export async function closeLlama(): Promise<void> {
  const c = cached;
  cached = null;
  const rt = c ? await c : null;
  if (rt && !('unavailable' in rt)) await rt.dispose();
}

async function packageVersion(): Promise<string> {
  try {
    const { createRequire } = await import('node:module');
    const { readFileSync } = await import('node:fs');
    const { join, dirname } = await import('node:path');
    const require = createRequire(import.meta.url);
    let dir = dirname(require.resolve(PACKAGE));
    for (let i = 0; i < 4; i++) {
      try {
        const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
        if (pkg.name === PACKAGE && pkg.version) return pkg.version;
      } catch {
        // keep walking up
      }
      dir = dirname(dir);
    }
  } catch {
    // unknown
  }
  return 'unknown';
}

export interface TokenRow {
  /** Token ids (T). */
  ids: readonly number[];
  /** Next-token targets (T): targets[t] is the label of position t + 1, −100 where masked. */
  targets: readonly number[];
}

export interface LlamaModelFiles {
  /** The GGUF model (base or merged). */
  model: string;
  /** A GGUF LoRA adapter applied on top, at this scale (1 = the trained strength). */
  lora?: { path: string; scale?: number };
}

export interface RowLoss {
  /** Mean NLL over the row's unmasked targets (NaN when none). */
  loss: number;
  tokens: number;
}

/** Below this file size one thread is faster: each op's work is smaller than a barrier between threads. */
const ONE_THREAD_BELOW = 64e6; // 64 MB

/** Threads for evaluating a model file: one for tiny models, the machine's math cores otherwise. */
function threadsFor(rt: LlamaRuntime, modelPath: string): number {
  return statSync(modelPath).size < ONE_THREAD_BELOW ? 1 : Math.max(1, rt.llama.cpuMathCores);
}

/** The context options that make llama.cpp's arithmetic comparable with ours: F32 KV cache, no flash attention. */
function exactContext(files: LlamaModelFiles, contextSize: number, threads: number): NodeLlamaCpp.LlamaContextOptions {
  return {
    contextSize,
    batchSize: contextSize,
    sequences: 1,
    threads,
    flashAttention: false,
    experimentalKvCacheKeyType: 'F32',
    experimentalKvCacheValueType: 'F32',
    ...(files.lora ? { lora: { adapters: [{ filePath: files.lora.path, scale: files.lora.scale ?? 1 }] } } : {}),
  };
}

async function loadModel(rt: LlamaRuntime, path: string, vocabOnly = false): Promise<LlamaModel> {
  return rt.llama.loadModel({ modelPath: path, gpuLayers: 0, vocabOnly, useMmap: false });
}

/**
 * Per-row losses of `rows` in llama.cpp: each row evaluated from an empty KV cache, the probability of each target
 * read from the position before it. A target llama.cpp gives no probability to counts as −log(0) = ∞.
 */
export async function llamaRowLosses(rt: LlamaRuntime, files: LlamaModelFiles, rows: readonly TokenRow[]): Promise<RowLoss[]> {
  const longest = rows.reduce((m, r) => Math.max(m, r.ids.length), 1);
  const model = await loadModel(rt, files.model);
  try {
    const context = await model.createContext(exactContext(files, Math.max(16, longest), threadsFor(rt, files.model)));
    try {
      const seq = context.getSequence();
      const out: RowLoss[] = [];
      for (const row of rows) {
        await seq.clearHistory();
        const input: NodeLlamaCpp.ControlledEvaluateInputItem[] = row.ids.map((id, t) =>
          t + 1 < row.ids.length && row.targets[t] !== -100 ? [id as Token, { generateNext: { probabilities: true } }] : (id as Token),
        );
        const res = await seq.controlledEvaluate(input);
        let s = 0;
        let n = 0;
        row.targets.forEach((y, t) => {
          if (y === -100 || t + 1 >= row.ids.length) return;
          const p = res[t]?.next?.probabilities?.get(y as Token) ?? 0;
          s += -Math.log(p);
          n++;
        });
        out.push({ loss: n ? s / n : NaN, tokens: n });
      }
      return out;
    } finally {
      await context.dispose();
    }
  } finally {
    await model.dispose();
  }
}

/** Token ids of `text` under the GGUF's own vocabulary (special tokens such as <|im_start|> parsed as tokens). */
export async function llamaTokenize(rt: LlamaRuntime, modelPath: string, texts: readonly string[]): Promise<number[][]> {
  const model = await loadModel(rt, modelPath, true);
  try {
    return texts.map((t) => [...model.tokenize(t, true)]);
  } finally {
    await model.dispose();
  }
}

export interface DecodeSpeed {
  promptTokens: number;
  decodeTokens: number;
  /** Seconds to load the model (and the adapter). */
  loadSeconds: number;
  /** Prompt tokens per second (the prompt evaluated in one batch). */
  promptTokensPerSecond: number;
  /** Generated tokens per second, greedy, one token at a time, after the first. */
  decodeTokensPerSecond: number;
  threads: number;
  tokens: number[];
}

/** Greedy decoding speed: evaluate `prompt`, then generate `decodeTokens` tokens one at a time. */
export async function llamaDecodeSpeed(rt: LlamaRuntime, files: LlamaModelFiles, prompt: readonly number[], decodeTokens: number, threads?: number): Promise<DecodeSpeed> {
  const t0 = performance.now();
  const model = await loadModel(rt, files.model);
  try {
    const context = await model.createContext({
      contextSize: prompt.length + decodeTokens + 16,
      sequences: 1,
      threads: threads ?? Math.max(1, rt.llama.cpuMathCores),
      ...(files.lora ? { lora: { adapters: [{ filePath: files.lora.path, scale: files.lora.scale ?? 1 }] } } : {}),
    });
    try {
      const loadSeconds = (performance.now() - t0) / 1000;
      const seq = context.getSequence();
      const tokens: number[] = [];
      const tPrompt = performance.now();
      let tFirst = 0;
      for await (const tok of seq.evaluate(prompt.map((t) => t as Token), { temperature: 0, yieldEogToken: true })) {
        if (!tokens.length) tFirst = performance.now();
        tokens.push(tok);
        if (tokens.length >= decodeTokens) break;
      }
      const tEnd = performance.now();
      return {
        promptTokens: prompt.length,
        decodeTokens: tokens.length,
        loadSeconds,
        promptTokensPerSecond: prompt.length / ((tFirst - tPrompt) / 1000),
        decodeTokensPerSecond: (tokens.length - 1) / ((tEnd - tFirst) / 1000),
        threads: context.currentThreads,
        tokens,
      };
    } finally {
      await context.dispose();
    }
  } finally {
    await model.dispose();
  }
}

// "Try in llama.cpp" (export.llama, export.try; the Export view): a chat turn answered by an exported bundle's GGUF
// files running in llama.cpp (core/node/llama.ts llamaGenerate: node-llama-cpp's prebuilt CPU build, the exact f32
// context) and, beside it, by our engine with the run's adapter unmerged (the generation service,
// core/node/service/generate.ts), from the same prompt ids (the base model's chat template, our tokenizer) with the
// same sampling settings and seed. Each side's tokens stream as `export.try` events; the end event says whether the
// two token sequences are the same (greedy in f32: they are, tests/gpu/llama-generate.test.ts). The files come from the
// bundle's manifest.json (the export the view just wrote). It takes the one GPU job slot while it runs.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BundleManifestSchema, type BundleManifest } from '../../api/export';
import type { LlamaFileSet, LlamaStatus, ParsedParamsOf, TryEvent, TrySide } from '../../api/contract';
import { ConfigError, errorMessage, FormatError, MespError } from '../../common/errors';
import { BUNDLE_FILES } from '../../export/bundle';
import { llamaGenerate, openLlama, type LlamaModelFiles, type LlamaRuntime } from '../llama';
import { GenerateSession } from './generate';
import type { HostState } from './hoststate';

type TryParams = ParsedParamsOf<'export.try'>;

/** Whether llama.cpp runs here (node-llama-cpp is optional at run time). */
export async function llamaStatus(): Promise<LlamaStatus> {
  const rt = await openLlama();
  return 'unavailable' in rt ? { available: false, version: null, reason: rt.unavailable } : { available: true, version: rt.version, reason: null };
}

/** The bundle's manifest, or an error naming the folder and what to export first. */
export function readBundleManifest(outDir: string): BundleManifest {
  const file = join(outDir, BUNDLE_FILES.manifest);
  if (!existsSync(file)) throw new ConfigError(`${outDir} holds no export bundle (no ${BUNDLE_FILES.manifest}): export the run with a GGUF model first.`, { field: 'destDir' });
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new FormatError(file, `is not valid JSON (${errorMessage(e)}); export the run again`);
  }
  const r = BundleManifestSchema.safeParse(raw);
  if (!r.success) throw new FormatError(file, `is not a MeSP bundle manifest (${r.error.issues[0]?.path.join('.')}: ${r.error.issues[0]?.message}); export the run again`);
  return r.data;
}

/** The GGUF files llama.cpp loads for `set` (default: merged when the bundle has it, else base + LoRA). */
export function bundleLlamaFiles(outDir: string, manifest: BundleManifest, set?: LlamaFileSet): { set: LlamaFileSet; relPaths: string[]; files: LlamaModelFiles } {
  const has = (rel: string): boolean => manifest.files.some((f) => f.relPath === rel) && existsSync(join(outDir, rel));
  const g = BUNDLE_FILES.gguf;
  const choice = set ?? (has(g.merged) ? 'merged' : 'base+lora');
  if (choice === 'merged') {
    if (!has(g.merged)) throw new ConfigError(`the bundle in ${outDir} has no ${g.merged}: export the run with the gguf-merged format, or try base + LoRA.`, { field: 'files' });
    return { set: choice, relPaths: [g.merged], files: { model: join(outDir, g.merged) } };
  }
  if (!has(g.base) || !has(g.adapter)) {
    throw new ConfigError(`the bundle in ${outDir} lacks ${[g.base, g.adapter].filter((r) => !has(r)).join(' and ')}: export the run with the gguf-base and gguf formats, or gguf-merged.`, { field: 'files' });
  }
  return { set: choice, relPaths: [g.base, g.adapter], files: { model: join(outDir, g.base), lora: { path: join(outDir, g.adapter) } } };
}

let nextTry = 1;

/**
 * Start a try: check the bundle, llama.cpp and the GPU slot now (a bad request fails here), then answer in the
 * background, llama.cpp first, then our engine, sending `export.try` events.
 */
export async function startExportTry(host: HostState, p: TryParams, outDir: string): Promise<{ tryId: string; files: string[]; runtimeVersion: string }> {
  const runDir = host.runDir(p.runId);
  const manifest = readBundleManifest(outDir);
  const picked = bundleLlamaFiles(outDir, manifest, p.files);
  const rt = await openLlama();
  if ('unavailable' in rt) throw new MespError('NO_LLAMA', `llama.cpp is not available here: ${rt.unavailable}.`);
  const tryId = `try-${Date.now().toString(36)}-${nextTry++}`;
  host.claim('try', tryId);
  const emit = (event: TryEvent): void => host.emit({ type: 'export.try', tryId, event });
  // The end event comes after the GPU slot is free: a client may start the next try (or a run) when it sees it.
  void answer(host, rt, p, runDir, picked, emit).then((sameTokens) => {
    host.release(tryId);
    emit({ type: 'end', sameTokens });
  }, (e: unknown) => {
    host.release(tryId);
    emit({ type: 'error', side: 'engine', message: errorMessage(e) });
    emit({ type: 'end', sameTokens: null });
  });
  return { tryId, files: picked.relPaths, runtimeVersion: rt.version };
}

/** Both sides' replies, as events; resolves with whether their tokens are the same (null when a side failed). */
async function answer(host: HostState, rt: LlamaRuntime, p: TryParams, runDir: string, picked: ReturnType<typeof bundleLlamaFiles>, emit: (e: TryEvent) => void): Promise<boolean | null> {
  const tokens: Partial<Record<TrySide, number[]>> = {};
  const fail = (side: TrySide, e: unknown): void => emit({ type: 'error', side, message: errorMessage(e) });
  let session: GenerateSession | null = null;
  try {
    // Our engine loads first: its tokenizer and chat template make the prompt ids both sides get.
    session = await GenerateSession.open({ runDir, quant: p.quant }, host.env);
  } catch (e) {
    fail('llama.cpp', new Error('no prompt ids: our engine could not load the run\'s model to tokenize the chat'));
    fail('engine', e);
    return null;
  }
  try {
    let ids: number[];
    try {
      ids = await session.chatIds(p.messages);
    } catch (e) {
      fail('llama.cpp', e);
      fail('engine', e);
      return null;
    }
    const sampling = { temperature: p.temperature, seed: p.seed, maxNewTokens: p.maxNewTokens };
    try {
      emit({ type: 'start', side: 'llama.cpp', detail: `${picked.relPaths.join(' + ')} in ${rt.version}`, promptTokens: ids.length });
      const r = await llamaGenerate(rt, picked.files, ids, {
        ...sampling, eosIds: session.eosIds, onToken: (t) => emit({ type: 'token', side: 'llama.cpp', ...t }),
      });
      tokens['llama.cpp'] = r.tokens;
      emit({ type: 'done', side: 'llama.cpp', reply: { tokens: r.tokens, text: r.text, finishReason: r.finishReason, decodeTokensPerSecond: r.decodeTokensPerSecond } });
    } catch (e) {
      fail('llama.cpp', e);
    }
    try {
      const weights = session.quant === 'none' ? 'f32 weights' : `${session.quant} weights`;
      emit({ type: 'start', side: 'engine', detail: `our engine, ${weights} + the run's LoRA unmerged, profile ${session.profile.id}`, promptTokens: ids.length });
      const r = await session.generate(ids, sampling, { onToken: (t) => emit({ type: 'token', side: 'engine', ...t }) });
      tokens.engine = r.tokens;
      emit({ type: 'done', side: 'engine', reply: { tokens: r.tokens, text: r.text, finishReason: r.finishReason, decodeTokensPerSecond: r.decodeTokensPerSecond } });
    } catch (e) {
      fail('engine', e);
    }
    const a = tokens['llama.cpp'];
    const b = tokens.engine;
    return a && b ? a.length === b.length && a.every((t, i) => t === b[i]) : null;
  } finally {
    session.close();
  }
}

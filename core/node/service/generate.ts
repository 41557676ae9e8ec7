// `mesp generate`, `mesp chat` and the app's Chat view (handlers-generate.ts): generation from a model folder or a hub
// id (pulled on first use, core/node/hub/resolve.ts), with a PEFT adapter folder or a run's adapter applied unmerged,
// under a device profile's limits and cap. A session loads the model once and generates many times (a chat, or base
// and adapter answers side by side); runGenerate is one session, one generation. Tokens stream through a callback;
// every generation leaves the ledger at the session's baseline.
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import {
  GenerateModelSchema, GenerateRequestSchema, SamplingSchema,
  type GenerateModelInput, type GenerateRequest, type GenerateResult, type PromptInput, type SamplingInput,
} from '../../api/generate';
import { parseSettings } from '../../api/fields';
import type { Precision, QuantName } from '../../api/names';
import { ConfigError, FormatError } from '../../common/errors';
import type { TextTokenizer } from '../../data/tokenizer';
import type { GpuContext } from '../../gpu/context';
import { eosTokenIds } from '../../infer/eos';
import { generate, type GenerateHooks } from '../../infer/generate';
import { planGenerate } from '../../infer/plan';
import { chatPromptIds, promptIds } from '../../infer/prompts';
import type { ChatMessage } from '../../data/tokenizer';
import type { LoraAdapter } from '../../model/adapter';
import type { ModelWeights } from '../../model/weights';
import { capBytesOf, type DeviceProfile } from '../../profiles/schema';
import { uploadAdapter, type HostAdapter } from '../../train/lora';
import { loadTokenizer } from '../loaders';
import type { ModelFolder } from '../modelfiles';
import { RunStore } from '../runstore';
import { loadAdapterFolder } from './adapters';
import { loadModel, loadProfile, openContext, openModelFolder, resolveInputs, type JobEnv } from './context';

/** generation_config.json of a model folder (null when absent). */
export function readGenerationConfig(dir: string): unknown {
  const file = join(dir, 'generation_config.json');
  if (!existsSync(file)) return null;
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new FormatError(file, `is not valid JSON (${(e as Error).message}); fix it or remove it (it only names the EOS tokens here)`);
  }
}

/** What a run folder brings to a generation: its base model, quantization, profile and adapter folder. */
export function runDefaults(runDir: string): { modelDir: string; quant: QuantName; profile: string; adapterDir: string } {
  const store = new RunStore(runDir);
  const config = store.readConfig();
  if (!existsSync(join(store.adapterDir, 'adapter_config.json'))) {
    throw new ConfigError(`run ${store.dir} has no adapter yet (adapter/ is written with each checkpoint); wait for its first checkpoint or train it further`, { file: store.adapterDir, field: 'runDir' });
  }
  return { modelDir: config.model.dir, quant: config.request.quant, profile: config.profileId, adapterDir: store.adapterDir };
}

export class GenerateSession {
  private closed = false;

  private constructor(
    readonly folder: ModelFolder,
    readonly tokenizer: TextTokenizer | null,
    readonly eosIds: number[],
    readonly profile: DeviceProfile,
    readonly capBytes: number,
    readonly quant: QuantName,
    readonly precision: Precision,
    /** The LoRA adapter folder applied, or null. */
    readonly adapterDir: string | null,
    private readonly ctx: GpuContext,
    private readonly model: ModelWeights,
    private readonly host: HostAdapter | null,
    private readonly lora: LoraAdapter | null,
  ) {}

  /** Load the model (and the adapter) once. With a run, its quantization and profile are the defaults. */
  static async open(input: GenerateModelInput, env: JobEnv = {}): Promise<GenerateSession> {
    parseSettings(GenerateModelSchema, input); // a model or a run; an adapter or a run, not both
    const run = input.runDir ? runDefaults(input.runDir) : null;
    const req = await resolveInputs(parseSettings(GenerateModelSchema, {
      ...input, modelDir: input.modelDir ?? run?.modelDir, quant: input.quant ?? run?.quant, profile: input.profile ?? run?.profile,
    }), env); // a hub id is pulled on first use
    if (req.modelDir === undefined) throw new Error('GenerateSession.open: no model folder'); // checkModel: a model or a run
    const profile = loadProfile(req.profile);
    const folder = openModelFolder(req.modelDir);
    const tokenizer = loadTokenizer(folder.dir);
    const eosIds = eosTokenIds({ generationConfig: readGenerationConfig(folder.dir), modelConfig: folder.config.raw, tokenizerEosId: tokenizer?.eosId ?? null });
    const adapterDir = run?.adapterDir ?? (req.adapterDir ? resolve(req.adapterDir) : null);
    const host = adapterDir ? loadAdapterFolder(adapterDir, folder.config) : null;
    const capBytes = env.capBytes ?? req.capBytes ?? capBytesOf(profile);
    const ctx = await openContext(profile, { ...env, capBytes });
    try {
      const model = loadModel(ctx, folder, req.quant);
      const lora = host ? uploadAdapter(ctx, folder.config, host, req.precision) : null;
      await ctx.finish();
      return new GenerateSession(folder, tokenizer, eosIds, profile, capBytes, req.quant, req.precision, adapterDir, ctx, model, host, lora);
    } catch (e) {
      ctx.destroy();
      throw e;
    }
  }

  /** The prompt's token ids (text as tokenizer(text), or messages through the chat template). */
  promptIds(p: PromptInput): Promise<number[]> {
    return promptIds(this.tokenizer, p);
  }

  /** A conversation's token ids, with the assistant's generation prompt. Needs a tokenizer with a chat template. */
  async chatIds(messages: readonly ChatMessage[]): Promise<number[]> {
    if (!this.tokenizer) throw new ConfigError(`${this.folder.dir} has no tokenizer.json, so it cannot chat`, { field: 'model' });
    return chatPromptIds(this.tokenizer, messages);
  }

  get hasAdapter(): boolean {
    return this.lora !== null;
  }

  /** Bytes the ledger holds between generations (weights, adapter, the context's own buffers). */
  get liveBytes(): number {
    return this.ctx.ledger.liveBytes;
  }

  /** One generation. `useAdapter: false` answers with the base model of a session that has an adapter. */
  async generate(ids: readonly number[], samplingIn: SamplingInput, hooks: GenerateHooks = {}, opts: { useAdapter?: boolean } = {}): Promise<GenerateResult> {
    if (this.closed) throw new Error('GenerateSession: closed');
    const s = parseSettings(SamplingSchema, samplingIn);
    if (s.stop.length && !this.tokenizer) throw new ConfigError(`${this.folder.dir} has no tokenizer.json, so stop strings cannot be matched`, { field: 'stop' });
    const useLora = opts.useAdapter !== false && this.lora !== null;
    const { ctx } = this;
    const t0 = performance.now();
    const plan = await planGenerate({
      cfg: this.folder.config, quant: this.quant, limits: ctx.limits, promptTokens: ids.length, maxNewTokens: s.maxNewTokens,
      lora: useLora ? this.host : null, precision: this.precision,
    });
    ctx.ledger.resetPeak();
    const out = await generate(ctx, this.model, useLora ? this.lora : null, ids, {
      sampling: s, maxNewTokens: s.maxNewTokens, eosIds: this.eosIds, stop: s.stop, tokenizer: this.tokenizer, precision: this.precision,
    }, hooks);
    const snap = ctx.ledger.snapshot();
    return {
      tokens: out.tokens, text: out.text, promptTokens: out.promptTokens, finishReason: out.finishReason,
      prefillTokensPerSecond: out.promptTokens / Math.max(out.prefillSeconds, 1e-9),
      decodeTokensPerSecond: out.decodeSteps ? out.decodeSteps / Math.max(out.decodeSeconds, 1e-9) : 0,
      peakBytes: { total: snap.peakTotal, ...snap.peakByCategory },
      kvCacheBytes: out.kvCacheBytes, predictedPeakBytes: plan.peakBytes, capBytes: this.capBytes, profile: this.profile.id,
      device: ctx.adapter.description || ctx.adapter.device || ctx.adapter.vendor,
      adapterDir: useLora ? this.adapterDir : null,
      seconds: (performance.now() - t0) / 1000,
    };
  }

  /** Free the GPU (the session is unusable afterwards). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.ctx.destroy();
  }
}

/** One generation from a request: open a session, tokenize the prompt, generate, close. */
export async function runGenerate(input: GenerateRequest, env: JobEnv = {}, hooks: GenerateHooks = {}): Promise<GenerateResult> {
  const req = parseSettings(GenerateRequestSchema, input);
  const session = await GenerateSession.open(input, env);
  try {
    return await session.generate(await session.promptIds(req), req, hooks);
  } finally {
    session.close();
  }
}

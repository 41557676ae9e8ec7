// The service's generation requests for the Chat view (core/api/contract/generate.ts; host.ts dispatches to these):
// generate.start loads the model and the adapter once (a GenerateSession, core/node/service/generate.ts), answers the
// prompt with the base model and then with the adapter, same seed and settings, one after the other on the one GPU,
// and sends each token as a `generate` service event as it is chosen; generate.cancel ends the answer in flight after
// its current token and skips the rest. A generation takes the GPU job slot as a run does (a run, a comparison or
// another generation in progress is a BUSY refusal, and a run is refused while a generation runs). The KV cache is
// reserved in the session's ledger under the profile's cap (or the request's smaller cap) and refused before the
// prefill when it would not fit: that answer's end event carries the budget report. Between generations the loaded
// session is kept for the next prompt with the same model, adapter and cap, and closed (its GPU memory freed) as soon
// as any other job takes the slot, on another model, or on shutdown. With a run, the run's quantization is used.
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Answer, GenerateEvent } from '../../api/contract';
import { isHubRef } from '../hub/resolve';
import { GenerateSession, runDefaults } from './generate';
import { toServiceError, type Handlers, type HostState, type LiveGeneration } from './hoststate';

type GenerateMethods = 'generate.start' | 'generate.cancel';
const ADAPTER_WEIGHTS = 'adapter_model.safetensors';

export interface GenerateHandlers extends Pick<Handlers, GenerateMethods> {
  /** Close the kept session (shutdown). */
  close(): void;
}

export function generateHandlers(host: HostState): GenerateHandlers {
  let kept: { key: string; session: GenerateSession } | null = null;
  let seq = 0;
  const closeKept = (): void => {
    kept?.session.close();
    kept = null;
  };
  host.onClaim.add((kind) => {
    if (kind !== 'generate') closeKept(); // a run or a comparison gets the GPU memory the chat model held
  });

  async function sessionFor(input: Parameters<typeof GenerateSession.open>[0]): Promise<GenerateSession> {
    // The adapter's weights file's time: a folder written again since (a run trained further) is loaded again.
    const adapterFile = input.adapterDir ?? (input.runDir ? join(input.runDir, 'adapter') : null);
    const written = adapterFile && existsSync(join(adapterFile, ADAPTER_WEIGHTS)) ? statSync(join(adapterFile, ADAPTER_WEIGHTS)).mtimeMs : null;
    const key = JSON.stringify([input.modelDir, input.adapterDir, input.runDir, written, input.quant, input.profile, input.capBytes]);
    if (kept?.key === key) return kept.session;
    closeKept();
    const session = await GenerateSession.open(input, host.env);
    kept = { key, session };
    return session;
  }

  return {
    'generate.start': async (p) => {
      const id = `gen-${Date.now().toString(36)}-${(++seq).toString(36)}`;
      host.claim('generate', id);
      const emit = (event: GenerateEvent): void => host.emit({ type: 'generate', generationId: id, event });
      const live: LiveGeneration = { id, cancelled: false, done: Promise.resolve() };
      let session: GenerateSession;
      let ids: number[];
      try {
        const runDir = p.runDir ? host.paths.require(p.runDir, 'runDir') : undefined;
        session = await sessionFor({
          modelDir: p.modelDir === undefined ? undefined : isHubRef(p.modelDir, 'model') ? p.modelDir : host.paths.require(p.modelDir, 'modelDir'),
          adapterDir: p.adapterDir ? host.paths.require(p.adapterDir, 'adapterDir') : undefined,
          runDir,
          quant: runDir ? runDefaults(runDir).quant : p.quant,
          profile: host.profileRef(p.profile).ref,
          capBytes: p.capBytes,
        });
        ids = await session.promptIds(p);
      } catch (e) {
        host.release(id);
        throw e;
      }
      host.generations.set(id, live);
      const answers: Answer[] = session.hasAdapter ? p.answers : p.answers.filter((a) => a === 'base');
      const job = async (): Promise<void> => {
        for (const answer of answers) {
          if (live.cancelled) break;
          emit({ type: 'answer', answer });
          const result = await session.generate(ids, p, {
            onToken: (t) => emit({ type: 'token', answer, ...t }),
            shouldStop: () => live.cancelled,
          }, { useAdapter: answer === 'adapter' });
          emit({ type: 'result', answer, result });
        }
        emit({ type: 'end', status: live.cancelled ? 'cancelled' : 'done' });
      };
      // The answers run after this request is answered; their events follow it.
      live.done = new Promise<void>((r) => setImmediate(r)).then(job).catch((e: unknown) => {
        emit({ type: 'end', status: 'failed', error: toServiceError(e) });
      }).finally(() => {
        host.generations.delete(id);
        host.release(id);
      });
      return { generationId: id, answers, promptTokens: ids.length, adapterDir: session.adapterDir };
    },

    'generate.cancel': (p) => {
      const live = host.generations.get(p.generationId);
      if (!live) return { generationId: p.generationId, cancelled: false };
      live.cancelled = true;
      return { generationId: p.generationId, cancelled: true };
    },

    close: closeKept,
  };
}

// A contract client for renderer tests: answers from handler functions (validated against the contract, like the
// real client), records the calls, and lets a test push service events.
import { CONTRACT, type ContractMethod, type ParamsOf, type ResultOf, type ServiceEvent } from '../../core/api/contract';
import { ServiceCallError, type MespClient } from '../../core/api/client';
import { capBytesOf, listBuiltinProfiles } from '../../core/profiles';

type Handlers = { [M in ContractMethod]?: (p: ParamsOf<M>) => unknown };

export interface FakeClient extends MespClient {
  calls: { method: ContractMethod; params: unknown }[];
  emit(e: ServiceEvent): void;
}

export function fakeClient(handlers: Handlers): FakeClient {
  const listeners = new Set<(e: ServiceEvent) => void>();
  const calls: FakeClient['calls'] = [];
  return {
    transport: 'memory',
    calls,
    async call<M extends ContractMethod>(method: M, params: ParamsOf<M>): Promise<ResultOf<M>> {
      calls.push({ method, params });
      CONTRACT[method].params.parse(params);
      const h = handlers[method] as ((p: ParamsOf<M>) => unknown) | undefined;
      if (!h) throw new ServiceCallError(method, { code: 'NOT_IN_TEST', message: `${method} is not answered in this test` });
      return CONTRACT[method].result.parse(await h(params)) as ResultOf<M>;
    },
    on(l) {
      listeners.add(l);
      return () => listeners.delete(l);
    },
    emit(e) {
      for (const l of listeners) l(e);
    },
  };
}

export const PROFILES = listBuiltinProfiles().map((p) => ({ profile: p, source: 'builtin' as const, path: null, capBytes: capBytesOf(p) }));

export const MODEL = {
  dir: '/data/demo/qwen2-demo', name: 'qwen2-demo', architecture: 'Qwen2ForCausalLM', parameters: 723_072, layers: 4, hidden: 128,
  intermediate: 256, heads: 4, kvHeads: 2, vocab: 1024, tiedEmbeddings: true, dtypes: ['F32'], fileBytes: 2_892_288, shards: 1,
  weightsBytes: { none: 2_892_288, int8: 770_000, int4: 410_000 }, hasTokenizer: true, hasChatTemplate: true,
};

export const DATASET = {
  path: '/data/demo/demo-chat.jsonl', rows: 200, tokens: 7701, trainedTokens: 2087, truncatedRows: 0, maxRowTokens: 76, meanRowTokens: 38.5,
  formats: { messages: 200 }, seqLen: 128,
  preview: { index: 0, line: 1, format: 'messages', tokens: [{ id: 1, text: '<|im_start|>', trained: false }, { id: 40, text: 'Hi', trained: true }] },
};

export const live = (x: number) => ({ weights: x, adapter: 1000, grads: 500, optimizer: 0, activations: 2000, workspace: 300, kvcache: 0 });

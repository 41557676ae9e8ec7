// The Chat view's store and the sample replies, with a fresh Pinia each: the sampling controls are SamplingSchema's
// numeric fields with its defaults and its own error words; the request names the model, the adapter (a run brings its
// own base model) and the prompt through the chat template or as text; generate events (some before generate.start's
// answer) fold into each answer's text and token count, and the result replaces the streamed text; the app store
// routes `generate` events; a run's `sample` events fold into its trace (a resume drops later ones) and SampleReplies
// draws them by prompt and step.
import { mount } from '@vue/test-utils';
import { createPinia, setActivePinia } from 'pinia';
import { beforeEach, describe, expect, it } from 'vitest';
import { ServiceCallError } from '../../core/api/client';
import { fieldsOf } from '../../core/api/fields';
import { SamplingSchema, type GenerateResult } from '../../core/api/generate';
import { setClient } from '../../renderer/src/api';
import SampleReplies from '../../renderer/src/components/SampleReplies.vue';
import { applyEvent, emptyTrace } from '../../renderer/src/lib/trace';
import { useAppStore } from '../../renderer/src/stores/app';
import { SAMPLING_FIELDS, defaultSampling, samplingOf, tokensPerSecond, useChatStore } from '../../renderer/src/stores/chat';
import { fakeClient, live } from './fake';

beforeEach(() => {
  setActivePinia(createPinia());
});

const result = (text: string, tokens: number[]): GenerateResult => ({
  tokens, text, promptTokens: 5, finishReason: 'length', prefillTokensPerSecond: 100, decodeTokensPerSecond: 42, peakBytes: { ...live(3e6), total: 3.1e6 },
  kvCacheBytes: 20_000, predictedPeakBytes: 3.1e6, capBytes: 2.8e9, profile: 'phone-6gb', device: 'llvmpipe', adapterDir: null, seconds: 0.1,
});

describe('chat store', () => {
  it('the sampling controls are the schema\'s numeric fields with its defaults, checked in its words', () => {
    expect(SAMPLING_FIELDS.map((f) => f.key)).toEqual(fieldsOf(SamplingSchema).filter((f) => f.type.kind === 'number').map((f) => f.key));
    expect(SAMPLING_FIELDS.map((f) => f.key)).toEqual(['maxNewTokens', 'temperature', 'topK', 'topP', 'repetitionPenalty', 'seed']);
    const d = defaultSampling();
    expect(samplingOf(d).sampling).toEqual(SamplingSchema.parse({}));
    const bad = samplingOf({ ...d, topP: 1.5, maxNewTokens: '' });
    expect(bad.sampling).toBeNull();
    expect(bad.issues).toEqual([{ field: 'topP', message: expect.stringMatching(/^Top p must be ≤ 1/) }]);
    expect(samplingOf({ ...d, maxNewTokens: '' }).sampling?.maxNewTokens).toBe(128); // emptied: the default
  });

  it('builds the request: base only, a folder, or a run with its own base model; chat template or plain text', () => {
    const chat = useChatStore();
    expect(chat.request('/m', 'phone-6gb')).toBeNull(); // no prompt yet
    chat.prompt = '  hello  ';
    expect(chat.request('/m', 'phone-6gb')).toMatchObject({ modelDir: '/m', profile: 'phone-6gb', messages: [{ role: 'user', content: 'hello' }], answers: ['base'], temperature: 0.7 });
    chat.adapterKind = 'folder';
    chat.adapterDir = '/a';
    expect(chat.request('/m', 'phone-6gb')).toMatchObject({ modelDir: '/m', adapterDir: '/a', answers: ['base', 'adapter'] });
    chat.useRun({ dir: '/runs/r1' });
    const r = chat.request('/m', 'phone-6gb')!;
    expect(r).toMatchObject({ runDir: '/runs/r1', answers: ['base', 'adapter'] });
    expect('modelDir' in r).toBe(false); // the run's base model
    chat.chatTemplate = false;
    expect(chat.request('/m', 'phone-6gb')).toMatchObject({ prompt: 'hello' });
    expect('messages' in chat.request('/m', 'phone-6gb')!).toBe(false);
  });

  it('folds the streamed tokens of both answers, kept from before generate.start answers; the result is the final text', async () => {
    const client = fakeClient({ 'generate.start': () => ({ generationId: 'g1', answers: ['base', 'adapter'], promptTokens: 5, adapterDir: '/a' }) });
    setClient(client);
    const chat = useChatStore();
    const app = useAppStore();
    // Events may come before the answer; the app store routes them to the chat store.
    app.dispatch({ type: 'generate', generationId: 'g1', event: { type: 'answer', answer: 'base' } });
    app.dispatch({ type: 'generate', generationId: 'g1', event: { type: 'token', answer: 'base', index: 0, token: 7, text: 'He' } });
    await chat.start({ modelDir: '/m', adapterDir: '/a', profile: 'phone-6gb', prompt: 'x' });
    expect(chat.currentId).toBe('g1');
    expect(chat.running).toBe(true);
    app.dispatch({ type: 'generate', generationId: 'g1', event: { type: 'token', answer: 'base', index: 1, token: 8, text: 'll' } });
    app.dispatch({ type: 'generate', generationId: 'g1', event: { type: 'token', answer: 'base', index: 1, token: 8, text: 'o' } }); // held-back text, same index
    const base = chat.current!.byAnswer.base;
    expect(base).toMatchObject({ text: 'Hello', tokens: 2, status: 'streaming' });
    app.dispatch({ type: 'generate', generationId: 'g1', event: { type: 'result', answer: 'base', result: result('Hello', [7, 8]) } });
    expect(chat.current!.byAnswer.base).toMatchObject({ status: 'done', tokens: 2 });
    expect(tokensPerSecond(chat.current!.byAnswer.base)).toBe(42);
    expect(chat.current!.byAnswer.adapter.status).toBe('waiting');
    app.dispatch({ type: 'generate', generationId: 'g1', event: { type: 'answer', answer: 'adapter' } });
    app.dispatch({ type: 'generate', generationId: 'g1', event: { type: 'token', answer: 'adapter', index: 0, token: 9, text: 'Yo' } });
    expect(chat.current!.byAnswer.adapter).toMatchObject({ status: 'streaming', text: 'Yo', tokens: 1 });
    app.dispatch({ type: 'generate', generationId: 'g1', event: { type: 'end', status: 'failed', error: { code: 'OUT_OF_BUDGET', message: 'over the cap' } } });
    expect(chat.running).toBe(false);
    expect(chat.current).toMatchObject({ status: 'failed', error: { code: 'OUT_OF_BUDGET' } });
  });

  it('shows the service\'s refusal (a run holds the GPU) and is not left running', async () => {
    setClient(fakeClient({
      'generate.start': () => {
        throw new ServiceCallError('generate.start', { code: 'BUSY', message: 'cannot start a generation: run r1 is using the GPU. Wait for it to finish, or stop it first.' });
      },
    }));
    const chat = useChatStore();
    await chat.start({ modelDir: '/m', profile: 'phone-6gb', prompt: 'x', answers: ['base'] });
    expect(chat.error).toMatch(/run r1 is using the GPU/);
    expect(chat.currentId).toBeNull();
    expect(chat.running).toBe(false);
  });
});

describe('sample replies', () => {
  it('fold into the trace (a resume drops the later ones) and are drawn by prompt and step, the latest reply of a step', () => {
    const t = emptyTrace('r1');
    const sample = (step: number, prompt: string, reply: string) => applyEvent(t, { t: step, type: 'sample', step, prompt, reply });
    sample(0, 'p1', 'a0');
    sample(0, 'p2', 'b0');
    sample(2, 'p1', 'a2');
    sample(2, 'p2', 'b2');
    sample(4, 'p1', 'a4');
    applyEvent(t, { t: 5, type: 'start', runDir: '/r', totalSteps: 6, startStep: 2, method: 'mesp', adapter: 'x' });
    expect(t.samples.map((s) => s.step)).toEqual([0, 0, 2, 2]);
    sample(2, 'p1', 'a2 again');
    const w = mount(SampleReplies, { props: { samples: t.samples } });
    expect(w.get('[data-testid=sample-replies]').attributes('data-replies')).toBe('4');
    const rows = (i: number) => w.findAll(`[data-testid=sample-prompt-${i}] [data-testid=sample-reply]`).map((li) => [li.attributes('data-step'), li.find('.reply').text()]);
    expect(rows(0)).toEqual([['0', 'a0'], ['2', 'a2 again']]);
    expect(rows(1)).toEqual([['0', 'b0'], ['2', 'b2']]);
  });
});

// The "Try in llama.cpp" panel of the Export view (@vue/test-utils, happy-dom, a contract-checked fake client): it says
// plainly when llama.cpp is not available where the service runs (and offers no button); when it is, it sends the chat
// turn with the bundle, the sampling settings and the chosen files, follows only its own try's events (those that
// arrive before the reply too), streams both sides' text, and shows whether the tokens are the same, or where they
// first differ. Also the event reducer and firstDifference on their own.
import { flushPromises, mount } from '@vue/test-utils';
import { createPinia, setActivePinia } from 'pinia';
import { beforeEach, describe, expect, it } from 'vitest';
import type { ParamsOf, TryEvent } from '../../core/api/contract';
import { setClient } from '../../renderer/src/api';
import LlamaTryPanel from '../../renderer/src/components/LlamaTryPanel.vue';
import { applyTryEvent, firstDifference, type SideState } from '../../renderer/src/composables/useLlamaTry';
import { fakeClient, type FakeClient } from './fake';

beforeEach(() => setActivePinia(createPinia()));

const VERSION = 'node-llama-cpp 3.21.1, llama.cpp v0.4.0 (prebuilt, CPU)';

function client(available: boolean, onTry?: (c: FakeClient) => void): FakeClient {
  const c: FakeClient = fakeClient({
    'export.llama': () => (available ? { available, version: VERSION, reason: null } : { available, version: null, reason: 'node-llama-cpp is not installed (Cannot find package)' }),
    'export.try': () => {
      onTry?.(c);
      return { tryId: 't1', files: ['gguf/merged.gguf'], runtimeVersion: VERSION };
    },
  });
  setClient(c);
  return c;
}

const side = (): SideState => ({ detail: '', promptTokens: null, text: '', tokens: [], state: 'waiting', finishReason: null, decodeTokensPerSecond: null, error: null });
const reply = (tokens: number[], text: string) => ({ tokens, text, finishReason: 'length' as const, decodeTokensPerSecond: 10 });

describe('Try in llama.cpp panel', () => {
  it('says llama.cpp is not available, with the reason, and offers no button', async () => {
    client(false);
    const w = mount(LlamaTryPanel, { props: { runId: 'r1', sets: ['merged'] } });
    await flushPromises();
    expect(w.get('[data-testid=llama-unavailable]').text()).toMatch(/llama\.cpp is not available where the service runs.*node-llama-cpp is not installed/);
    expect(w.find('[data-testid=try-run]').exists()).toBe(false);
  });

  it('sends the turn and follows its own events to the verdict', async () => {
    const ev = (event: TryEvent, tryId = 't1') => ({ type: 'export.try' as const, tryId, event });
    // an event of this try that arrives before the reply, and one of another try
    const c = client(true, (cl) => {
      cl.emit(ev({ type: 'start', side: 'llama.cpp', detail: 'gguf/merged.gguf in llama.cpp', promptTokens: 9 }));
      cl.emit(ev({ type: 'start', side: 'engine', detail: 'other', promptTokens: 1 }, 't0'));
    });
    const w = mount(LlamaTryPanel, { props: { runId: 'r1', destDir: '/b', sets: ['merged', 'base+lora'] } });
    await flushPromises();
    await w.get('[data-testid=try-prompt]').setValue('Hi');
    await w.get('[data-testid=try-files]').setValue('base+lora');
    await w.get('[data-testid=try-seed]').setValue('5');
    await w.get('form').trigger('submit');
    await flushPromises();
    const sent = c.calls.find((x) => x.method === 'export.try')!.params as ParamsOf<'export.try'>;
    expect(sent).toEqual({ runId: 'r1', destDir: '/b', files: 'base+lora', messages: [{ role: 'user', content: 'Hi' }], temperature: 0, seed: 5, maxNewTokens: 32 });
    expect(w.get('[data-testid=try-side-llama]').attributes('data-state')).toBe('running');
    expect(w.get('[data-testid=try-side-engine]').attributes('data-state')).toBe('waiting');
    expect(w.get('[data-testid=try-run]').attributes('disabled')).toBeDefined();

    c.emit(ev({ type: 'token', side: 'llama.cpp', index: 0, token: 4, text: 'He' }));
    c.emit(ev({ type: 'token', side: 'llama.cpp', index: 1, token: 5, text: 'llo' }));
    await flushPromises();
    expect(w.get('[data-testid=try-side-llama] [data-testid=try-reply]').text()).toBe('Hello');
    c.emit(ev({ type: 'done', side: 'llama.cpp', reply: reply([4, 5], 'Hello') }));
    c.emit(ev({ type: 'start', side: 'engine', detail: 'our engine', promptTokens: 9 }));
    c.emit(ev({ type: 'done', side: 'engine', reply: reply([4, 6], 'Help') }));
    c.emit(ev({ type: 'end', sameTokens: false }));
    await flushPromises();
    expect(w.get('[data-testid=try-verdict]').text()).toMatch(/^Different tokens from token 1 \(expected unless the GGUF is f32/);
    expect(w.get('[data-testid=try-side-engine]').text()).toMatch(/Help.*2 tokens \(length\), 10\.0 tokens\/s from 9 prompt tokens/s);
    expect(w.get('[data-testid=try-run]').attributes('disabled')).toBeUndefined();
  });
});

describe('the try event reducer', () => {
  it('streams, finishes, fails; firstDifference finds the first differing token', () => {
    const sides = { 'llama.cpp': side(), engine: side() };
    expect(applyTryEvent(sides, { type: 'start', side: 'engine', detail: 'd', promptTokens: 3 })).toBeNull();
    applyTryEvent(sides, { type: 'token', side: 'engine', index: 0, token: 1, text: 'a' });
    expect(sides.engine).toMatchObject({ state: 'running', text: 'a', tokens: [1], promptTokens: 3 });
    applyTryEvent(sides, { type: 'error', side: 'llama.cpp', message: 'boom' });
    expect(sides['llama.cpp']).toMatchObject({ state: 'error', error: 'boom' });
    expect(applyTryEvent(sides, { type: 'end', sameTokens: null })).toEqual({ sameTokens: null });
    expect([firstDifference([1, 2], [1, 2]), firstDifference([1, 2], [1, 3]), firstDifference([1], [1, 2])]).toEqual([null, 1, 1]);
  });
});

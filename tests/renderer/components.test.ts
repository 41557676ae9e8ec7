// Component tests (@vue/test-utils, happy-dom): the views are thin, so these check the wiring — the budget message and
// its resume, Devices' choose / copy / validate, Train's start gating and the request it sends, Compare's default of
// all four methods. Charts are stubbed (their options are tested in logic.test.ts).
import { flushPromises, mount } from '@vue/test-utils';
import { createPinia, setActivePinia, type Pinia } from 'pinia';
import { beforeEach, describe, expect, it } from 'vitest';
import { setClient } from '../../renderer/src/api';
import BudgetError from '../../renderer/src/components/BudgetError.vue';
import { useDatasetsStore } from '../../renderer/src/stores/datasets';
import { useModelsStore } from '../../renderer/src/stores/models';
import { useProfilesStore } from '../../renderer/src/stores/profiles';
import CompareView from '../../renderer/src/views/CompareView.vue';
import DevicesView from '../../renderer/src/views/DevicesView.vue';
import TrainView from '../../renderer/src/views/TrainView.vue';
import { TrainSpecSchema } from '../../core/api/train';
import { DATASET, MODEL, PROFILES, fakeClient, type FakeClient } from './fake';

let pinia: Pinia;
beforeEach(() => {
  pinia = createPinia();
  setActivePinia(pinia);
  localStorage.clear();
});

const global = () => ({ plugins: [pinia], stubs: { EChart: { props: ['chart', 'name'], template: '<div class="chart-stub" :data-chart="name" :data-points="chart.probe.points" />' } } });

function client(extra: Parameters<typeof fakeClient>[0] = {}): FakeClient {
  const c = fakeClient({
    'profiles.list': () => ({ profiles: PROFILES }),
    'plan.fit': (p) => ({
      model: 'qwen2-demo', capBytes: 2.8e9, profileId: p.profile, seqLen: 76,
      methods: (p.methods ?? ['full', 'mebp', 'mesp', 'mezo']).map((m) => ({ method: m, peakBytes: 4e6, atPeak: { weights: 3e6, adapter: 1e5, grads: 1e5, optimizer: 1e5, activations: 6e5, workspace: 1e5 }, peakByCategory: { weights: 3e6, adapter: 1e5, grads: 1e5, optimizer: 1e5, activations: 6e5, workspace: 1e5 }, workingSetBytes: 1e6, fits: true, error: null })),
    }),
    'runs.start': () => ({ runId: 'r1', runDir: '/runs/r1' }),
    'runs.list': () => ({ runs: [] }),
    'compare.list': () => ({ comparisons: [] }),
    ...extra,
  });
  setClient(c);
  return c;
}

async function chooseEverything(): Promise<void> {
  await useProfilesStore().load();
  useModelsStore().$patch({ dir: MODEL.dir, info: MODEL });
  useDatasetsStore().$patch({ path: DATASET.path, info: DATASET });
}

describe('BudgetError', () => {
  const report = {
    tensor: 'activations:layer1.self_attn.probs', requestBytes: 65536, overshootBytes: 15536, capBytes: 3e6, step: 0,
    live: [{ label: 'Weights', bytes: 2.9e6 }], message: 'Out of memory budget', lastCheckpoint: null, lastCheckpointStep: null, suggestedCapMB: 4,
  };

  it('names the tensor and the overshoot, and offers a resume with a larger cap', async () => {
    const w = mount(BudgetError, { props: { report } });
    expect(w.text()).toContain('activations:layer1.self_attn.probs');
    expect(w.get('[data-testid=budget-overshoot]').text()).toBe('15.5 KB');
    expect(w.text()).toContain('No checkpoint was written yet');
    await w.get('[data-testid=budget-new-cap]').setValue(6);
    await w.get('[data-testid=budget-resume]').trigger('click');
    expect(w.emitted('resume')).toEqual([[6]]);
  });
});

describe('DevicesView', () => {
  it('lists the classes and phones, selects one, and validates a copy as you type', async () => {
    client();
    const w = mount(DevicesView, { global: global() });
    await useProfilesStore().load();
    await flushPromises();
    expect(w.find('[data-testid=profile-phone-6gb]').exists()).toBe(true);
    expect(w.find('[data-testid=profile-pixel-8]').exists()).toBe(true);
    await w.get('[data-testid=profile-phone-6gb]').trigger('click');
    expect(useProfilesStore().selectedId).toBe('phone-6gb');
    expect(w.get('[data-testid=profile-budget]').text()).toBe('2.80 GB');
    await w.get('[data-testid=profile-copy]').trigger('click');
    expect((w.get('[data-testid=edit-id]').element as HTMLInputElement).value).toBe('phone-6gb-custom');
    await w.get('[data-testid=edit-budget]').setValue(9000);
    expect(w.get('[data-testid=edit-budget-error]').text()).toMatch(/below the RAM/);
    expect(w.get('[data-testid=profile-save]').attributes('disabled')).toBeDefined();
  });
});

describe('TrainView', () => {
  it('waits for a model and data, then starts the chosen method with the settings', async () => {
    const c = client();
    const w = mount(TrainView, { global: global() });
    expect(w.get('[data-testid=train-start]').attributes('disabled')).toBeDefined();
    expect(w.text()).toMatch(/Choose a (device profile|model folder)/);
    await chooseEverything();
    await flushPromises();
    await w.get('[data-testid=method-mebp] input').setValue(true);
    await w.get('[data-testid=set-steps]').setValue(5);
    await w.get('[data-testid=set-cap-bytes]').setValue(3);
    expect(w.get('[data-testid=train-start]').attributes('disabled')).toBeUndefined();
    await w.get('[data-testid=train-start]').trigger('click');
    await flushPromises();
    const call = c.calls.find((x) => x.method === 'runs.start')!;
    expect(call.params).toMatchObject({ method: 'mebp', steps: 5, capBytes: 3_000_000, modelDir: MODEL.dir, dataPath: DATASET.path, profile: 'phone-8gb' });
    // The run's first events arrive: the progress bar and the charts appear.
    c.emit({ type: 'run', runId: 'r1', event: { t: 0, type: 'start', runDir: '/runs/r1', totalSteps: 5, startStep: 0, method: 'mebp', adapter: 'llvmpipe' } });
    c.emit({ type: 'run.status', runId: 'r1', status: 'running' });
    await flushPromises();
    expect(w.find('[data-testid=progress]').exists()).toBe(true);
    expect(w.find('[data-chart=loss]').exists()).toBe(true);
    expect(w.find('[data-testid=train-pause]').exists()).toBe(true);
  });
});

describe('TrainView settings form', () => {
  it('offers every TrainSpec field, each with an input', () => {
    client();
    const w = mount(TrainView, { global: global() });
    for (const key of Object.keys(TrainSpecSchema.shape)) {
      const field = w.find(`[data-testid=train-settings] [data-field=${key}]`);
      expect(field.exists(), `the form's ${key}`).toBe(true);
      expect(field.find('input, select').exists(), `an input for ${key}`).toBe(true);
    }
  });

  it('sends what the form holds, the ablations included; a bad value shows the schema\'s message and blocks the start', async () => {
    const c = client();
    const w = mount(TrainView, { global: global() });
    await chooseEverything();
    await flushPromises();
    await w.get('[data-testid=set-store-h]').setValue(true);
    await w.get('[data-testid=set-chunked-head]').setValue(false);
    await w.get('[data-testid=set-schedule]').setValue('cosine');
    await w.get('[data-testid=set-warmup]').setValue(3);
    await w.get('[data-testid=set-clip-norm]').setValue(1.5);
    await w.get('[data-testid=set-targets-o] input').setValue(true);
    await w.get('[data-testid=set-seq-len]').setValue(100000);
    expect(w.get('[data-field=seqLen] em').text()).toBe('Sequence length must be ≤ 32768');
    expect(w.get('[data-testid=train-start]').attributes('disabled')).toBeDefined();
    await w.get('[data-testid=set-seq-len]').setValue(64);
    await w.get('[data-testid=train-start]').trigger('click');
    await flushPromises();
    expect(c.calls.find((x) => x.method === 'runs.start')!.params).toMatchObject({
      storeH: true, chunkedHead: false, schedule: 'cosine', warmupSteps: 3, clipNorm: 1.5, targets: ['q', 'v', 'o'], seqLen: 64,
    });
  });
});

describe('CompareView', () => {
  it('defaults to all four methods and sends the chosen ones', async () => {
    const c = client({ 'compare.start': () => ({ compareId: 'c1' }) });
    const w = mount(CompareView, { global: global() });
    await chooseEverything();
    await flushPromises();
    for (const m of ['full', 'mebp', 'mesp', 'mezo']) expect(w.get(`[data-testid=compare-method-${m}]`).classes(), `m ${m}`).toContain('on');
    await w.get('[data-testid=compare-method-full] input').trigger('change');
    await w.get('[data-testid=compare-method-mezo] input').trigger('change');
    await w.get('[data-testid=compare-start]').trigger('click');
    await flushPromises();
    expect(c.calls.find((x) => x.method === 'compare.start')!.params).toMatchObject({ methods: ['mebp', 'mesp'], steps: 8 });
  });
});

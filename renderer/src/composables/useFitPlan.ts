// "Will it fit?": each method's predicted peak of a training step by category, from the engine's own memory plan
// (plan.fit → planTrainStep, a dry run of the real schedule), against the chosen profile's budget. Re-planned when the
// profile, model, dataset or settings change (debounced).
import { computed, ref, watch } from 'vue';
import { FIT_SPEC_KEYS, type FIT_SHAPES, type FitParams, type FitResult } from '../../../core/api/contract/plan';
import { pickSpec } from '../../../core/api/train';
import { errorText, getClient } from '../api';
import { fitChart } from '../charts/options';
import { useSelection } from './useSelection';

/** '' plans the chosen model; a shape id plans that real Qwen2.5 model from its shape alone. */
export type FitTarget = '' | (typeof FIT_SHAPES)[number];

export function useFitPlan(debounceMs = 250) {
  const sel = useSelection();
  const target = ref<FitTarget>('');
  const fit = ref<FitResult | null>(null);
  const loading = ref(false);
  const error = ref<string | null>(null);
  let seq = 0;

  /** The spec's memory-relevant settings (FIT_SPEC_KEYS), the chosen model or a Qwen2.5 shape, and the profile. */
  const params = computed<FitParams | null>(() => {
    const c = sel.common.value;
    const spec = sel.spec.value;
    if (!c || !spec) return null;
    const model = target.value ? { shape: target.value } : { modelDir: c.modelDir, dataPath: c.dataPath };
    return { ...pickSpec(spec, FIT_SPEC_KEYS), ...model, profile: c.profile };
  });

  async function refresh(): Promise<void> {
    const p = params.value;
    if (!p) {
      fit.value = null;
      error.value = sel.missing.value ?? sel.issues.value[0]?.message ?? null;
      return;
    }
    const mine = ++seq;
    loading.value = true;
    try {
      const r = await getClient().call('plan.fit', p);
      if (mine === seq) {
        fit.value = r;
        error.value = null;
      }
    } catch (e) {
      if (mine === seq) error.value = `Could not plan the memory: ${errorText(e)}`;
    } finally {
      if (mine === seq) loading.value = false;
    }
  }

  let timer: ReturnType<typeof setTimeout> | null = null;
  watch(
    () => JSON.stringify(params.value),
    () => {
      if (timer) clearTimeout(timer);
      timer = setTimeout(() => void refresh(), debounceMs);
    },
    { immediate: true },
  );

  const chart = computed(() => (fit.value ? fitChart(fit.value) : null));
  const verdicts = computed(() => (fit.value ? fit.value.methods.map((m) => ({ method: m.method, fits: m.fits, peak: m.peakBytes, error: m.error })) : []));
  return { target, fit, loading, error, chart, verdicts, refresh };
}

// "Will it fit?": each method's predicted peak of a training step by category and its memory over one step, from the
// engine's own memory plan (plan.fit → planTrainStep, a dry run of the real schedule), against the chosen profile's
// budget. It starts from a real Qwen2.5 shape with the phone's settings (PHONE_PLAN: int4 weights, seq 256, rank 8 on
// q and v, batch 1) and has its own inline controls for those (PLAN_FORM_KEYS); the other memory settings are the
// Train view's. Re-planned when the profile, model or settings change (debounced).
import { computed, reactive, ref, watch } from 'vue';
import { FIT_SPEC_KEYS, PHONE_PLAN, type PLAN_FORM_KEYS, type FIT_SHAPES, type FitParams, type FitResult } from '../../../core/api/contract/plan';
import { TRAIN_DEFAULTS, pickSpec, type TrainSpec } from '../../../core/api/train';
import { errorText, getClient } from '../api';
import { fitChart } from '../charts/options';
import { fitVerdict, peakRows, planTimelineChart } from '../charts/plan';
import { useSelection } from './useSelection';

/** '' plans the chosen model; a shape id plans that real Qwen2.5 model from its shape alone. */
export type FitTarget = '' | (typeof FIT_SHAPES)[number];

/** The inline settings of "will it fit?" (the PLAN_FORM_KEYS of the spec). */
export type PlanForm = Pick<TrainSpec, (typeof PLAN_FORM_KEYS)[number]>;

/** The phone's settings, as "will it fit?" starts. */
export function phoneForm(): PlanForm {
  const { shape: _shape, ...form } = PHONE_PLAN;
  return structuredClone(form) as PlanForm;
}

export function useFitPlan(debounceMs = 250) {
  const sel = useSelection();
  const target = ref<FitTarget>(PHONE_PLAN.shape);
  const form = reactive<PlanForm>(phoneForm());
  const fit = ref<FitResult | null>(null);
  const loading = ref(false);
  const error = ref<string | null>(null);
  let seq = 0;

  /** The form's values are whole and in range (the service checks them again with the spec's schema). */
  const formIssue = computed<string | null>(() => {
    if (!Number.isInteger(form.seqLen) || form.seqLen < 2) return 'sequence length: give a whole number of at least 2 tokens';
    if (!Number.isInteger(form.rank) || form.rank < 1) return 'rank: give a whole number of at least 1';
    if (!Number.isInteger(form.batch) || form.batch < 1) return 'batch: give a whole number of at least 1';
    if (!form.targets.length) return 'LoRA targets: choose at least one projection';
    return null;
  });

  /** The Train view's memory settings (or the spec's defaults), with this card's own, a model or a shape, and the profile. */
  const params = computed<FitParams | null>(() => {
    if (!sel.profiles.selected || formIssue.value) return null;
    const base = pickSpec(sel.spec.value ?? TRAIN_DEFAULTS, FIT_SPEC_KEYS);
    const model = target.value ? { shape: target.value } : sel.models.dir ? { modelDir: sel.models.dir, ...(sel.datasets.path ? { dataPath: sel.datasets.path } : {}) } : null;
    if (!model) return null;
    return { ...base, quant: form.quant, seqLen: form.seqLen, rank: form.rank, batch: form.batch, targets: [...form.targets], ...model, profile: sel.profiles.selectedId, timeline: true };
  });

  async function refresh(): Promise<void> {
    const p = params.value;
    if (!p) {
      fit.value = null;
      error.value = formIssue.value ?? (target.value ? null : sel.missing.value);
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

  function resetToPhone(): void {
    Object.assign(form, phoneForm());
    target.value = PHONE_PLAN.shape;
  }

  const chart = computed(() => (fit.value ? fitChart(fit.value) : null));
  const timeline = computed(() => (fit.value ? planTimelineChart(fit.value) : null));
  const verdict = computed(() => (fit.value ? fitVerdict(fit.value) : null));
  const rows = computed(() => (fit.value ? peakRows(fit.value) : []));
  const verdicts = computed(() => (fit.value ? fit.value.methods.map((m) => ({ method: m.method, fits: m.fits, peak: m.peakBytes, error: m.error })) : []));
  return { target, form, formIssue, fit, loading, error, chart, timeline, verdict, rows, verdicts, refresh, resetToPhone };
}

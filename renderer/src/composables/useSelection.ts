// What every job shares: the chosen profile, model and dataset plus the training settings, as the contract's run
// params (core/api/contract/runs.ts RunParams: the TrainSpec plus those ids) — or the reason a job cannot start yet
// (what is missing and where to set it). The settings are checked by the TrainSpec schema itself (safeParse), so the
// form's errors are the CLI's, in the form's words; there are no range checks of its own here.
import { computed } from 'vue';
import type { RunParams } from '../../../core/api/contract';
import { issueText, labelOf } from '../../../core/api/fields';
import { TrainSpecSchema, checkSpec, type TrainSpec, type TrainSpecKey } from '../../../core/api/train';
import { useDatasetsStore } from '../stores/datasets';
import { useModelsStore } from '../stores/models';
import { useProfilesStore } from '../stores/profiles';
import { useRunsStore, type SpecForm } from '../stores/runs';

export interface SettingIssue {
  field: TrainSpecKey;
  message: string;
}

const checked = TrainSpecSchema.superRefine(checkSpec);
const label = (k: string): string => labelOf(TrainSpecSchema, k);

/** The form's values as the spec, or what is wrong with them (one message per field, naming it by its label). */
export function specOf(form: SpecForm): { spec: TrainSpec | null; issues: SettingIssue[] } {
  // An emptied field takes the spec's default (or is off); a number input holding a half-typed value reads as NaN.
  const given = Object.fromEntries(Object.entries(form).filter(([, v]) => v !== '' && v !== undefined));
  const r = checked.safeParse(given);
  if (r.success) return { spec: r.data, issues: [] };
  const issues: SettingIssue[] = [];
  for (const i of r.error.issues) {
    const field = String(i.path[0]) as TrainSpecKey;
    if (!issues.some((x) => x.field === field)) issues.push({ field, message: issueText(i, label(field), undefined, label) });
  }
  return { spec: null, issues };
}

export function useSelection() {
  const profiles = useProfilesStore();
  const models = useModelsStore();
  const datasets = useDatasetsStore();
  const runs = useRunsStore();

  const checkedSpec = computed(() => specOf(runs.settings));
  const spec = computed(() => checkedSpec.value.spec);
  const issues = computed(() => checkedSpec.value.issues);
  const capBytes = computed<number | null>(() => spec.value?.capBytes ?? profiles.capBytes);
  const missing = computed<string | null>(() => {
    if (!profiles.selected) return 'Choose a device profile in Devices.';
    if (!models.info) return 'Choose a model folder in Model & data.';
    if (!datasets.info) return 'Choose a dataset in Model & data.';
    return null;
  });

  /** The run params (spec + the chosen model, dataset, profile and optional files), or null while something is missing or invalid. */
  const common = computed<RunParams | null>(() => {
    const s = spec.value;
    if (missing.value || !s) return null;
    const f = runs.files;
    return {
      ...s, modelDir: models.dir!, dataPath: datasets.path!, profile: profiles.selectedId,
      ...(f.valPath.trim() ? { valPath: f.valPath.trim() } : {}), ...(f.initAdapter.trim() ? { initAdapter: f.initAdapter.trim() } : {}),
    };
  });

  return { profiles, models, datasets, runs, spec, capBytes, issues, missing, common };
}

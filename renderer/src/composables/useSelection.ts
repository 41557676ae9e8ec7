// What every job shares: the chosen profile, model and dataset plus the training settings, as contract params —
// or the reason a job cannot start yet (what is missing and where to set it).
import { computed } from 'vue';
import type { TrainSettings } from '../../../core/api/contract';
import { useDatasetsStore } from '../stores/datasets';
import { useModelsStore } from '../stores/models';
import { useProfilesStore } from '../stores/profiles';
import { useRunsStore, type RunSettings } from '../stores/runs';

export interface SettingIssue {
  field: keyof RunSettings;
  message: string;
}

/** The cap override in MB: null when the field is empty (an emptied number input holds ''), NaN when invalid. */
export function capOverrideMB(s: Pick<RunSettings, 'capMB'>): number | null {
  const v = s.capMB as unknown;
  if (v === null || v === undefined || v === '') return null;
  return typeof v === 'number' && v > 0 ? v : NaN;
}

/** Range checks of the training settings, with messages that say what to change. */
export function settingIssues(s: RunSettings): SettingIssue[] {
  const out: SettingIssue[] = [];
  const int = (v: number, lo: number, hi: number): boolean => Number.isInteger(v) && v >= lo && v <= hi;
  if (!int(s.rank, 1, 256)) out.push({ field: 'rank', message: 'LoRA rank must be a whole number from 1 to 256' });
  if (!(s.alpha > 0)) out.push({ field: 'alpha', message: 'alpha must be above 0 (the scale is alpha / rank)' });
  if (!s.targets.length) out.push({ field: 'targets', message: 'choose at least one projection to adapt' });
  if (!int(s.seqLen, 2, 32768)) out.push({ field: 'seqLen', message: 'sequence length must be a whole number from 2 to 32768' });
  if (!int(s.batch, 1, 1024)) out.push({ field: 'batch', message: 'batch must be a whole number from 1 to 1024' });
  if (!int(s.steps, 1, 1_000_000)) out.push({ field: 'steps', message: 'steps must be a whole number of at least 1' });
  if (!(s.lr > 0 && s.lr < 10)) out.push({ field: 'lr', message: 'learning rate must be above 0 (try 1e-3)' });
  if (!int(s.seed, 0, 2 ** 31)) out.push({ field: 'seed', message: 'seed must be a whole number of at least 0' });
  if (!(s.valFraction >= 0 && s.valFraction <= 0.5)) out.push({ field: 'valFraction', message: 'validation fraction must be between 0 and 0.5' });
  if (!int(s.valEvery, 0, 1_000_000)) out.push({ field: 'valEvery', message: 'validate every N steps: a whole number, 0 for only at the end' });
  if (!int(s.checkpointEvery, 0, 1_000_000)) out.push({ field: 'checkpointEvery', message: 'checkpoint every N steps: a whole number, 0 for only at the end' });
  if (Number.isNaN(capOverrideMB(s))) out.push({ field: 'capMB', message: 'a cap override must be above 0 MB (leave it empty for the profile\'s budget)' });
  return out;
}

export function useSelection() {
  const profiles = useProfilesStore();
  const models = useModelsStore();
  const datasets = useDatasetsStore();
  const runs = useRunsStore();

  const capBytes = computed<number | null>(() => {
    const cap = capOverrideMB(runs.settings);
    return cap !== null && !Number.isNaN(cap) ? Math.round(cap * 1e6) : profiles.capBytes;
  });
  const issues = computed(() => settingIssues(runs.settings));
  const missing = computed<string | null>(() => {
    if (!profiles.selected) return 'Choose a device profile in Devices.';
    if (!models.info) return 'Choose a model folder in Model & data.';
    if (!datasets.info) return 'Choose a dataset in Model & data.';
    return null;
  });

  /** The shared contract params, or null while something is missing or invalid. */
  const common = computed<TrainSettings | null>(() => {
    if (missing.value || issues.value.length) return null;
    const s = runs.settings;
    return {
      modelDir: models.dir!, dataPath: datasets.path!, profile: profiles.selectedId, quant: s.quant, rank: s.rank, alpha: s.alpha,
      targets: [...s.targets], seqLen: s.seqLen, batch: s.batch, steps: s.steps, lr: s.lr, optimizer: s.optimizer, seed: s.seed,
      valFraction: s.valFraction, valEvery: s.valEvery, checkpointEvery: s.checkpointEvery,
      ...(capOverrideMB(s) !== null ? { capBytes: Math.round(capOverrideMB(s)! * 1e6) } : {}),
    };
  });

  return { profiles, models, datasets, runs, capBytes, issues, missing, common };
}

// Start-up: connect, load profiles, preselect a model and a dataset (the most recent ones, or on first launch the
// demo model and demo dataset the service wrote to its app-data folder), list runs and comparisons, and pick up a
// run or comparison that is in progress (a window reopened during training follows it again).
import { onMounted, ref } from 'vue';
import { errorText } from '../api';
import { useAppStore } from '../stores/app';
import { useCompareStore } from '../stores/compare';
import { useDatasetsStore } from '../stores/datasets';
import { useModelsStore } from '../stores/models';
import { useProfilesStore } from '../stores/profiles';
import { useRunsStore } from '../stores/runs';

export async function boot(): Promise<void> {
  const app = useAppStore();
  const profiles = useProfilesStore();
  const models = useModelsStore();
  const datasets = useDatasetsStore();
  const runs = useRunsStore();
  const compare = useCompareStore();
  await app.init();
  const info = app.info;
  if (!info) return;
  await profiles.load();
  const modelDir = info.recent.models[0] ?? info.demo.modelDir;
  if (!(await models.choose(modelDir)) && modelDir !== info.demo.modelDir) await models.choose(info.demo.modelDir);
  if (models.dir) {
    const dataPath = info.recent.datasets[0] ?? info.demo.dataPath;
    if (!(await datasets.choose(dataPath, models.dir, runs.seqLen)) && dataPath !== info.demo.dataPath) {
      await datasets.choose(info.demo.dataPath, models.dir, runs.seqLen);
    }
  }
  await Promise.all([runs.refresh(), compare.refresh()]);
  if (info.activeRunId) {
    await runs.open(info.activeRunId);
    runs.activeRunId = info.activeRunId;
  }
  if (info.activeCompareId) {
    await compare.open(info.activeCompareId);
    compare.activeId = info.activeCompareId;
  }
}

export function useBoot() {
  const ready = ref(false);
  const failure = ref<string | null>(null);
  onMounted(async () => {
    try {
      await boot();
    } catch (e) {
      failure.value = errorText(e);
    } finally {
      ready.value = true;
    }
  });
  return { ready, failure };
}

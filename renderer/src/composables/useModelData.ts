// The Model and data view's logic: the chosen model's facts and the dataset's statistics and masked token preview.
// Choosing a new model re-reads the dataset with its tokenizer.
import { computed } from 'vue';
import { count, mb } from '../lib/format';
import { useAppStore } from '../stores/app';
import { useSelection } from './useSelection';

export function useModelData() {
  const { models, datasets, runs } = useSelection();
  const app = useAppStore();
  /** The service keeps the recent lists (they persist in its settings.json). */
  const refreshRecent = (): Promise<void> => app.refreshInfo().catch(() => undefined);

  async function chooseModel(path: string): Promise<void> {
    if ((await models.choose(path)) && datasets.path) await datasets.choose(datasets.path, models.dir!, runs.seqLen);
    await refreshRecent();
  }

  async function chooseDataset(path: string): Promise<void> {
    if (!models.dir) {
      datasets.error = 'Choose a model first: the dataset is tokenized with the model\'s tokenizer.';
      return;
    }
    await datasets.choose(path, models.dir, runs.seqLen);
    await refreshRecent();
  }

  async function showRow(index: number): Promise<void> {
    if (models.dir) await datasets.preview(Math.max(0, index), models.dir, runs.seqLen);
  }

  const modelFacts = computed(() => {
    const m = models.info;
    if (!m) return [];
    const w = m.weightsBytes;
    return [
      { label: 'Parameters', value: count(m.parameters) },
      { label: 'Layers', value: String(m.layers) },
      { label: 'Hidden / MLP', value: `${m.hidden} / ${m.intermediate}` },
      { label: 'Heads (KV)', value: `${m.heads} (${m.kvHeads})` },
      { label: 'Vocabulary', value: count(m.vocab) },
      { label: 'Stored as', value: `${m.dtypes.join(', ')} · ${m.shards} file${m.shards > 1 ? 's' : ''}` },
      { label: 'Weights on disk', value: mb(m.fileBytes, 2) },
      { label: 'Weights on GPU', value: `${mb(w.none, 2)} · int8 ${mb(w.int8, 2)} · int4 ${mb(w.int4, 2)}` },
      { label: 'Tied embeddings', value: m.tiedEmbeddings ? 'yes' : 'no' },
      { label: 'Chat template', value: m.hasChatTemplate ? 'yes' : 'no' },
    ];
  });

  const dataFacts = computed(() => {
    const d = datasets.info;
    if (!d) return [];
    return [
      { label: 'Rows', value: count(d.rows) },
      { label: 'Tokens', value: count(d.tokens) },
      { label: 'Trained tokens', value: `${count(d.trainedTokens)} (${d.tokens ? ((100 * d.trainedTokens) / d.tokens).toFixed(0) : 0}%)` },
      { label: 'Tokens per row', value: `mean ${d.meanRowTokens.toFixed(1)} · max ${d.maxRowTokens}` },
      { label: 'Cut at seq len', value: `${d.truncatedRows} of ${d.rows} (seq len ${d.seqLen})` },
      { label: 'Formats', value: Object.entries(d.formats).map(([k, v]) => `${k} ${v}`).join(', ') },
    ];
  });

  return { models, datasets, chooseModel, chooseDataset, showRow, modelFacts, dataFacts };
}

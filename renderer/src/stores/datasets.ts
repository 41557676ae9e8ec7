// The chosen dataset and what the service read from it with the chosen model's tokenizer (dataset.inspect): rows,
// tokens, trained (unmasked) tokens and a tokenized, masked preview of one row.
import { defineStore } from 'pinia';
import { ref } from 'vue';
import type { DatasetInfo } from '../../../core/api/contract';
import { getClient, trackCall } from '../api';

export const useDatasetsStore = defineStore('datasets', () => {
  const path = ref<string | null>(null);
  const info = ref<DatasetInfo | null>(null);
  const loading = ref(false);
  const error = ref<string | null>(null);

  function inspect(dataPath: string, modelDir: string, seqLen: number, previewIndex: number): Promise<boolean> {
    return trackCall(loading, error, () => getClient().call('dataset.inspect', { dataPath, modelDir, seqLen, previewIndex }), (d) => {
      info.value = d;
      path.value = d.path;
    });
  }

  /** Choose a dataset (tokenized with the model's tokenizer, rows cut at seqLen). */
  function choose(dataPath: string, modelDir: string, seqLen: number): Promise<boolean> {
    return inspect(dataPath, modelDir, seqLen, 0);
  }

  /** Show another row's tokens. */
  async function preview(index: number, modelDir: string, seqLen: number): Promise<void> {
    if (path.value) await inspect(path.value, modelDir, seqLen, index);
  }

  return { path, info, loading, error, choose, preview };
});

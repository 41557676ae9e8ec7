// The chosen base model folder and what the service read from it (model.inspect): parameters, layers, dtypes,
// weights size per quantization.
import { defineStore } from 'pinia';
import { ref } from 'vue';
import type { ModelInfo } from '../../../core/api/contract';
import { errorText, getClient } from '../api';

export const useModelsStore = defineStore('models', () => {
  const dir = ref<string | null>(null);
  const info = ref<ModelInfo | null>(null);
  const loading = ref(false);
  const error = ref<string | null>(null);

  /** Inspect a model folder and make it the chosen one; on failure the previous choice stays and the error shows. */
  async function choose(path: string): Promise<boolean> {
    loading.value = true;
    try {
      const m = await getClient().call('model.inspect', { modelDir: path });
      info.value = m;
      dir.value = m.dir;
      error.value = null;
      return true;
    } catch (e) {
      error.value = errorText(e);
      return false;
    } finally {
      loading.value = false;
    }
  }

  return { dir, info, loading, error, choose };
});

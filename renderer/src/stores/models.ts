// The chosen base model folder and what the service read from it (model.inspect): parameters, layers, dtypes,
// weights size per quantization.
import { defineStore } from 'pinia';
import { ref } from 'vue';
import type { ModelInfo } from '../../../core/api/contract';
import { getClient, trackCall } from '../api';

export const useModelsStore = defineStore('models', () => {
  const dir = ref<string | null>(null);
  const info = ref<ModelInfo | null>(null);
  const loading = ref(false);
  const error = ref<string | null>(null);

  /** Inspect a model folder and make it the chosen one; on failure the previous choice stays and the error shows. */
  function choose(path: string): Promise<boolean> {
    return trackCall(loading, error, () => getClient().call('model.inspect', { modelDir: path }), (m) => {
      info.value = m;
      dir.value = m.dir;
    });
  }

  return { dir, info, loading, error, choose };
});

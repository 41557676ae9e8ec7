// The Export view's logic, on the exporter's contract methods (export.preview and export.run, backed by
// core/node/export.ts): choose a finished or stopped run, the formats (PEFT, GGUF LoRA, MLX, merged ONNX), the
// precision and the destination (default: the run's exports/ folder); see each file's size before writing; export.
import { computed, ref, watch } from 'vue';
import type { ExportFormat, ExportPreview, ExportResult } from '../../../core/api/contract';
import { errorText, getClient } from '../api';
import { useAppStore } from '../stores/app';
import { useRunsStore } from '../stores/runs';

export const FORMAT_LABEL: Record<ExportFormat, string> = {
  peft: 'PEFT (Hugging Face)',
  gguf: 'GGUF LoRA (llama.cpp)',
  'gguf-base': 'GGUF base model (llama.cpp, Ollama)',
  'gguf-merged': 'GGUF merged model (llama.cpp, Ollama)',
  mlx: 'MLX (mlx-lm)',
  onnx: 'Merged ONNX (onnxruntime)',
  'hf-merged': 'Merged safetensors (transformers, vLLM)',
};

/** Asks the user before files are replaced (window.confirm in the app; tests pass their own). */
export type ConfirmReplace = (message: string) => boolean;

const browserConfirm: ConfirmReplace = (message) => (typeof window !== 'undefined' && typeof window.confirm === 'function' ? window.confirm(message) : false);

/**
 * Whether to export with overwrite: the box's value when nothing is in the way; when files are, true only if the box is
 * ticked or the user agrees now; null when the user declines (nothing is written).
 */
export function overwriteDecision(existing: readonly string[], ticked: boolean, where: string, confirm: ConfirmReplace): boolean | null {
  if (!existing.length || ticked) return ticked;
  const list = `${existing.slice(0, 4).join(', ')}${existing.length > 4 ? ', …' : ''}`;
  return confirm(`${existing.length} file(s) already exist in ${where} (${list}). Replace them?`) ? true : null;
}

export function useExport(confirmReplace: ConfirmReplace = browserConfirm) {
  const app = useAppStore();
  const runs = useRunsStore();
  const runId = ref<string | null>(null);
  const formats = ref<ExportFormat[]>(['peft', 'gguf']);
  const dtype = ref<'f32' | 'f16' | 'bf16'>('f32');
  const destDir = ref('');
  const overwrite = ref(false);
  const preview = ref<ExportPreview | null>(null);
  const result = ref<ExportResult | null>(null);
  const error = ref<string | null>(null);
  const busy = ref(false);

  const exportable = computed(() => runs.list.filter((r) => (r.status === 'done' || r.status === 'stopped') && r.lastCheckpoint));
  watch(exportable, (list) => {
    if (!runId.value && list.length) runId.value = list[0].id;
  }, { immediate: true });

  const params = computed(() => (runId.value && formats.value.length ? { runId: runId.value, formats: [...formats.value], dtype: dtype.value, ...(destDir.value.trim() ? { destDir: destDir.value.trim() } : {}) } : null));

  async function refreshPreview(keepResult = false): Promise<void> {
    const p = params.value;
    if (!keepResult) result.value = null;
    if (!p) {
      preview.value = null;
      return;
    }
    try {
      preview.value = await getClient().call('export.preview', p);
      error.value = null;
    } catch (e) {
      preview.value = null;
      error.value = errorText(e);
    }
  }
  watch(() => JSON.stringify(params.value), () => void refreshPreview(), { immediate: true });

  function toggle(f: ExportFormat): void {
    formats.value = formats.value.includes(f) ? formats.value.filter((x) => x !== f) : [...formats.value, f];
  }

  async function chooseDest(): Promise<void> {
    try {
      const { path } = await getClient().call('files.choose', { kind: 'exportDir' });
      if (path) destDir.value = path;
    } catch (e) {
      error.value = errorText(e);
    }
  }

  /** Export. Files already at the destination are replaced only if the box is ticked or the user says yes now. */
  async function run(): Promise<void> {
    const p = params.value;
    if (!p) return;
    const replace = overwriteDecision(preview.value?.existing ?? [], overwrite.value, p.destDir ?? "the run's exports/ folder", confirmReplace);
    if (replace === null) return;
    busy.value = true;
    try {
      result.value = await getClient().call('export.run', { ...p, overwrite: replace });
      error.value = null;
      await refreshPreview(true);
    } catch (e) {
      error.value = errorText(e);
    } finally {
      busy.value = false;
    }
  }

  const native = computed(() => !!app.info?.nativeDialogs);
  const totalBytes = computed(() => preview.value?.formats.reduce((s, f) => s + f.bytes, 0) ?? 0);
  return { runs, exportable, runId, formats, dtype, destDir, overwrite, preview, result, error, busy, native, totalBytes, toggle, chooseDest, run, refreshPreview };
}

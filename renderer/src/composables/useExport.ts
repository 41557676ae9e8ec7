// The Export view's logic, on the exporter's contract methods (export.preview and export.run, backed by
// core/node/export.ts): choose a finished or stopped run, the formats (each listed from core/api's EXPORT_FORMAT_INFO
// with its size from a preview of every format, so the sizes show before one is ticked), the precision,
// the GGUF type and the destination (default: the run's exports/ folder); see each file's size before writing; export;
// then the parity the export measured in llama.cpp (the manifest's `parity`).
import { computed, ref, watch } from 'vue';
import { EXPORT_FORMAT_INFO, EXPORT_FORMATS, GGUF_TYPES, type ExportFormat, type ExportPreview, type ExportResult, type GgufType } from '../../../core/api/contract';
import { errorText, getClient } from '../api';
import { useAppStore } from '../stores/app';
import { useRunsStore } from '../stores/runs';

/** Each format's short name (core/api EXPORT_FORMAT_INFO). */
export const FORMAT_LABEL = Object.fromEntries(EXPORT_FORMATS.map((f) => [f, EXPORT_FORMAT_INFO[f].label])) as Record<ExportFormat, string>;
export { GGUF_TYPES };

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
  const ggufType = ref<GgufType>('f16');
  const overwrite = ref(false);
  const preview = ref<ExportPreview | null>(null);
  const result = ref<ExportResult | null>(null);
  const error = ref<string | null>(null);
  const busy = ref(false);

  const exportable = computed(() => runs.list.filter((r) => (r.status === 'done' || r.status === 'stopped') && r.lastCheckpoint));
  watch(exportable, (list) => {
    if (!runId.value && list.length) runId.value = list[0].id;
  }, { immediate: true });

  const dest = computed(() => (destDir.value.trim() ? { destDir: destDir.value.trim() } : {}));
  const params = computed(() => (runId.value && formats.value.length ? { runId: runId.value, formats: [...formats.value], dtype: dtype.value, ggufType: ggufType.value, ...dest.value } : null));
  /** A second preview of every format, for the list's sizes (READMEs and the Modelfile depend on the ticked set: not these). */
  const sizeParams = computed(() => (runId.value ? { runId: runId.value, formats: [...EXPORT_FORMATS], dtype: dtype.value, ggufType: ggufType.value, ...dest.value } : null));
  const sizes = ref<ExportPreview | null>(null);

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

  async function refreshSizes(): Promise<void> {
    const p = sizeParams.value;
    try {
      sizes.value = p ? await getClient().call('export.preview', p) : null;
    } catch {
      sizes.value = null; // the selection's preview shows the error
    }
  }
  watch(() => JSON.stringify(sizeParams.value), () => void refreshSizes(), { immediate: true });

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
  /**
   * Bytes of each format for the list (from the preview of every format); null while it loads, 'none' when the
   * format cannot be written from this run (a GGUF model needs the base's tokenizer.json).
   */
  const sizeOf = (f: ExportFormat): number | 'none' | null => (sizes.value ? (sizes.value.formats.find((x) => x.format === f)?.bytes ?? 'none') : null);
  const totalBytes = computed(() => preview.value?.formats.reduce((s, f) => s + f.bytes, 0) ?? 0);
  const usesGguf = computed(() => formats.value.some((f) => f === 'gguf-base' || f === 'gguf-merged'));
  /** The parity the last export measured (null before an export, or for a bundle without it). */
  const parity = computed(() => result.value?.manifest.parity ?? null);
  return {
    runs, exportable, runId, formats, dtype, ggufType, destDir, overwrite, preview, result, error, busy, native, totalBytes, sizes, sizeOf, usesGguf, parity,
    toggle, chooseDest, run, refreshPreview,
  };
}

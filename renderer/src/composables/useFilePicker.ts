// Choosing a file or folder: a native dialog in the desktop app (files.choose, answered by main), and in browser
// mode a path typed or browsed under the folders the service allows (files.check, files.browse), or an upload
// (files.upload: a dataset file, or every file of a model folder). The service refuses any path outside its folders.
import { computed, ref } from 'vue';
import type { BrowseResult, FileKind } from '../../../core/api/contract';
import { errorText, getClient } from '../api';
import { useAppStore } from '../stores/app';

/** Base64 of bytes, in chunks (String.fromCharCode on a whole large file overflows the stack). */
export function toBase64(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

export function useFilePicker(kind: FileKind, onChosen: (path: string) => Promise<unknown> | void) {
  const app = useAppStore();
  const native = computed(() => !!app.info?.nativeDialogs);
  const typed = ref('');
  const error = ref<string | null>(null);
  const busy = ref(false);
  const browser = ref<BrowseResult | null>(null);

  async function use(path: string): Promise<void> {
    busy.value = true;
    try {
      const r = await getClient().call('files.check', { kind, path });
      if (!r.ok) {
        error.value = r.error;
        return;
      }
      error.value = null;
      browser.value = null;
      await onChosen(r.path);
    } catch (e) {
      error.value = errorText(e);
    } finally {
      busy.value = false;
    }
  }

  async function chooseNative(): Promise<void> {
    try {
      const { path } = await getClient().call('files.choose', { kind });
      if (path) await use(path);
    } catch (e) {
      error.value = errorText(e);
    }
  }

  async function browse(dir?: string): Promise<void> {
    try {
      browser.value = await getClient().call('files.browse', dir ? { dir } : {});
      error.value = null;
    } catch (e) {
      error.value = errorText(e);
    }
  }

  function closeBrowser(): void {
    browser.value = null;
  }

  /** Upload a dataset file, or all files of a model folder (an <input webkitdirectory> selection). */
  async function upload(files: FileList | File[]): Promise<void> {
    const list = [...files];
    if (!list.length) return;
    busy.value = true;
    try {
      let uploadId: string | undefined;
      let path = '';
      const wanted = kind === 'model' ? list.filter((f) => /\.(json|safetensors|jinja|txt)$/.test(f.name)) : list.slice(0, 1);
      for (const f of wanted) {
        const base64 = toBase64(new Uint8Array(await f.arrayBuffer()));
        const r = await getClient().call('files.upload', { kind: kind === 'model' ? 'model' : 'dataset', name: f.name, base64, ...(uploadId ? { uploadId } : {}) });
        uploadId = r.uploadId;
        path = r.path;
      }
      error.value = null;
      if (path) await use(path);
    } catch (e) {
      error.value = `Upload failed: ${errorText(e)}`;
    } finally {
      busy.value = false;
    }
  }

  return { native, typed, error, busy, browser, use, chooseNative, browse, closeBrowser, upload };
}

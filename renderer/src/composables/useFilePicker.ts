// Choosing a file or folder: a native dialog in the desktop app (files.choose, answered by main), and in browser
// mode a path typed or browsed under the folders the service allows (files.check, files.browse), or an upload
// (files.upload: a dataset file, or every file of a model folder, sent in pieces of UPLOAD_CHUNK_BYTES read from the
// file one at a time, so a model of several GB never sits in the page's memory; a file over UPLOAD_MAX_BYTES is
// refused before anything is sent, with the limit). The service refuses any path outside its folders.
import { computed, ref } from 'vue';
import { UPLOAD_CHUNK_BYTES, UPLOAD_MAX_BYTES, type BrowseResult, type FileKind } from '../../../core/api/contract';
import { errorText, getClient } from '../api';
import { mb } from '../lib/format';
import { useAppStore } from '../stores/app';

/** The upload limit as the UI states it. */
export const UPLOAD_LIMIT_TEXT = `up to ${mb(UPLOAD_MAX_BYTES)} a file`;

/** Why a file cannot be uploaded (over the limit), or null. */
export function uploadRefusal(f: Pick<File, 'name' | 'size'>): string | null {
  if (f.size <= UPLOAD_MAX_BYTES) return null;
  return `${f.name} is ${mb(f.size)}: uploads take files ${UPLOAD_LIMIT_TEXT}. Start \`npm run web -- --root <its folder>\` and choose it by path instead.`;
}

/** Where an upload is: the file being sent, bytes sent of all files, and their total. */
export interface UploadProgress {
  name: string;
  sent: number;
  total: number;
}

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
  const progress = ref<UploadProgress | null>(null);

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

  /** Upload a dataset file, or all files of a model folder (an <input webkitdirectory> selection), piece by piece. */
  async function upload(files: FileList | File[]): Promise<void> {
    const list = [...files];
    if (!list.length) return;
    const wanted = kind === 'model' ? list.filter((f) => /\.(json|safetensors|jinja|txt)$/.test(f.name)) : list.slice(0, 1);
    const refused = wanted.map(uploadRefusal).find((r) => r !== null);
    if (refused) {
      error.value = refused;
      return;
    }
    busy.value = true;
    const total = wanted.reduce((n, f) => n + f.size, 0);
    let sent = 0;
    try {
      let uploadId: string | undefined;
      let path = '';
      for (const f of wanted) {
        progress.value = { name: f.name, sent, total };
        for (let offset = 0; ; ) {
          const piece = new Uint8Array(await f.slice(offset, offset + UPLOAD_CHUNK_BYTES).arrayBuffer());
          const r = await getClient().call('files.upload', {
            kind: kind === 'model' ? 'model' : 'dataset', name: f.name, size: f.size, offset, base64: toBase64(piece), ...(uploadId ? { uploadId } : {}),
          });
          uploadId = r.uploadId;
          path = r.path;
          offset += piece.length;
          sent += piece.length;
          progress.value = { name: f.name, sent, total };
          if (r.done) break;
          if (!piece.length) throw new Error(`${f.name} ended at byte ${offset} but the service expects ${f.size}: was it changed while uploading?`);
        }
      }
      error.value = null;
      if (path) await use(path);
    } catch (e) {
      error.value = `Upload failed: ${errorText(e)}`;
    } finally {
      busy.value = false;
      progress.value = null;
    }
  }

  return { native, typed, error, busy, browser, progress, use, chooseNative, browse, closeBrowser, upload };
}

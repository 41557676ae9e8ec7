// How the page uploads and connects in browser mode: a file goes in pieces of UPLOAD_CHUNK_BYTES, in order, read from
// the file piece by piece, and the service's answer decides when it is done; a model folder's files share one upload;
// a file over the limit is refused before anything is sent, with the limit, which the picker shows next to Upload,
// with the progress while it runs. The launch token is read from the page's own fragment, kept for the tab, and
// taken out of the address bar.
import { mount } from '@vue/test-utils';
import { createPinia, setActivePinia } from 'pinia';
import { beforeEach, describe, expect, it } from 'vitest';
import { UPLOAD_CHUNK_BYTES, UPLOAD_MAX_BYTES } from '../../core/api/contract';
import { launchToken, setClient } from '../../renderer/src/api';
import FilePicker from '../../renderer/src/components/FilePicker.vue';
import { UPLOAD_LIMIT_TEXT, uploadRefusal, useFilePicker } from '../../renderer/src/composables/useFilePicker';
import { useAppStore } from '../../renderer/src/stores/app';
import { fakeClient } from './fake';

beforeEach(() => setActivePinia(createPinia()));

/** A fake service that keeps the pieces it gets, as files.upload would write them. */
function uploadService() {
  const files = new Map<string, Uint8Array[]>();
  const pieces: { name: string; offset: number; bytes: number; uploadId?: string }[] = [];
  let n = 0;
  const client = fakeClient({
    'files.upload': (p) => {
      const id = p.uploadId ?? `u${++n}`;
      const bytes = Uint8Array.from(Buffer.from(p.base64, 'base64'));
      pieces.push({ name: p.name, offset: p.offset, bytes: bytes.length, uploadId: p.uploadId });
      const got = files.get(`${id}/${p.name}`) ?? [];
      got.push(bytes);
      files.set(`${id}/${p.name}`, got);
      const received = got.reduce((s, b) => s + b.length, 0);
      return { path: p.kind === 'model' ? `/up/${id}` : `/up/${id}/${p.name}`, uploadId: id, received, done: received === p.size };
    },
    'files.check': (p) => ({ ok: true, path: p.path, error: null }),
  });
  setClient(client);
  return { client, files, pieces };
}

const bytes = (n: number, seed: number): Uint8Array<ArrayBuffer> => Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) % 251);

describe('uploads in pieces', () => {
  it('sends a dataset in order, piece by piece, and uses the file the service completed', async () => {
    const s = uploadService();
    const data = bytes(Math.floor(UPLOAD_CHUNK_BYTES * 2.2), 7);
    const chosen: string[] = [];
    const p = useFilePicker('dataset', (path) => void chosen.push(path));
    await p.upload([new File([data], 'big.jsonl')]);
    expect(p.error.value).toBeNull();
    expect(s.pieces.map((x) => x.offset)).toEqual([0, UPLOAD_CHUNK_BYTES, 2 * UPLOAD_CHUNK_BYTES]);
    expect(s.pieces.map((x) => x.bytes)).toEqual([UPLOAD_CHUNK_BYTES, UPLOAD_CHUNK_BYTES, data.length - 2 * UPLOAD_CHUNK_BYTES]);
    expect(s.pieces.map((x) => x.uploadId)).toEqual([undefined, 'u1', 'u1']);
    expect(Buffer.concat(s.files.get('u1/big.jsonl')!).equals(Buffer.from(data)), 'the pieces are the file').toBe(true);
    expect(chosen).toEqual(['/up/u1/big.jsonl']);
    expect(p.progress.value, 'no progress left showing').toBeNull();
  });

  it('sends the files of a model folder as one upload, empty files included', async () => {
    const s = uploadService();
    const chosen: string[] = [];
    const p = useFilePicker('model', (path) => void chosen.push(path));
    await p.upload([new File([bytes(10, 1)], 'config.json'), new File([], 'empty.txt'), new File([bytes(5, 2)], 'notes.md'), new File([bytes(100, 3)], 'model.safetensors')]);
    expect(s.pieces.map((x) => x.name), 'model files only').toEqual(['config.json', 'empty.txt', 'model.safetensors']);
    expect(s.pieces.map((x) => x.uploadId)).toEqual([undefined, 'u1', 'u1']);
    expect(chosen).toEqual(['/up/u1']);
  });

  it('refuses a file over the limit before sending anything, with the limit', async () => {
    const s = uploadService();
    const p = useFilePicker('model', () => undefined);
    const huge = { name: 'model.safetensors', size: UPLOAD_MAX_BYTES + 1 } as File;
    expect(uploadRefusal(huge)).toMatch(/model\.safetensors is 8\.00 GB: uploads take files up to 8\.00 GB a file/);
    expect(uploadRefusal({ name: 'ok.safetensors', size: UPLOAD_MAX_BYTES })).toBeNull();
    await p.upload([new File(['{}'], 'config.json'), huge]);
    expect(p.error.value).toMatch(/up to 8\.00 GB a file.*--root/);
    expect(s.client.calls, 'nothing was sent').toEqual([]);
  });

  it('shows the limit next to Upload, and the progress while an upload runs', async () => {
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const client = fakeClient({
      'files.upload': async (p) => {
        await held;
        return { path: `/up/u/${p.name}`, uploadId: 'u', received: p.size, done: true };
      },
      'files.check': (p) => ({ ok: true, path: p.path, error: null }),
    });
    setClient(client);
    useAppStore().info = { nativeDialogs: false } as ReturnType<typeof useAppStore>['info'];
    const w = mount(FilePicker, { props: { kind: 'dataset', label: 'Dataset', current: null, testid: 'ds' } });
    expect(w.get('[data-testid=ds-upload-limit]').text()).toBe(UPLOAD_LIMIT_TEXT);
    const input = w.get('[data-testid=ds-upload]').element as HTMLInputElement;
    Object.defineProperty(input, 'files', { value: [new File([bytes(1000, 4)], 'd.jsonl')] });
    await w.get('[data-testid=ds-upload]').trigger('change');
    await new Promise((r) => setTimeout(r, 20));
    expect(w.get('[data-testid=ds-upload-progress]').text()).toMatch(/Uploading d\.jsonl: 0\.00 MB of 0\.00 MB/);
    release();
    await new Promise((r) => setTimeout(r, 20));
    expect(w.find('[data-testid=ds-upload-progress]').exists()).toBe(false);
    expect(client.calls.map((c) => c.method)).toEqual(['files.upload', 'files.check']);
  });
});

describe('the launch token', () => {
  const token = 'A'.repeat(20) + '-_' + 'z'.repeat(21);
  const memory = (): Storage => {
    const m = new Map<string, string>();
    return { getItem: (k) => m.get(k) ?? null, setItem: (k, v) => void m.set(k, v), removeItem: (k) => void m.delete(k), clear: () => m.clear(), key: () => null, get length() { return m.size; } };
  };

  it('comes from the fragment, is kept for the tab, and leaves the address bar', () => {
    const store = memory();
    const replaced: string[] = [];
    const hist = { replaceState: (_d: unknown, _t: string, url?: string | URL | null) => void replaced.push(String(url)) };
    expect(launchToken({ hash: `#token=${token}`, pathname: '/', search: '' }, store, hist)).toBe(token);
    expect(replaced).toEqual(['/']);
    expect(launchToken({ hash: '', pathname: '/', search: '' }, store, hist), 'after a reload').toBe(token);
    expect(replaced, 'nothing to take out any more').toEqual(['/']);
  });

  it('is absent when the page was opened without it, or with something that is not one', () => {
    const hist = { replaceState: () => undefined };
    expect(launchToken({ hash: '', pathname: '/', search: '' }, memory(), hist)).toBeNull();
    expect(launchToken({ hash: '#token=short', pathname: '/', search: '' }, memory(), hist)).toBeNull();
  });
});

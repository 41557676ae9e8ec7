// "Try in llama.cpp" in the Export view: asks the service whether llama.cpp runs there (export.llama), then sends a
// chat turn to an exported bundle (export.try) and follows its `export.try` events: llama.cpp's reply from the bundle's
// GGUF files and our engine's reply to the same prompt ids and seed, each streamed token by token, and at the end
// whether the two token sequences are the same. Events of a try that arrive before its id are kept and replayed.
import { computed, onUnmounted, reactive, ref } from 'vue';
import {
  TRY_SIDES, type LlamaFileSet, type LlamaStatus, type ServiceEvent, type TryEvent, type TrySide,
} from '../../../core/api/contract';
import { errorText, getClient } from '../api';

export interface SideState {
  detail: string;
  promptTokens: number | null;
  text: string;
  tokens: number[];
  state: 'waiting' | 'running' | 'done' | 'error';
  finishReason: string | null;
  decodeTokensPerSecond: number | null;
  error: string | null;
}

const fresh = (): SideState => ({ detail: '', promptTokens: null, text: '', tokens: [], state: 'waiting', finishReason: null, decodeTokensPerSecond: null, error: null });

/** The index of the first token where two sequences differ (null when equal). */
export function firstDifference(a: readonly number[], b: readonly number[]): number | null {
  const n = Math.max(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return null;
}

/** Apply one try event to the two sides' state; returns the end event's verdict when it is the end. */
export function applyTryEvent(sides: Record<TrySide, SideState>, e: TryEvent): { sameTokens: boolean | null } | null {
  if (e.type === 'end') return { sameTokens: e.sameTokens };
  const s = sides[e.side];
  if (e.type === 'start') {
    s.detail = e.detail;
    s.promptTokens = e.promptTokens;
    s.state = 'running';
  } else if (e.type === 'token') {
    s.tokens.push(e.token);
    s.text += e.text;
  } else if (e.type === 'done') {
    s.state = 'done';
    s.text = e.reply.text;
    s.tokens = [...e.reply.tokens];
    s.finishReason = e.reply.finishReason;
    s.decodeTokensPerSecond = e.reply.decodeTokensPerSecond;
  } else {
    s.state = 'error';
    s.error = e.message;
  }
  return null;
}

export function useLlamaTry() {
  const status = ref<LlamaStatus | null>(null);
  const statusError = ref<string | null>(null);
  const prompt = ref('Write one sentence about phones.');
  const temperature = ref(0);
  const seed = ref(0);
  const maxNewTokens = ref(32);
  const fileSet = ref<LlamaFileSet | null>(null);
  const tryId = ref<string | null>(null);
  const files = ref<string[]>([]);
  const sides = reactive({ 'llama.cpp': fresh(), engine: fresh() }) as Record<TrySide, SideState>;
  const end = ref<{ sameTokens: boolean | null } | null>(null);
  const error = ref<string | null>(null);
  const starting = ref(false);
  let early: { tryId: string; event: TryEvent }[] = [];

  const onEvent = (e: ServiceEvent): void => {
    if (e.type !== 'export.try') return;
    if (!tryId.value) {
      if (starting.value) early.push({ tryId: e.tryId, event: e.event });
      return;
    }
    if (e.tryId !== tryId.value) return;
    const done = applyTryEvent(sides, e.event);
    if (done) end.value = done;
  };
  const off = getClient().on(onEvent);
  onUnmounted(off);

  async function refreshStatus(): Promise<void> {
    try {
      status.value = await getClient().call('export.llama', {});
      statusError.value = null;
    } catch (e) {
      statusError.value = errorText(e);
    }
  }
  void refreshStatus();

  const running = computed(() => starting.value || (tryId.value !== null && end.value === null));

  /** Ask both: the bundle of run `runId` at `destDir` (default its exports/ folder). */
  async function start(bundle: { runId: string; destDir?: string }): Promise<void> {
    if (running.value || !prompt.value.trim()) return;
    for (const s of TRY_SIDES) Object.assign(sides[s], fresh());
    end.value = null;
    error.value = null;
    tryId.value = null;
    early = [];
    starting.value = true;
    try {
      const r = await getClient().call('export.try', {
        ...bundle, ...(fileSet.value ? { files: fileSet.value } : {}), messages: [{ role: 'user', content: prompt.value }],
        temperature: temperature.value, seed: seed.value, maxNewTokens: maxNewTokens.value,
      });
      files.value = r.files;
      tryId.value = r.tryId;
      for (const x of early) if (x.tryId === r.tryId) onEvent({ type: 'export.try', ...x });
    } catch (e) {
      error.value = errorText(e);
    } finally {
      early = [];
      starting.value = false;
    }
  }

  const difference = computed(() => (end.value?.sameTokens === false ? firstDifference(sides['llama.cpp'].tokens, sides.engine.tokens) : null));
  return { status, statusError, prompt, temperature, seed, maxNewTokens, fileSet, tryId, files, sides, end, error, running, difference, start, refreshStatus };
}

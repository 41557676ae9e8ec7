// The Chat view's state: the base model (the one chosen in Model & data unless another is picked), the adapter (none,
// a finished run's adapter/, or a PEFT folder), the prompt, the sampling settings (every numeric field of
// core/api/generate.ts SamplingSchema, with its defaults; checked by the schema itself), and the generations the
// service streams back (generate.start, then `generate` service events: each answer's tokens, its result, the end).
// Events may arrive before generate.start's answer; they are kept under their generation id either way.
import { defineStore } from 'pinia';
import { computed, ref } from 'vue';
import type { Answer, GenerateEvent, GenerateStartParams, RunSummary, ServiceError, ServiceEvent } from '../../../core/api/contract';
import { fieldsOf, issueText, labelOf } from '../../../core/api/fields';
import { SamplingSchema, type GenerateResult, type Sampling } from '../../../core/api/generate';
import { getClient } from '../api';

/** The sampling controls: the numeric fields of the schema (the stop strings stay the CLI's). */
export const SAMPLING_FIELDS = fieldsOf(SamplingSchema).filter((f) => f.type.kind === 'number');
export type SamplingKey = (typeof SAMPLING_FIELDS)[number]['key'] & keyof Sampling;
/** The form: each control's value as typed ('' is an emptied field: the schema's default). */
export type SamplingForm = Record<string, number | ''>;

export function defaultSampling(): SamplingForm {
  const d = SamplingSchema.parse({}) as Record<string, unknown>;
  return Object.fromEntries(SAMPLING_FIELDS.map((f) => [f.key, d[f.key] as number]));
}

/** The form's values as sampling settings, or the first issue of each field in the form's words. */
export function samplingOf(form: SamplingForm): { sampling: Sampling | null; issues: { field: string; message: string }[] } {
  const given = Object.fromEntries(Object.entries(form).filter(([, v]) => v !== ''));
  const r = SamplingSchema.safeParse(given);
  if (r.success) return { sampling: r.data, issues: [] };
  const label = (k: string): string => labelOf(SamplingSchema, k);
  const issues: { field: string; message: string }[] = [];
  for (const i of r.error.issues) {
    const field = String(i.path[0]);
    if (!issues.some((x) => x.field === field)) issues.push({ field, message: issueText(i, label(field), undefined, label) });
  }
  return { sampling: null, issues };
}

export interface AnswerState {
  text: string;
  tokens: number;
  status: 'waiting' | 'streaming' | 'done';
  /** performance.now() when the first and the latest token arrived (the live tokens/s). */
  firstAt: number | null;
  lastAt: number | null;
  result: GenerateResult | null;
}

export interface Generation {
  id: string;
  answers: Answer[];
  promptTokens: number | null;
  status: 'running' | 'done' | 'cancelled' | 'failed';
  error: ServiceError | null;
  byAnswer: Record<Answer, AnswerState>;
}

const emptyAnswer = (): AnswerState => ({ text: '', tokens: 0, status: 'waiting', firstAt: null, lastAt: null, result: null });

function emptyGeneration(id: string): Generation {
  return { id, answers: [], promptTokens: null, status: 'running', error: null, byAnswer: { base: emptyAnswer(), adapter: emptyAnswer() } };
}

/** Fold one event into a generation (in place). */
export function applyGenerateEvent(g: Generation, e: GenerateEvent, now: number): Generation {
  switch (e.type) {
    case 'answer':
      g.byAnswer[e.answer] = { ...emptyAnswer(), status: 'streaming' };
      break;
    case 'token': {
      const a = g.byAnswer[e.answer];
      a.status = 'streaming';
      a.text += e.text;
      // A last event of the same index carries held-back text only.
      if (e.index >= a.tokens) a.tokens = e.index + 1;
      a.firstAt ??= now;
      a.lastAt = now;
      break;
    }
    case 'result': {
      const a = g.byAnswer[e.answer];
      a.result = e.result;
      a.text = e.result.text;
      a.tokens = e.result.tokens.length;
      a.status = 'done';
      break;
    }
    case 'end':
      g.status = e.status;
      g.error = e.error ?? null;
      break;
  }
  return g;
}

/** Tokens per second of an answer: its decode rate when done, else as measured here while it streams. */
export function tokensPerSecond(a: AnswerState): number | null {
  if (a.result) return a.result.decodeTokensPerSecond || null;
  if (a.firstAt === null || a.lastAt === null || a.tokens < 2 || a.lastAt <= a.firstAt) return null;
  return ((a.tokens - 1) * 1000) / (a.lastAt - a.firstAt);
}

export const useChatStore = defineStore('chat', () => {
  /** The base model folder; '' = the one chosen in Model & data. */
  const modelDir = ref('');
  const adapterKind = ref<'none' | 'run' | 'folder'>('none');
  /** The run whose adapter is used (its folder, from the Runs list). */
  const runDir = ref('');
  const adapterDir = ref('');
  const prompt = ref('');
  /** Through the model's chat template (a user turn and the generation prompt), or the text as it is. */
  const chatTemplate = ref(true);
  const sampling = ref<SamplingForm>(defaultSampling());
  const generations = ref<Record<string, Generation>>({});
  const currentId = ref<string | null>(null);
  const error = ref<string | null>(null);
  const starting = ref(false);

  const checked = computed(() => samplingOf(sampling.value));
  const current = computed(() => (currentId.value ? generations.value[currentId.value] ?? null : null));
  const running = computed(() => starting.value || current.value?.status === 'running');

  function generationFor(id: string): Generation {
    if (!generations.value[id]) generations.value[id] = emptyGeneration(id);
    return generations.value[id];
  }

  function onEvent(e: ServiceEvent): void {
    if (e.type === 'generate') applyGenerateEvent(generationFor(e.generationId), e.event, performance.now());
  }

  /** The request for the current choices; `base` is the model folder when no run names it. */
  function request(base: string | null, profile: string): GenerateStartParams | null {
    const s = checked.value.sampling;
    const text = prompt.value.trim();
    if (!s || !text) return null;
    const model = modelDir.value || base;
    const adapter = adapterKind.value === 'run' && runDir.value ? { runDir: runDir.value } : adapterKind.value === 'folder' && adapterDir.value.trim() ? { adapterDir: adapterDir.value.trim() } : null;
    if (!adapter && !model) return null;
    return {
      // With a run, its own base model unless another was picked here.
      ...(adapter && 'runDir' in adapter && !modelDir.value ? {} : { modelDir: model! }),
      ...(adapter ?? {}),
      profile,
      ...(chatTemplate.value ? { messages: [{ role: 'user', content: text }] } : { prompt: text }),
      ...s,
      answers: adapter ? ['base', 'adapter'] : ['base'],
    };
  }

  /** Start a generation; it becomes the one the view shows. Errors show in `error`. */
  async function start(params: GenerateStartParams): Promise<void> {
    starting.value = true;
    error.value = null;
    try {
      const r = await getClient().call('generate.start', params);
      const g = generationFor(r.generationId);
      g.answers = r.answers;
      g.promptTokens = r.promptTokens;
      currentId.value = r.generationId;
    } catch (e) {
      error.value = e instanceof Error ? e.message : String(e);
    } finally {
      starting.value = false;
    }
  }

  async function cancel(): Promise<void> {
    if (currentId.value) await getClient().call('generate.cancel', { generationId: currentId.value });
  }

  /** "Try it" from a finished run: its adapter, with its own base model. */
  function useRun(run: Pick<RunSummary, 'dir'>): void {
    adapterKind.value = 'run';
    runDir.value = run.dir;
    modelDir.value = '';
  }

  return {
    modelDir, adapterKind, runDir, adapterDir, prompt, chatTemplate, sampling, generations, currentId, current, running, error, starting, checked,
    onEvent, request, start, cancel, useRun,
  };
});

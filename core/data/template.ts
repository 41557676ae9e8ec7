// Where chat templates run. A chat template is a program from the model folder (HF's Jinja chat_template): it may loop
// for ever or write gigabytes (`{% for i in range(1000000000) %}`). Rendering goes through a TemplateRunner the host
// injects into the tokenizer: the Node host (core/node/template-worker.ts) renders in a worker thread with a time,
// output and heap limit, off the service's main thread; the in-process runner here (tests, tools) limits the output
// only, since a synchronous render cannot be interrupted. Either way a template that breaks a limit is a
// TemplateLimitError naming the template's file, and one that raises (HF's raise_exception) a TemplateError.
// Pure TS: the Jinja interpreter is @huggingface/jinja, as in transformers.js.
import { Template } from '@huggingface/jinja';
import { errorMessage, FormatError } from '../common/errors';

/** The variables a chat template sees (messages, add_generation_prompt, the special tokens): plain JSON. */
export type TemplateContext = Record<string, unknown>;

export interface TemplateLimits {
  /** Characters one render may produce. */
  maxOutputChars: number;
  /** Milliseconds one render may take (enforced where the runner can interrupt it: a worker). */
  timeoutMs: number;
  /** Heap of the worker that renders, in MB (a template that allocates without bound ends there). */
  maxHeapMb: number;
}

/** Far above any real conversation's render (a 32k-token chat is ~150k characters), far below what hurts. */
export const TEMPLATE_LIMITS: TemplateLimits = { maxOutputChars: 16_000_000, timeoutMs: 10_000, maxHeapMb: 256 };

/** Why a render did not produce text: the template raised, or it broke a limit. */
export type TemplateFailure = 'raised' | 'output' | 'time' | 'memory';

/** A render that failed, before the tokenizer names the template's file in it. */
export class TemplateError extends Error {
  constructor(readonly kind: TemplateFailure, message: string) {
    super(message);
    this.name = 'TemplateError';
  }
}

/** A template that broke the time, output or memory limit: bad input in the model folder, naming its file. */
export class TemplateLimitError extends FormatError {
  readonly kind: Exclude<TemplateFailure, 'raised'>;
  /** The limit broken, without the file and the advice. */
  readonly detail: string;
  /** `detail` is limitMessage's; `where` the row being rendered ("data.jsonl line 3"), when known. */
  constructor(file: string, kind: Exclude<TemplateFailure, 'raised'>, detail: string, where?: string) {
    super(file, `${detail}${where ? ` while rendering ${where}` : ''}. Fix the chat template, or give the rows as {"prompt", "completion"}.`);
    this.kind = kind;
    this.detail = detail;
  }
}

/** Renders a template's source with a context; rejects with a TemplateError. */
export interface TemplateRunner {
  render(source: string, context: TemplateContext): Promise<string>;
}

/** The message of a limit, as both runners word it. */
export function limitMessage(kind: Exclude<TemplateFailure, 'raised'>, limits: TemplateLimits): string {
  switch (kind) {
    case 'output':
      return `the chat template wrote more than ${limits.maxOutputChars} characters for one conversation`;
    case 'time':
      return `the chat template ran longer than ${limits.timeoutMs / 1000} s for one conversation (a loop that does not end?)`;
    case 'memory':
      return `the chat template used more than ${limits.maxHeapMb} MB of memory for one conversation (a loop over a huge range?)`;
  }
}

const compiled = new Map<string, Template>();

/** Compile (once per source) and render in this thread, with the output limit. Throws TemplateError. */
export function renderInProcess(source: string, context: TemplateContext, limits: TemplateLimits = TEMPLATE_LIMITS): string {
  let t = compiled.get(source);
  if (!t) {
    try {
      t = new Template(source);
    } catch (e) {
      throw new TemplateError('raised', `chat_template is not a valid Jinja template: ${errorMessage(e)}`);
    }
    if (compiled.size > 32) compiled.clear();
    compiled.set(source, t);
  }
  let text: string;
  try {
    text = t.render(context);
  } catch (e) {
    if (e instanceof RangeError && /Invalid (string|array) length/.test(e.message)) throw new TemplateError('output', limitMessage('output', limits));
    throw new TemplateError('raised', errorMessage(e));
  }
  if (text.length > limits.maxOutputChars) throw new TemplateError('output', limitMessage('output', limits));
  return text;
}

/** Renders in this thread: the output is limited, the time is not (the Node host injects a worker instead). */
export const inProcessRunner: TemplateRunner = {
  render: (source, context) => Promise.resolve().then(() => renderInProcess(source, context)),
};

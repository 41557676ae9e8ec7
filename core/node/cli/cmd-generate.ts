// `mesp generate` and `mesp chat`: text from a model folder, with a PEFT adapter or a run's adapter applied unmerged,
// under a device profile's cap (core/node/service/generate.ts). generate streams one reply, then prints prefill and
// decode tokens/s and the peak memory by category (--json: one object); chat keeps a conversation through the
// model's chat template, with /reset, /exit, and Ctrl-C or end of input to end it cleanly.
import { existsSync, readFileSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import type { z } from 'zod';
import {
  ChatMessageSchema, ChatSettingsSchema, GenerateJsonSchema, GenerateRequestSchema, type GenerateResult,
} from '../../api/generate';
import { ConfigError, FormatError } from '../../common/errors';
import type { ChatMessage } from '../../data/tokenizer';
import { GenerateSession, runDefaults, runGenerate } from '../service/generate';
import { UsageError, choiceFlag, parseFlags, type FlagSpec } from './args';
import { mb, peakTable } from './format';

const SAMPLING_HELP = `  --max-new-tokens N     new tokens at most (default 128)
  --temperature T        0 = greedy (default 0.7)        --top-k K   keep the K most likely (default 0 = off)
  --top-p P              nucleus mass in (0, 1] (default 1 = off)
  --repetition-penalty R > 1 discourages tokens already in the sequence (default 1 = off)
  --seed S               the sampling seed: the same seed gives the same tokens (default 0)
  --stop TEXT            end the reply before TEXT (repeatable); it also ends at the model's EOS tokens
  --quant none|int8|int4 quantize the frozen weights on load (default none, or the run's)
  --profile ID|FILE      device profile whose budget is the hard cap (default phone-8gb, or the run's)
  --cap-bytes N          a smaller cap than the profile's (bytes)`;

export const GENERATE_HELP = `mesp generate --model DIR [--adapter DIR | --run RUN_DIR] (--prompt TEXT | --prompt-ids 1,2,3 | --messages FILE)
              [sampling flags] [--json]
  Generate a reply: the prompt is prefilled into a KV cache sized for the prompt + --max-new-tokens (refused before
  any work when it would not fit under the cap), then tokens are chosen one at a time and streamed to stdout.
  Prefill and decode tokens/s and the peak memory by category follow on stderr. Ctrl-C stops the reply (exit 130).
  --model DIR            HF Qwen2 folder (with --run: defaults to the run's base model)
  --adapter DIR          a PEFT adapter folder          --run RUN_DIR   a run folder's adapter/ (newest checkpoint)
  --prompt TEXT          plain text, tokenized as is (no chat template)
  --prompt-ids LIST      token ids, comma-separated
  --messages FILE        a JSON chat, [{"role": "user", "content": "..."}] or {"messages": [...]}: the model's chat
                         template with the assistant's generation prompt
${SAMPLING_HELP}
  --json                 print one object: tokens, text, promptTokens, finishReason, prefillTokensPerSecond,
                         decodeTokensPerSecond, peakBytes`;

export const CHAT_HELP = `mesp chat --model DIR [--adapter DIR | --run RUN_DIR] [--system TEXT] [sampling flags]
  An interactive chat in the terminal through the model's chat template, keeping the conversation. Type a message and
  Enter; /reset clears the history, /exit (or the end of input, or Ctrl-C) ends the chat. Each reply streams to stdout;
  its tokens/s go to stderr. The oldest turns are dropped when the conversation outgrows the model's context.
  --model DIR            an instruct model folder (its tokenizer_config.json has a chat_template)
  --adapter DIR          a PEFT adapter folder          --run RUN_DIR   a run folder's adapter/
  --system TEXT          a system message at the start of the conversation
${SAMPLING_HELP}`;

const SAMPLING_FLAGS: FlagSpec = {
  'max-new-tokens': { type: 'string' }, temperature: { type: 'string' }, 'top-k': { type: 'string' }, 'top-p': { type: 'string' },
  'repetition-penalty': { type: 'string' }, seed: { type: 'string' }, stop: { type: 'string', multiple: true },
  quant: { type: 'string' }, profile: { type: 'string' }, 'cap-bytes': { type: 'string' },
  model: { type: 'string' }, adapter: { type: 'string' }, run: { type: 'string' },
};

/** Request field → the flag that sets it, for messages. */
const FLAG_OF: Record<string, string> = {
  modelDir: 'model', adapterDir: 'adapter', runDir: 'run', quant: 'quant', profile: 'profile', capBytes: 'cap-bytes',
  prompt: 'prompt', promptIds: 'prompt-ids', messages: 'messages', maxNewTokens: 'max-new-tokens', temperature: 'temperature',
  topK: 'top-k', topP: 'top-p', repetitionPenalty: 'repetition-penalty', seed: 'seed', stop: 'stop',
};

type Flags = Record<string, string | boolean | string[] | undefined>;

/** A number flag, or undefined when absent (the schema's default applies). Ranges are the schema's. */
function num(v: Flags, name: string): number | undefined {
  const s = v[name];
  if (s === undefined) return undefined;
  const n = Number(s);
  if (typeof s !== 'string' || s.trim() === '' || !Number.isFinite(n)) throw new UsageError(`--${name} must be a number, got "${String(s)}"`);
  return n;
}

function issueText(i: z.core.$ZodIssue): string {
  switch (i.code) {
    case 'too_small':
      return i.origin === 'array' ? `needs at least ${i.minimum} value${i.minimum === 1 ? '' : 's'}` : `must be ${i.inclusive ? '≥' : '>'} ${i.minimum}`;
    case 'too_big':
      return `must be ${i.inclusive ? '≤' : '<'} ${i.maximum}`;
    case 'invalid_type':
      return i.expected === 'int' ? 'must be an integer' : `must be ${i.expected}`;
    default:
      return i.message;
  }
}

/** What a failed cross-field check of the request means on the command line. */
const CUSTOM_TEXT: Record<string, string> = {
  prompt: 'give exactly one of --prompt, --prompt-ids or --messages', promptIds: 'give exactly one of --prompt, --prompt-ids or --messages',
  messages: 'give exactly one of --prompt, --prompt-ids or --messages', runDir: 'give --adapter DIR or --run RUN_DIR, not both',
};

/** Validate with the command's schema; a bad value is a usage error naming the flag and the value. */
function checked<S extends z.ZodType>(schema: S, req: Record<string, unknown>, v: Flags): z.input<S> {
  const r = schema.safeParse(req);
  if (r.success) return req as z.input<S>;
  const i = r.error.issues[0];
  const field = String(i.path[0]);
  if (i.code === 'custom') throw new UsageError(`${CUSTOM_TEXT[field] ?? i.message}`);
  const flag = FLAG_OF[field] ?? field;
  const raw = v[flag];
  const got = raw === undefined || typeof raw === 'boolean' ? '' : `, got "${Array.isArray(raw) ? raw.join(',') : raw}"`;
  throw new UsageError(`--${flag} ${issueText(i)}${got}`);
}

function promptIdsFlag(s: string): number[] {
  const parts = s.split(',').map((x) => x.trim());
  const ids = parts.map(Number);
  const bad = parts.findIndex((x, k) => x === '' || !Number.isInteger(ids[k]) || ids[k] < 0);
  if (bad >= 0) throw new UsageError(`--prompt-ids must be token ids separated by commas (e.g. 9707,11,1879), got "${parts[bad]}" at position ${bad + 1}`);
  return ids;
}

/** A chat file: a JSON list of {"role", "content"}, or {"messages": [...]}. */
export function readMessagesFile(file: string): ChatMessage[] {
  const path = resolve(file);
  if (!existsSync(path)) throw new ConfigError('does not exist; give a JSON file with [{"role": "user", "content": "..."}]', { file: path, field: 'messages' });
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new FormatError(path, `is not valid JSON (${(e as Error).message})`);
  }
  const list = Array.isArray(json) ? json : typeof json === 'object' && json !== null && 'messages' in json ? (json as { messages: unknown }).messages : null;
  if (!Array.isArray(list) || list.length === 0) throw new FormatError(path, 'must hold a non-empty list of messages, [{"role": "user", "content": "..."}], or {"messages": [...]}');
  return list.map((m, k) => {
    const r = ChatMessageSchema.safeParse(m);
    if (!r.success) throw new FormatError(path, `message ${k}: ${r.error.issues[0].path.join('.') || 'the message'}: ${r.error.issues[0].message}; each message is {"role": "...", "content": "..."}`);
    return r.data;
  });
}

/** The model, adapter and sampling part of a request from the shared flags (absent flags stay absent). */
function baseRequest(v: Flags, command: string): Record<string, unknown> {
  const run = typeof v.run === 'string' ? v.run : undefined;
  const model = typeof v.model === 'string' ? v.model : run ? runDefaults(run).modelDir : undefined;
  if (!model) throw new UsageError(`--model is required (or --run RUN_DIR). Run \`mesp ${command} --help\`.`);
  return {
    modelDir: model, adapterDir: v.adapter as string | undefined, runDir: run,
    quant: v.quant === undefined ? undefined : choiceFlag(v, 'quant', command, ['none', 'int8', 'int4'] as const, 'none'),
    profile: v.profile as string | undefined,
    capBytes: num(v, 'cap-bytes'),
    maxNewTokens: num(v, 'max-new-tokens'), temperature: num(v, 'temperature'), topK: num(v, 'top-k'),
    topP: num(v, 'top-p'), repetitionPenalty: num(v, 'repetition-penalty'), seed: num(v, 'seed'),
    stop: v.stop as string[] | undefined,
  };
}

function summary(r: GenerateResult): string {
  return `[${r.finishReason}: ${r.tokens.length} new tokens after a prompt of ${r.promptTokens}; prefill ${r.prefillTokensPerSecond.toFixed(1)} tokens/s, ` +
    `decode ${r.decodeTokensPerSecond.toFixed(1)} tokens/s]`;
}

export async function cmdGenerate(argv: string[]): Promise<number> {
  const v = parseFlags(argv, { ...SAMPLING_FLAGS, prompt: { type: 'string' }, 'prompt-ids': { type: 'string' }, messages: { type: 'string' }, json: { type: 'boolean' } }, 'generate') as Flags;
  const req = checked(GenerateRequestSchema, {
    ...baseRequest(v, 'generate'),
    prompt: v.prompt as string | undefined,
    promptIds: typeof v['prompt-ids'] === 'string' ? promptIdsFlag(v['prompt-ids']) : undefined,
    messages: typeof v.messages === 'string' ? readMessagesFile(v.messages) : undefined,
  }, v);
  const json = !!v.json;
  let stopping = false;
  const onSigint = (): void => {
    stopping = true;
  };
  process.once('SIGINT', onSigint);
  let r: GenerateResult;
  try {
    r = await runGenerate(req, {}, {
      onToken: (e) => {
        if (!json && e.text) process.stdout.write(e.text);
      },
      shouldStop: () => stopping,
    });
  } finally {
    process.off('SIGINT', onSigint);
  }
  if (json) {
    process.stdout.write(JSON.stringify(GenerateJsonSchema.parse(r)) + '\n');
  } else {
    process.stdout.write('\n');
    console.error(summary(r));
    console.error(`profile ${r.profile}, cap ${mb(r.capBytes)}; KV cache ${(r.kvCacheBytes / 1e6).toFixed(3)} MB; planned peak ${mb(r.predictedPeakBytes)}${r.adapterDir ? `; adapter ${r.adapterDir}` : ''}`);
    console.error(peakTable(r.peakBytes));
  }
  return r.finishReason === 'cancelled' ? 130 : 0;
}

export async function cmdChat(argv: string[]): Promise<number> {
  const v = parseFlags(argv, { ...SAMPLING_FLAGS, system: { type: 'string' } }, 'chat') as Flags;
  const settings = checked(ChatSettingsSchema, baseRequest(v, 'chat'), v);
  const maxNewTokens = ChatSettingsSchema.parse(settings).maxNewTokens;
  const session = await GenerateSession.open(settings);
  const tty = !!process.stdin.isTTY;
  const rl = createInterface({ input: process.stdin, output: process.stdout, terminal: tty, prompt: 'you> ' });
  let ending = false;
  const end = (): void => {
    ending = true;
    rl.close();
  };
  process.on('SIGINT', end);
  rl.on('SIGINT', end);
  try {
    const tok = session.tokenizer;
    if (!tok) throw new ConfigError(`${session.folder.dir} has no tokenizer.json, so it cannot chat`, { field: 'model' });
    if (tok.chatTemplate === null) {
      throw new FormatError(tok.files.config ?? tok.files.tokenizer, 'has no chat_template, so mesp chat cannot format a conversation; use an instruct model, or mesp generate --prompt for a base model');
    }
    const system: ChatMessage[] = typeof v.system === 'string' ? [{ role: 'system', content: v.system }] : [];
    let history: ChatMessage[] = [...system];
    const positions = session.folder.config.maxPositions;
    console.error(`chat with ${basename(session.folder.dir)}${session.adapterDir ? ` + adapter ${session.adapterDir}` : ''} (profile ${session.profile.id}). /reset clears the history, /exit or Ctrl-C ends.`);
    if (tty) rl.prompt();
    for await (const line of rl) {
      const text = line.trim();
      if (text === '/exit' || text === '/quit') break;
      if (text === '/reset') {
        history = [...system];
        console.error('(history cleared)');
        if (tty) rl.prompt();
        continue;
      }
      if (!text) {
        if (tty) rl.prompt();
        continue;
      }
      history.push({ role: 'user', content: line });
      let ids = session.chatIds(history);
      while (ids.length + maxNewTokens > positions && history.length > system.length + 1) {
        history.splice(system.length, history[system.length].role === 'user' && history.length > system.length + 2 ? 2 : 1);
        ids = session.chatIds(history);
        console.error('(the oldest turn was dropped: the conversation outgrew the model\'s context)');
      }
      if (ids.length + maxNewTokens > positions) {
        console.error(`that message is too long: ${ids.length} tokens + --max-new-tokens ${maxNewTokens} is over the model's ${positions} positions`);
        history.pop();
        if (tty) rl.prompt();
        continue;
      }
      const r = await session.generate(ids, settings, {
        onToken: (e) => {
          if (e.text) process.stdout.write(e.text);
        },
        shouldStop: () => ending,
      });
      process.stdout.write('\n');
      console.error(summary(r));
      if (r.finishReason === 'cancelled' || ending) break;
      history.push({ role: 'assistant', content: r.text });
      if (tty) rl.prompt();
    }
  } finally {
    process.off('SIGINT', end);
    rl.close();
    session.close();
  }
  console.error('chat ended');
  return 0;
}

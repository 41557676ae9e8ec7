// `mesp generate` and `mesp chat`: text from a model folder, with a PEFT adapter or a run's adapter applied unmerged,
// under a device profile's cap (core/node/service/generate.ts). generate streams one reply, then prints prefill and
// decode tokens/s and the peak memory by category (--json: one object); chat keeps a conversation through the
// model's chat template, with /reset, /exit, and Ctrl-C or end of input to end it cleanly. Their flags, parsing and
// --help come from core/api/generate.ts's schemas (core/node/cli/flags.ts); only --messages FILE, --system and
// --json are the commands' own.
import { existsSync, readFileSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { z } from 'zod';
import { described } from '../../api/fields';
import {
  ChatMessageSchema, ChatSettingsSchema, GenerateJsonSchema, GenerateModelFields, PromptSchema, SamplingSchema,
  checkModel, checkPrompt, type GenerateRequest, type GenerateResult,
} from '../../api/generate';
import { ConfigError, FormatError } from '../../common/errors';
import type { ChatMessage } from '../../data/tokenizer';
import { GenerateSession, runGenerate } from '../service/generate';
import { EXIT_STOPPED } from './cmd-train';
import { command, givenValues } from './flags';
import { mb, peakTable } from './format';

/** `mesp generate`'s own flags: the chat file (read into the request's messages) and the output. */
export const GenerateOptionsSchema = z.object({
  messages: described(z.string().min(1).optional(), {
    label: 'Messages file', arg: 'FILE', group: 'prompt',
    help: 'a JSON chat, [{"role": "user", "content": "..."}] or {"messages": [...]}: the model\'s chat template with the assistant\'s generation prompt',
  }),
  json: described(z.boolean().default(false), {
    label: 'JSON', group: 'output', help: 'print one object: tokens, text, promptTokens, finishReason, prefillTokensPerSecond, decodeTokensPerSecond, peakBytes',
  }),
});

const GENERATE_FLAGS = GenerateModelFields.extend(PromptSchema.omit({ messages: true }).shape).extend(SamplingSchema.shape);

export const GENERATE = command({
  usage: ['mesp generate --model DIR [--adapter DIR | --run RUN_DIR] (--prompt TEXT | --prompt-ids 1,2,3 | --messages FILE) [flags] [--json]'],
  about: 'Generate a reply: the prompt is prefilled into a KV cache sized for the prompt + --max-new-tokens (refused before\n' +
    'any work when it would not fit under the cap), then tokens are chosen one at a time and streamed to stdout.\n' +
    'Prefill and decode tokens/s and the peak memory by category follow on stderr. Ctrl-C stops the reply (exit 130).',
  shape: [GENERATE_FLAGS, GenerateOptionsSchema],
  schema: GENERATE_FLAGS.extend(GenerateOptionsSchema.shape).superRefine((r, ctx) => {
    checkModel(r, ctx);
    checkPrompt(r, ctx);
  }),
});

/** `mesp chat`'s own flag: a system message. */
export const ChatOptionsSchema = z.object({
  system: described(z.string().min(1).optional(), { label: 'System message', arg: 'TEXT', group: 'prompt', help: 'a system message at the start of the conversation' }),
});

export const CHAT = command({
  usage: ['mesp chat --model DIR [--adapter DIR | --run RUN_DIR] [--system TEXT] [flags]'],
  about: 'An interactive chat in the terminal through the model\'s chat template, keeping the conversation. Type a message and\n' +
    'Enter; /reset clears the history, /exit (or the end of input, or Ctrl-C) ends the chat. Each reply streams to stdout;\n' +
    'its tokens/s go to stderr. The oldest turns are dropped when the conversation outgrows the model\'s context.',
  shape: [GenerateModelFields, SamplingSchema, ChatOptionsSchema],
  schema: GenerateModelFields.extend(SamplingSchema.shape).extend(ChatOptionsSchema.shape).superRefine(checkModel),
});

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

function summary(r: GenerateResult): string {
  return `[${r.finishReason}: ${r.tokens.length} new tokens after a prompt of ${r.promptTokens}; prefill ${r.prefillTokensPerSecond.toFixed(1)} tokens/s, ` +
    `decode ${r.decodeTokensPerSecond.toFixed(1)} tokens/s]`;
}

export async function cmdGenerate(argv: string[]): Promise<number> {
  const { values: opts, read } = GENERATE.parse(argv);
  const req = { ...givenValues(read, GenerateOptionsSchema), ...(opts.messages !== undefined ? { messages: readMessagesFile(opts.messages) } : {}) } as GenerateRequest;
  const json = opts.json;
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
  return r.finishReason === 'cancelled' ? EXIT_STOPPED : 0;
}

export async function cmdChat(argv: string[]): Promise<number> {
  const { values: opts, read } = CHAT.parse(argv);
  const settings = givenValues(read, ChatOptionsSchema);
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
    const system: ChatMessage[] = opts.system !== undefined ? [{ role: 'system', content: opts.system }] : [];
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

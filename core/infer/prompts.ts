// Prompts to token ids, one way for every caller (mesp generate and chat, the app, a run's sample prompts): plain
// text is tokenized as HF tokenizer(text) does (the tokenizer's own special tokens, none for Qwen2.5), token ids are
// taken as they are, and chat messages go through the model's chat template with add_generation_prompt (HF
// apply_chat_template(..., add_generation_prompt=True), tokenized without special tokens: the template writes them).
// Also the sample-prompts file of a training run: jsonl, one prompt a line, as a JSON string, {"prompt": ...},
// {"messages": [...]} or a bare list of messages. Pure TS.
import { PromptSchema, type ChatMessageInput, type PromptInput } from '../api/generate';
import { ConfigError, DataError } from '../common/errors';
import type { TextTokenizer } from '../data/tokenizer';

/** The prompt's token ids. Text and messages need the tokenizer; messages need its chat template. */
export function promptIds(tokenizer: TextTokenizer | null, p: PromptInput): number[] {
  if (p.promptIds) return [...p.promptIds];
  if (!tokenizer) {
    throw new ConfigError('the model folder has no tokenizer.json, so a text prompt cannot be tokenized; give token ids (--prompt-ids)', { field: p.messages ? 'messages' : 'prompt' });
  }
  if (p.messages) return chatPromptIds(tokenizer, p.messages);
  return tokenizer.encode(p.prompt ?? '');
}

/** The conversation so far, rendered with the chat template and the assistant's generation prompt. */
export function chatPromptIds(tokenizer: TextTokenizer, messages: readonly ChatMessageInput[]): number[] {
  return tokenizer.encode(tokenizer.applyChatTemplate(messages, { addGenerationPrompt: true }), { addSpecialTokens: false });
}

export interface SamplePrompt {
  /** 1-based line in the file. */
  line: number;
  /** What a reply is shown under: the text, or the last user message. */
  label: string;
  prompt: PromptInput;
}

/** Parse a sample-prompts jsonl; errors name the file and the line. */
export function parseSamplePrompts(text: string, file: string): SamplePrompt[] {
  const out: SamplePrompt[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = i + 1;
    if (!raw.trim()) return;
    let v: unknown;
    try {
      v = JSON.parse(raw);
    } catch (e) {
      throw new DataError(file, line, `not valid JSON (${(e as Error).message}); write one prompt a line: "text", {"prompt": "..."} or {"messages": [...]}`);
    }
    const candidate = typeof v === 'string' ? { prompt: v } : Array.isArray(v) ? { messages: v } : v;
    const r = PromptSchema.pick({ prompt: true, messages: true }).strict().safeParse(candidate);
    if (!r.success || (r.data.prompt === undefined) === (r.data.messages === undefined)) {
      const why = r.success ? 'give "prompt" or "messages", one of them' : `${r.error.issues[0].path.join('.') || 'the line'}: ${r.error.issues[0].message}`;
      throw new DataError(file, line, `not a prompt (${why}); write "text", {"prompt": "..."} or {"messages": [{"role": "user", "content": "..."}]}`);
    }
    const lastUser = r.data.messages ? [...r.data.messages].reverse().find((m) => m.role === 'user') : undefined;
    out.push({ line, label: r.data.prompt ?? lastUser?.content ?? r.data.messages![r.data.messages!.length - 1].content, prompt: r.data });
  });
  if (!out.length) throw new DataError(file, 1, 'holds no prompts; write one prompt a line');
  return out;
}

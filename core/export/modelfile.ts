// Ollama's Modelfile for a bundle's GGUF files (Ollama docs/modelfile.md): FROM the model GGUF, ADAPTER the GGUF LoRA
// (when the base is used with the adapter), TEMPLATE the chat template in Go's text/template syntax as Ollama renders
// it (.Messages with .Role and .Content), SYSTEM the template's default system prompt, PARAMETER stop per end-of-turn
// token. The Jinja chat template of tokenizer_config.json is not run by Ollama, so we write the Go template of the
// same format: ChatML (<|im_start|>role\ncontent<|im_end|>\n per message, then <|im_start|>assistant\n), which is what
// every Qwen2/Qwen2.5 template renders for plain chats (tools aside). A template that is not ChatML gets a plain
// prompt pass-through and the caller says so. Pure TS: text in, text out.

export interface ModelfileInput {
  /** Path of the model GGUF, relative to the Modelfile ("./base.gguf"). */
  from: string;
  /** Path of the GGUF LoRA, relative to the Modelfile, or null (a merged model). */
  adapter: string | null;
  /** The Jinja chat template of the tokenizer, if any. */
  chatTemplate: string | null;
  /** Token texts that end a turn (PARAMETER stop). */
  stopTokens: readonly string[];
  /** A comment line on top (what the model is). */
  title: string;
}

/** ChatML in Ollama's Go template: every message as <|im_start|>{role}\n{content}<|im_end|>\n, then the assistant's turn. */
export const CHATML_GO_TEMPLATE = [
  '{{- range .Messages }}<|im_start|>{{ .Role }}',
  '{{ .Content }}<|im_end|>',
  '{{ end }}<|im_start|>assistant',
  '',
].join('\n');

/** A plain pass-through for templates we cannot translate. */
export const PLAIN_GO_TEMPLATE = '{{ .Prompt }}';

/** Whether a Jinja chat template is ChatML (Qwen2's): it writes <|im_start|> and <|im_end|> around each turn. */
export function isChatMl(template: string | null): boolean {
  return !!template && template.includes('<|im_start|>') && template.includes('<|im_end|>');
}

/**
 * The system prompt a ChatML template writes when the conversation has none (Qwen2.5's "You are Qwen, created by
 * Alibaba Cloud. ..."), read from the literal `'<|im_start|>system\n...<|im_end|>` in the template; null if none.
 */
export function defaultSystemPrompt(template: string | null): string | null {
  if (!template) return null;
  const m = /<\|im_start\|>system\\n([^'"{}+\\]*)<\|im_end\|>/.exec(template);
  return m ? m[1] : null;
}

function quoted(s: string): string {
  return `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/** The Modelfile text, and whether the chat template was translated (false: a plain prompt template). */
export function buildModelfile(m: ModelfileInput): { text: string; chatMl: boolean } {
  const chatMl = isChatMl(m.chatTemplate);
  const system = chatMl ? defaultSystemPrompt(m.chatTemplate) : null;
  const lines = [`# ${m.title}`, '# Ollama: `ollama create NAME -f path/to/Modelfile`, then `ollama run NAME`. FROM and ADAPTER are relative to this file.', `FROM ${m.from}`];
  if (m.adapter) lines.push(`ADAPTER ${m.adapter}`);
  lines.push(`TEMPLATE """${chatMl ? CHATML_GO_TEMPLATE : PLAIN_GO_TEMPLATE}"""`);
  if (system) lines.push(`SYSTEM """${system}"""`);
  for (const s of m.stopTokens) lines.push(`PARAMETER stop ${quoted(s)}`);
  return { text: lines.join('\n') + '\n', chatMl };
}

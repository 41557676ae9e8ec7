// The text tokenizer of a model folder: tokenizer.json (+ tokenizer_config.json) loaded with @huggingface/tokenizers,
// and the chat template rendered with @huggingface/jinja. Follows Hugging Face transformers' behaviour:
// - `tokenizer(text)` adds special tokens only through tokenizer.json's post-processor (for Qwen2.5: none, no BOS);
// - `apply_chat_template` renders `chat_template` from tokenizer_config.json with `messages`, `add_generation_prompt`
//   and the special-tokens map (bos_token, eos_token, pad_token, unk_token, additional_special_tokens), then is
//   tokenized without adding special tokens (the template writes them);
// - eos/pad/bos come from tokenizer_config.json; pad falls back to eos.
// A chat template is a program from the model folder: renderChat runs it through the injected TemplateRunner
// (core/data/template.ts; the Node host's runs it in a worker with a time, output and memory limit).
// Pure TS: text in, objects out. core/node reads the files (DESIGN.md §1, §7).
import { Tokenizer } from '@huggingface/tokenizers';
import { Template } from '@huggingface/jinja';
import { errorMessage, isJsonObject, FormatError } from '../common/errors';
import { inProcessRunner, renderInProcess, TemplateError, TemplateLimitError, type TemplateContext, type TemplateRunner } from './template';

/** One chat turn as in HF chat templates ({"role", "content"}). */
export interface ChatMessage {
  role: string;
  content: string;
}

/** Names of the files the tokenizer came from, for error messages. */
export interface TokenizerFiles {
  tokenizer: string;
  config?: string;
  /** A separate chat_template.jinja, when the model folder has one (newer HF layout). */
  chatTemplate?: string;
}

export interface EncodeOptions {
  /** As HF's `add_special_tokens`: apply tokenizer.json's post-processor (BOS/EOS templates). Default true. */
  addSpecialTokens?: boolean;
}

/** An entry of tokenizer.json's added_tokens (<|im_start|>, <tool_call>, ...). */
export interface AddedTokenInfo {
  id: number;
  content: string;
  special: boolean;
  /** True when the token is matched with more than its exact text (lstrip, rstrip, single_word or normalized). */
  fuzzy: boolean;
}

export interface ChatTemplateOptions {
  addGenerationPrompt?: boolean;
  /** More template variables (HF passes extra kwargs of apply_chat_template through). */
  extra?: Record<string, unknown>;
}

/** Token strings that may stand for eos when tokenizer_config.json is missing, in order of preference. */
const EOS_FALLBACKS = ['<|endoftext|>', '</s>', '<|end_of_text|>', '<eos>'];

type JsonObject = Record<string, unknown>;

function parseJsonObject(text: string, file: string, what: string): JsonObject {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new FormatError(file, `is not valid JSON (${errorMessage(e)}). Expected ${what}; re-download the model folder.`);
  }
  if (!isJsonObject(value)) throw new FormatError(file, `must hold a JSON object (${what}), found ${describe(value)}.`);
  return value;
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return `a ${typeof v}`;
}

/** A special token in tokenizer_config.json is a string, an AddedToken dict {"content": ...}, or null. */
function tokenString(v: unknown): string | null {
  if (typeof v === 'string') return v;
  if (isJsonObject(v) && typeof v.content === 'string') return v.content;
  return null;
}

/** tokenizer_config.json's chat_template: a string, or a list of {name, template} (HF picks "default"). */
function pickChatTemplate(v: unknown): string | null {
  if (typeof v === 'string') return v;
  if (Array.isArray(v)) {
    const named = v.filter(isJsonObject).filter((t) => typeof t.template === 'string');
    const chosen = named.find((t) => t.name === 'default') ?? named[0];
    return chosen ? (chosen.template as string) : null;
  }
  return null;
}

/** Largest token id + 1 over the model vocabulary and the added tokens. */
function vocabSizeOf(json: JsonObject): number {
  let maxId = -1;
  const model = json.model as JsonObject;
  const vocab = model.vocab;
  if (Array.isArray(vocab)) {
    maxId = vocab.length - 1; // Unigram: [[piece, score], ...], ids are positions
  } else if (isJsonObject(vocab)) {
    for (const id of Object.values(vocab)) if (typeof id === 'number' && id > maxId) maxId = id;
  }
  const added = json.added_tokens;
  if (Array.isArray(added)) {
    for (const t of added) if (isJsonObject(t) && typeof t.id === 'number' && t.id > maxId) maxId = t.id;
  }
  return maxId + 1;
}

export class TextTokenizer {
  /** Largest token id + 1 (vocabulary and added tokens). The model's embedding may be larger (Qwen2.5: 151936). */
  readonly vocabSize: number;
  readonly eosToken: string | null;
  readonly eosId: number | null;
  readonly bosToken: string | null;
  readonly bosId: number | null;
  readonly padId: number;
  readonly chatTemplate: string | null;
  /** Contents of the added tokens marked special (<|im_start|>, <|im_end|>, ...). */
  readonly specialTokens: readonly string[];
  /** Every added token. The text is split at these before BPE, so tokenization never crosses one. */
  readonly addedTokens: readonly AddedTokenInfo[];
  readonly files: TokenizerFiles;

  private readonly tok: Tokenizer;
  private readonly templateVars: Record<string, unknown>;
  private readonly runner: TemplateRunner;
  private compiled: Template | null = null;

  private constructor(init: {
    tok: Tokenizer;
    files: TokenizerFiles;
    vocabSize: number;
    eosToken: string | null;
    eosId: number | null;
    bosToken: string | null;
    bosId: number | null;
    padId: number;
    chatTemplate: string | null;
    specialTokens: string[];
    addedTokens: AddedTokenInfo[];
    templateVars: Record<string, unknown>;
    runner: TemplateRunner;
  }) {
    this.tok = init.tok;
    this.files = init.files;
    this.vocabSize = init.vocabSize;
    this.eosToken = init.eosToken;
    this.eosId = init.eosId;
    this.bosToken = init.bosToken;
    this.bosId = init.bosId;
    this.padId = init.padId;
    this.chatTemplate = init.chatTemplate;
    this.specialTokens = init.specialTokens;
    this.addedTokens = init.addedTokens;
    this.templateVars = init.templateVars;
    this.runner = init.runner;
  }

  /**
   * Builds a tokenizer from the text of tokenizer.json and (optionally) tokenizer_config.json.
   * Throws FormatError naming the file when a file is not JSON, is not a tokenizer, or its chat template does not parse.
   */
  static fromJson(
    tokenizerJsonText: string,
    tokenizerConfigText: string | null,
    files: TokenizerFiles,
    options: { chatTemplateText?: string | null; templateRunner?: TemplateRunner } = {},
  ): TextTokenizer {
    const json = parseJsonObject(tokenizerJsonText, files.tokenizer, 'a Hugging Face tokenizer.json');
    if (!isJsonObject(json.model)) {
      throw new FormatError(files.tokenizer, 'has no "model" object, so it is not a Hugging Face tokenizer.json.');
    }
    const configFile = files.config ?? 'tokenizer_config.json';
    const config = tokenizerConfigText === null ? null : parseJsonObject(tokenizerConfigText, configFile, 'the tokenizer config');

    // tokenizer.json files written by HF always carry these keys (null when unused); hand-written ones may not.
    const full: JsonObject = { normalizer: null, pre_tokenizer: null, post_processor: null, decoder: null, added_tokens: [], ...json };
    if (!Array.isArray(full.added_tokens)) throw new FormatError(files.tokenizer, '"added_tokens" must be a list.');
    // Exact decoding unless the config asks otherwise (transformers' current default).
    const libConfig: JsonObject = { clean_up_tokenization_spaces: false, ...(config ?? {}) };
    let tok: Tokenizer;
    try {
      tok = new Tokenizer(full, libConfig);
    } catch (e) {
      throw new FormatError(files.tokenizer, `cannot be loaded as a tokenizer: ${errorMessage(e)}. Use the tokenizer.json of a Hugging Face model folder.`);
    }

    const idOf = (token: string, field: string): number => {
      const id = tok.token_to_id(token);
      if (id === undefined) {
        throw new FormatError(configFile, `${field} ${JSON.stringify(token)} is not a token of ${files.tokenizer}. Fix ${field} or use the matching tokenizer.json.`);
      }
      return id;
    };

    let eosToken = config ? tokenString(config.eos_token) : null;
    let eosId: number | null = eosToken === null ? null : idOf(eosToken, 'eos_token');
    if (eosToken === null) {
      for (const cand of EOS_FALLBACKS) {
        const id = tok.token_to_id(cand);
        if (id !== undefined) {
          eosToken = cand;
          eosId = id;
          break;
        }
      }
    }
    const bosToken = config ? tokenString(config.bos_token) : null;
    const bosId = bosToken === null ? null : idOf(bosToken, 'bos_token');
    const padToken = config ? tokenString(config.pad_token) : null;
    const padId = padToken !== null ? idOf(padToken, 'pad_token') : (eosId ?? 0);

    let chatTemplate: string | null = options.chatTemplateText ?? null;
    if (chatTemplate === null && config) chatTemplate = pickChatTemplate(config.chat_template);

    const specialTokens: string[] = [];
    const addedTokens: AddedTokenInfo[] = [];
    for (const t of full.added_tokens as unknown[]) {
      if (!isJsonObject(t) || typeof t.content !== 'string' || typeof t.id !== 'number') continue;
      const special = t.special === true;
      if (special) specialTokens.push(t.content);
      const fuzzy = t.lstrip === true || t.rstrip === true || t.single_word === true || (t.normalized === true && full.normalizer !== null);
      addedTokens.push({ id: t.id, content: t.content, special, fuzzy });
    }

    // The special-tokens map HF passes to templates: only the tokens that are set.
    const templateVars: Record<string, unknown> = {};
    if (config) {
      for (const key of ['bos_token', 'eos_token', 'pad_token', 'unk_token']) {
        const s = tokenString(config[key]);
        if (s !== null) templateVars[key] = s;
      }
      if (Array.isArray(config.additional_special_tokens)) {
        templateVars.additional_special_tokens = config.additional_special_tokens.map(tokenString).filter((s) => s !== null);
      }
    } else if (eosToken !== null) {
      templateVars.eos_token = eosToken;
    }

    const tokenizer = new TextTokenizer({
      tok,
      files,
      vocabSize: vocabSizeOf(full),
      eosToken,
      eosId,
      bosToken,
      bosId,
      padId,
      chatTemplate,
      specialTokens,
      addedTokens,
      templateVars,
      runner: options.templateRunner ?? inProcessRunner,
    });
    if (chatTemplate !== null) tokenizer.template(); // a template that does not parse is reported now, not mid-run
    return tokenizer;
  }

  /** Token ids of `text`. Special-token strings in the text (<|im_end|>) become their ids, as in HF. */
  encode(text: string, options: EncodeOptions = {}): number[] {
    return this.tok.encode(text, { add_special_tokens: options.addSpecialTokens ?? true }).ids;
  }

  /** Text of `ids`. Throws FormatError for an id that is not a token of this tokenizer. */
  decode(ids: readonly number[], options: { skipSpecialTokens?: boolean } = {}): string {
    if (ids.length === 0) return '';
    for (const id of ids) {
      if (!Number.isInteger(id) || this.tok.id_to_token(id) === undefined) {
        throw new FormatError(this.files.tokenizer, `cannot decode id ${id}: it is not a token id (0..${this.vocabSize - 1}).`);
      }
    }
    return this.tok.decode([...ids], { skip_special_tokens: options.skipSpecialTokens ?? false });
  }

  tokenToId(token: string): number | null {
    return this.tok.token_to_id(token) ?? null;
  }

  idToToken(id: number): string | null {
    return this.tok.id_to_token(id) ?? null;
  }

  /**
   * Renders the chat template as HF's apply_chat_template(messages, tokenize=False, add_generation_prompt=...), through
   * the injected TemplateRunner (a worker with limits in the Node host). Rejects with FormatError naming the template's
   * file when there is no template or the template raises (e.g. "roles must alternate"), and with TemplateLimitError
   * when it breaks the time, output or memory limit.
   */
  async renderChat(messages: readonly ChatMessage[], options: ChatTemplateOptions = {}): Promise<string> {
    this.template(); // no template, or one that does not parse: reported as before
    try {
      return await this.runner.render(this.chatTemplate!, this.templateContext(messages, options));
    } catch (e) {
      throw this.templateFailure(e);
    }
  }

  /** The same render in this thread (output limited, time not): for callers that cannot wait. */
  applyChatTemplate(messages: readonly ChatMessage[], options: ChatTemplateOptions = {}): string {
    this.template();
    try {
      return renderInProcess(this.chatTemplate!, this.templateContext(messages, options));
    } catch (e) {
      throw this.templateFailure(e);
    }
  }

  private templateContext(messages: readonly ChatMessage[], options: ChatTemplateOptions): TemplateContext {
    return {
      ...this.templateVars,
      ...(options.extra ?? {}),
      messages: messages.map((m) => ({ role: m.role, content: m.content })),
      add_generation_prompt: options.addGenerationPrompt ?? false,
    };
  }

  private templateFailure(e: unknown): Error {
    if (e instanceof TemplateError && e.kind !== 'raised') return new TemplateLimitError(this.templateFile(), e.kind, e.message);
    return new FormatError(this.templateFile(), `the chat template failed: ${errorMessage(e)}`);
  }

  private templateFile(): string {
    return this.files.chatTemplate ?? this.files.config ?? 'tokenizer_config.json';
  }

  private template(): Template {
    if (this.compiled) return this.compiled;
    if (this.chatTemplate === null) {
      throw new FormatError(
        this.files.config ?? this.files.tokenizer,
        'has no chat_template, so {"messages": ...} rows cannot be formatted. Use an instruct model folder ' +
          '(its tokenizer_config.json has a chat_template) or write the rows as {"prompt", "completion"}.',
      );
    }
    try {
      this.compiled = new Template(this.chatTemplate);
    } catch (e) {
      throw new FormatError(this.templateFile(), `chat_template is not a valid Jinja template: ${errorMessage(e)}`);
    }
    return this.compiled;
  }
}

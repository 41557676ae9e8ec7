// The robustness corpus: malformed inputs of every kind `mesp` reads — model folders (config.json, safetensors),
// tokenizers, chat templates, datasets, device profiles, adapters (PEFT, GGUF, MLX), run folders for --resume, flags
// and paths — each built from the seed (seed.ts) in a folder of its own and run through the real CLI. A case says the
// exit code it must give (README: 0 ok, 1 error, 2 usage, 3 over budget, 5 bad input), what the message must name
// (the file, field, line, tensor or flag), and which outputs must not exist afterwards; every case also checks that
// no temporary file or folder is left in its folder.
import { appendFileSync, cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { writeGgufLora } from '../../core/export/gguf';
import { writeMlx } from '../../core/export/mlx';
import { readPeft, writePeft } from '../../core/export/peft';
import { writeSafetensors } from '../../core/common/safetensors';
import type { HostAdapter } from '../../core/train/lora';
import type { Projection } from '../../core/model/weights';
import { copyModel, editJson, poke, setF32, setField, stHeader, truncate } from './damage';
import type { Outcome } from './runner';
import type { Seed } from './seed';

export const FAMILIES = ['models', 'tokenizers', 'templates', 'datasets', 'profiles', 'adapters', 'runs', 'flags', 'paths'] as const;
export type Family = (typeof FAMILIES)[number];

export interface Invocation {
  args: string[];
  /** The exit code. */
  code: number;
  /** What stderr must contain (the file, field, line, tensor or flag), case-insensitively for strings. */
  names: (string | RegExp)[];
  /** Paths (relative to the case folder) that must not exist afterwards. */
  absent?: string[];
  /** A further check of the outcome: a problem, or null. */
  check?: (dir: string, r: Outcome) => string | null;
  env?: Record<string, string>;
}

export interface Case {
  family: Family;
  name: string;
  make(dir: string, seed: Seed): Invocation;
}

const cases: Case[] = [];
const add = (family: Family, name: string, make: Case['make']): void => void cases.push({ family, name, make });

/** `mesp eval` of a model folder on the seed's data. */
const evalOf = (model: string, seed: Seed, extra: string[] = []): string[] => ['eval', '--model', model, '--data', seed.data, '--seq-len', '32', ...extra];

// ------------------------------------------------------------------------------------------------------ models

const SIZE_FIELDS = ['hidden_size', 'intermediate_size', 'num_hidden_layers', 'num_attention_heads', 'num_key_value_heads', 'vocab_size', 'max_position_embeddings'];
const BAD_SIZES: [string, string][] = [['0', '0'], ['1.5', '1.5'], ['string', '"8"'], ['1e7', '1e7'], ['1e9', '1e9'], ['1e300', '1e300']];
for (const f of SIZE_FIELDS) {
  for (const [label, raw] of BAD_SIZES) {
    if (f === 'max_position_embeddings' && label === '1e7') continue; // a real bound (10M-token contexts exist)
    add('models', `config.json ${f} = ${label}`, (dir, s) => {
      const m = copyModel(s.model, join(dir, 'm'));
      setField(join(m, 'config.json'), f, 0, raw);
      return { args: evalOf(m, s), code: 5, names: [f, 'config.json'] };
    });
  }
}
for (const [f, raw] of [['rms_norm_eps', '0'], ['rms_norm_eps', '-1e-6'], ['rms_norm_eps', '"x"'], ['rope_theta', '0'], ['rope_theta', 'null'], ['rope_theta', '-5'],
  ['model_type', '"llama"'], ['model_type', 'null'], ['hidden_act', '"gelu"'], ['tie_word_embeddings', '"yes"'], ['head_dim', '64']] as const) {
  add('models', `config.json ${f} = ${raw}`, (dir, s) => {
    const m = copyModel(s.model, join(dir, 'm'));
    setField(join(m, 'config.json'), f, 0, raw);
    return { args: evalOf(m, s), code: 5, names: [f, 'config.json'] };
  });
}
// Sizes within the bounds that the checkpoint's headers contradict.
for (const [f, v, named] of [['num_hidden_layers', 8, 'num_hidden_layers'], ['vocab_size', 2048, 'vocab_size'], ['hidden_size', 256, 'model.embed_tokens.weight'],
  ['intermediate_size', 512, 'mlp'], ['num_key_value_heads', 4, 'k_proj'], ['num_hidden_layers', 1000, 'num_hidden_layers']] as const) {
  add('models', `config.json ${f} = ${v} against the headers`, (dir, s) => {
    const m = copyModel(s.model, join(dir, 'm'));
    setField(join(m, 'config.json'), f, v);
    return { args: evalOf(m, s), code: 5, names: [named] };
  });
}
add('models', 'bench --shape CONFIG.json with num_hidden_layers 1e9', (dir, s) => {
  const c = join(dir, 'config.json');
  cpSync(join(s.model, 'config.json'), c);
  setField(c, 'num_hidden_layers', 0, '1e9');
  return { args: ['bench', '--shape', c, '--methods', 'mesp'], code: 5, names: ['num_hidden_layers'] };
});
add('models', 'demo-model --shape CONFIG.json with num_hidden_layers 1e7 writes nothing', (dir, s) => {
  const c = join(dir, 'config.json');
  cpSync(join(s.model, 'config.json'), c);
  setField(c, 'num_hidden_layers', 1e7);
  return { args: ['demo-model', '--shape', c, '--out', join(dir, 'out')], code: 5, names: ['num_hidden_layers'], absent: ['out'] };
});
for (const [label, text] of [['not JSON', '{"model_type": "qwen2",'], ['an array', '[1, 2]'], ['a number', '42'], ['empty', '']] as const) {
  add('models', `config.json is ${label}`, (dir, s) => {
    const m = copyModel(s.model, join(dir, 'm'));
    writeFileSync(join(m, 'config.json'), text);
    return { args: evalOf(m, s), code: 5, names: ['config.json'] };
  });
}
add('models', 'config.json missing', (dir, s) => {
  const m = copyModel(s.model, join(dir, 'm'));
  rmSync(join(m, 'config.json'));
  return { args: evalOf(m, s), code: 5, names: ['config.json'] };
});
add('models', 'config.json is a folder', (dir, s) => {
  const m = copyModel(s.model, join(dir, 'm'));
  rmSync(join(m, 'config.json'));
  mkdirSync(join(m, 'config.json'));
  return { args: evalOf(m, s), code: 5, names: ['config.json'] };
});
const stCases: [string, (f: string) => void, (string | RegExp)[]][] = [
  ['truncated to half', (f) => truncate(f, { fraction: 0.5 }), ['model.safetensors']],
  ['truncated to 4 bytes', (f) => truncate(f, { bytes: 4 }), ['model.safetensors']],
  ['empty', (f) => truncate(f, { bytes: 0 }), ['model.safetensors']],
  ['header length 2^60', (f) => poke(f, 0, new Uint8Array([0, 0, 0, 0, 0, 0, 0, 0x10])), ['model.safetensors']],
  ['header not JSON', (f) => poke(f, 8, new TextEncoder().encode('}}}}')), ['model.safetensors']],
  ['NaN in a weight', (f) => void setF32(f, 'model.layers.1.self_attn.q_proj.weight', 17, NaN), ['model.layers.1.self_attn.q_proj.weight', 'NaN']],
  ['+Inf in a weight', (f) => void setF32(f, 'model.layers.2.mlp.down_proj.weight', 3, Infinity), ['model.layers.2.mlp.down_proj.weight', 'Infinity']],
  ['-Inf in the embedding', (f) => void setF32(f, 'model.embed_tokens.weight', 5, -Infinity), ['model.embed_tokens.weight', 'Infinity']],
  ['NaN in a norm', (f) => void setF32(f, 'model.norm.weight', 0, NaN), ['model.norm.weight', 'NaN']],
];
for (const [label, damage, names] of stCases) {
  add('models', `model.safetensors ${label}`, (dir, s) => {
    const m = copyModel(s.model, join(dir, 'm'), true);
    damage(join(m, 'model.safetensors'));
    return { args: evalOf(m, s), code: 5, names };
  });
}
add('models', 'model.safetensors missing a tensor', (dir, s) => {
  const m = copyModel(s.model, join(dir, 'm'), true);
  const f = join(m, 'model.safetensors');
  const bytes = new Uint8Array(readFileSync(f));
  const { header } = stHeader(bytes);
  const text = new TextDecoder().decode(bytes.subarray(8, 8 + Number(new DataView(bytes.buffer).getBigUint64(0, true))));
  const renamed = text.replace('model.layers.3.mlp.up_proj.weight', 'model.layers.3.mlp.up_prxj.weight');
  poke(f, 8, new TextEncoder().encode(renamed));
  void header;
  return { args: evalOf(m, s), code: 5, names: ['model.layers.3.mlp.up_proj.weight'] };
});
add('models', 'model.safetensors is a folder', (dir, s) => {
  const m = copyModel(s.model, join(dir, 'm'));
  rmSync(join(m, 'model.safetensors'));
  mkdirSync(join(m, 'model.safetensors'));
  return { args: evalOf(m, s), code: 5, names: ['model.safetensors'] };
});
add('models', 'model.safetensors is a FIFO', (dir, s) => {
  const m = copyModel(s.model, join(dir, 'm'));
  rmSync(join(m, 'model.safetensors'));
  execFileSync('mkfifo', [join(m, 'model.safetensors')]);
  return { args: evalOf(m, s), code: 5, names: ['model.safetensors'] };
});
add('models', 'no weights at all', (dir, s) => {
  const m = copyModel(s.model, join(dir, 'm'));
  rmSync(join(m, 'model.safetensors'));
  return { args: evalOf(m, s), code: 5, names: ['model.safetensors'] };
});
add('models', '--model is a file', (dir, s) => ({ args: evalOf(join(s.model, 'config.json'), s), code: 5, names: ['config.json'] }));
add('models', '--model does not exist', (dir, s) => ({ args: evalOf(join(dir, 'nowhere'), s), code: 5, names: ['nowhere'] }));

// -------------------------------------------------------------------------------------------------- tokenizers

const textData = (dir: string, rows: unknown[]): string => {
  const f = join(dir, 'text.jsonl');
  writeFileSync(f, rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
  return f;
};
for (const [label, file, text] of [
  ['tokenizer.json not JSON', 'tokenizer.json', '{"model": '],
  ['tokenizer.json without a model', 'tokenizer.json', '{"version": "1.0"}'],
  ['tokenizer.json an array', 'tokenizer.json', '[]'],
  ['tokenizer_config.json not JSON', 'tokenizer_config.json', '{,}'],
  ['tokenizer_config.json an array', 'tokenizer_config.json', '[1]'],
] as const) {
  add('tokenizers', label, (dir, s) => {
    const m = copyModel(s.model, join(dir, 'm'));
    writeFileSync(join(m, file), text);
    return { args: evalOf(m, s), code: 5, names: [file] };
  });
}
add('tokenizers', 'tokenizer.json truncated', (dir, s) => {
  const m = copyModel(s.model, join(dir, 'm'));
  truncate(join(m, 'tokenizer.json'), { fraction: 0.6 });
  return { args: evalOf(m, s), code: 5, names: ['tokenizer.json'] };
});
add('tokenizers', 'tokenizer.json is a folder', (dir, s) => {
  const m = copyModel(s.model, join(dir, 'm'));
  rmSync(join(m, 'tokenizer.json'));
  mkdirSync(join(m, 'tokenizer.json'));
  return { args: evalOf(m, s), code: 5, names: ['tokenizer.json'] };
});
for (const [label, id] of [['1024 (= vocab_size)', 1024], ['5000', 5000]] as const) {
  add('tokenizers', `an added token with id ${label} beyond the model's vocabulary`, (dir, s) => {
    const m = copyModel(s.model, join(dir, 'm'));
    editJson(join(m, 'tokenizer.json'), (o) => {
      (o.added_tokens as unknown[]).push({ id, content: '<|beyond|>', single_word: false, lstrip: false, rstrip: false, normalized: false, special: true });
    });
    const data = textData(dir, [{ text: 'fine' }, { text: 'hello <|beyond|> world' }]);
    return { args: ['eval', '--model', m, '--data', data], code: 5, names: [`${id}`, 'text.jsonl:2:', 'vocab_size'] };
  });
}
add('tokenizers', 'a tokenizer with a larger vocabulary than the model, via a model config of vocab 512', (dir, s) => {
  const m = copyModel(s.model, join(dir, 'm'));
  // the model's rows cut to 512 by its config: the headers say 1024, so the config is refused first
  setField(join(m, 'config.json'), 'vocab_size', 512);
  return { args: evalOf(m, s), code: 5, names: ['vocab_size'] };
});

// --------------------------------------------------------------------------------------------------- templates

const withTemplate = (dir: string, s: Seed, template: unknown): string => {
  const m = copyModel(s.model, join(dir, 'm'));
  setField(join(m, 'tokenizer_config.json'), 'chat_template', template);
  return m;
};
const TEMPLATE_ENV = { MESP_TEMPLATE_TIMEOUT_MS: '3000' };
for (const [label, t, names] of [
  ['a loop over range(1000000000)', '{% for i in range(1000000000) %}{% endfor %}{{ messages[0].content }}', ['tokenizer_config.json', 'chat template']],
  ['a loop writing gigabytes', '{% for i in range(1000000000) %}xxxxxxxxxxxxxxxx{% endfor %}', ['tokenizer_config.json', 'chat template']],
  ['nested loops', '{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}', ['tokenizer_config.json', 'chat template']],
  ['raise_exception', "{{ raise_exception('roles must alternate') }}", ['roles must alternate']],
  ['a syntax error', '{% for m in messages %}{{ m.content }', ['tokenizer_config.json']],
  ['an unknown filter', '{{ messages | frobnicate }}', ['tokenizer_config.json']],
  ['a number', 42, ['chat_template']],
] as const) {
  add('templates', `chat_template with ${label}`, (dir, s) => ({ args: evalOf(withTemplate(dir, s, t), s), code: 5, names: [...names], env: TEMPLATE_ENV }));
}
add('templates', 'chat_template.jinja with an endless loop wins over the config', (dir, s) => {
  const m = copyModel(s.model, join(dir, 'm'));
  writeFileSync(join(m, 'chat_template.jinja'), '{% for i in range(1000000000) %}{% endfor %}');
  return { args: evalOf(m, s), code: 5, names: ['chat_template.jinja'], env: TEMPLATE_ENV };
});
add('templates', 'chat_template.jinja is a folder', (dir, s) => {
  const m = copyModel(s.model, join(dir, 'm'));
  mkdirSync(join(m, 'chat_template.jinja'));
  return { args: evalOf(m, s), code: 5, names: ['chat_template.jinja'] };
});
add('templates', 'no chat template for messages rows', (dir, s) => {
  const m = copyModel(s.model, join(dir, 'm'));
  setField(join(m, 'tokenizer_config.json'), 'chat_template', undefined);
  return { args: evalOf(m, s), code: 5, names: ['chat_template'] };
});

// ---------------------------------------------------------------------------------------------------- datasets

const good = '{"prompt": "hello", "completion": " world"}';
const BAD_ROWS: [string, string, (string | RegExp)[]][] = [
  ['not JSON', '{"text": "a"', ['not valid JSON']],
  ['a JSON array', '[1, 2, 3]', ['JSON object']],
  ['a JSON string', '"text"', ['JSON object']],
  ['a JSON number', '7', ['JSON object']],
  ['null', 'null', ['JSON object']],
  ['no known field', '{"foo": "bar"}', ['text']],
  ['two formats at once', '{"text": "a", "prompt": "b", "completion": "c"}', ['text']],
  ['text a number', '{"text": 5}', ['text']],
  ['prompt without completion', '{"prompt": "a"}', ['completion']],
  ['completion an array', '{"prompt": "a", "completion": ["b"]}', ['completion']],
  ['messages not a list', '{"messages": "hi"}', ['messages']],
  ['messages empty', '{"messages": []}', ['messages']],
  ['a message without role', '{"messages": [{"content": "hi"}]}', ['role']],
  ['a message with role 7', '{"messages": [{"role": 7, "content": "hi"}]}', ['role']],
  ['a message with content null', '{"messages": [{"role": "user", "content": null}]}', ['content']],
  ['input_ids empty', '{"input_ids": []}', ['input_ids']],
  ['input_ids not a list', '{"input_ids": "1 2 3"}', ['input_ids']],
  ['input_ids with -1', '{"input_ids": [1, -1, 3]}', ['input_ids']],
  ['input_ids with 1024 (= vocab)', '{"input_ids": [1, 1024, 3]}', ['1024']],
  ['input_ids with 1.5', '{"input_ids": [1, 1.5, 3]}', ['input_ids']],
  ['input_ids with a string', '{"input_ids": [1, "2", 3]}', ['input_ids']],
  ['labels shorter than input_ids', '{"input_ids": [1, 2, 3], "labels": [1, 2]}', ['labels']],
  ['labels beyond vocab', '{"input_ids": [1, 2, 3], "labels": [1, 99999, 3]}', ['labels']],
];
for (const [k, [label, row, names]] of BAD_ROWS.entries()) {
  for (const line of k < 6 ? [1, 3] : [3]) {
    add('datasets', `line ${line}: ${label}`, (dir, s) => {
      const f = join(dir, 'd.jsonl');
      const rows = [good, good, good, good];
      rows.splice(line - 1, 0, row);
      writeFileSync(f, rows.join('\n') + '\n');
      return { args: ['eval', '--model', s.model, '--data', f], code: 5, names: [`d.jsonl:${line}:`, ...names] };
    });
  }
}
const BAD_UTF8: [string, number[]][] = [
  ['a lone 0xff byte', [0xff]], ['a lone continuation byte', [0x80]], ['an overlong slash', [0xc0, 0xaf]], ['a UTF-16 surrogate', [0xed, 0xa0, 0x80]],
  ['a truncated 3-byte sequence', [0xe2, 0x82]], ['a code point past U+10FFFF', [0xf4, 0x90, 0x80, 0x80]], ['Latin-1 é', [0xe9]],
];
for (const [label, bytes] of BAD_UTF8) {
  for (const line of [1, 4]) {
    add('datasets', `line ${line}: invalid UTF-8 (${label})`, (dir, s) => {
      const f = join(dir, 'd.jsonl');
      const enc = new TextEncoder();
      const parts: Uint8Array[] = [];
      for (let i = 1; i <= 5; i++) {
        if (i === line) parts.push(enc.encode('{"text": "caf'), new Uint8Array(bytes), enc.encode('"}\n'));
        else parts.push(enc.encode('{"text": "fine"}\n'));
      }
      writeFileSync(f, Buffer.concat(parts));
      return { args: ['eval', '--model', s.model, '--data', f], code: 5, names: [`d.jsonl:${line}:`, 'UTF-8'] };
    });
  }
}
for (const [label, text] of [['empty', ''], ['only blank lines', '\n\n   \n\t\n'], ['only a BOM', '\ufeff']] as const) {
  add('datasets', `a dataset ${label}`, (dir, s) => {
    const f = join(dir, 'd.jsonl');
    writeFileSync(f, text);
    return { args: ['eval', '--model', s.model, '--data', f], code: 5, names: ['d.jsonl'] };
  });
}
add('datasets', 'the dataset is a folder', (dir, s) => {
  mkdirSync(join(dir, 'd.jsonl'));
  return { args: ['eval', '--model', s.model, '--data', join(dir, 'd.jsonl')], code: 5, names: ['d.jsonl'] };
});
add('datasets', 'the dataset does not exist', (dir, s) => ({ args: ['eval', '--model', s.model, '--data', join(dir, 'none.jsonl')], code: 5, names: ['none.jsonl'] }));
add('datasets', 'the dataset is a FIFO', (dir, s) => {
  execFileSync('mkfifo', [join(dir, 'd.jsonl')]);
  return { args: ['eval', '--model', s.model, '--data', join(dir, 'd.jsonl')], code: 5, names: ['d.jsonl'] };
});
add('datasets', 'text rows without a tokenizer', (dir, s) => {
  const m = copyModel(s.model, join(dir, 'm'));
  rmSync(join(m, 'tokenizer.json'));
  return { args: evalOf(m, s), code: 5, names: ['tokenizer.json', 'data.jsonl:1:'] };
});

// ---------------------------------------------------------------------------------------------------- profiles

const PROFILE = join(import.meta.dirname, '../../profiles/phone-8gb.json');
const profileEdits: [string, (o: Record<string, unknown>) => unknown, string][] = [
  ['appBudgetMB -1', (o) => void (o.appBudgetMB = -1), 'appBudgetMB'],
  ['appBudgetMB "big"', (o) => void (o.appBudgetMB = 'big'), 'appBudgetMB'],
  ['appBudgetMB missing', (o) => void delete o.appBudgetMB, 'appBudgetMB'],
  ['ramGB 0', (o) => void (o.ramGB = 0), 'ramGB'],
  ['appBudgetMB above the RAM', (o) => void (o.appBudgetMB = 900_000), 'appBudgetMB'],
  ['webgpu missing', (o) => void delete o.webgpu, 'webgpu'],
  ['webgpu.maxBufferSize 0', (o) => void ((o.webgpu as Record<string, unknown>).maxBufferSize = 0), 'maxBufferSize'],
  ['webgpu.maxStorageBufferBindingSize "x"', (o) => void ((o.webgpu as Record<string, unknown>).maxStorageBufferBindingSize = 'x'), 'maxStorageBufferBindingSize'],
  ['gpu.peakFlopsF32 -1', (o) => void ((o.gpu as Record<string, unknown>).peakFlopsF32 = -1), 'peakFlopsF32'],
  ['id missing', (o) => void delete o.id, 'id'],
  ['an array', () => [1, 2], 'profile'],
];
for (const [label, edit, named] of profileEdits) {
  add('profiles', `profile ${label}`, (dir, s) => {
    const f = join(dir, 'p.json');
    cpSync(PROFILE, f);
    editJson(f, edit);
    return { args: evalOf(s.model, s, ['--profile', f]), code: 5, names: ['p.json', named] };
  });
}
add('profiles', 'profile not JSON', (dir, s) => {
  writeFileSync(join(dir, 'p.json'), '{"id": ');
  return { args: evalOf(s.model, s, ['--profile', join(dir, 'p.json')]), code: 5, names: ['p.json'] };
});
add('profiles', 'profile is a folder', (dir, s) => {
  mkdirSync(join(dir, 'p.json'));
  return { args: evalOf(s.model, s, ['--profile', join(dir, 'p.json')]), code: 5, names: ['p.json'] };
});
add('profiles', 'profile file does not exist', (dir, s) => ({ args: evalOf(s.model, s, ['--profile', join(dir, 'none.json')]), code: 5, names: ['none.json'] }));
add('profiles', 'unknown built-in profile id', (dir, s) => ({ args: evalOf(s.model, s, ['--profile', 'phone-99gb']), code: 5, names: ['phone-99gb'] }));

// ---------------------------------------------------------------------------------------------------- adapters

const seedAdapter = (s: Seed): HostAdapter & { baseModel: string } => {
  const c = join(s.peft, 'adapter_config.json');
  const w = join(s.peft, 'adapter_model.safetensors');
  return readPeft(readFileSync(c, 'utf8'), new Uint8Array(readFileSync(w)), { config: c, weights: w });
};
const withValue = (a: HostAdapter, which: 'A' | 'B', key: string, i: number, v: number): HostAdapter => {
  const m = new Map(which === 'A' ? a.A : a.B);
  const t = new Float32Array(m.get(key)!);
  t[i] = v;
  m.set(key, t);
  return which === 'A' ? { ...a, A: m } : { ...a, B: m };
};
const importOf = (from: string, dir: string, s: Seed, extra: string[] = []): string[] => ['import-adapter', '--from', from, '--out', join(dir, 'out'), '--model', s.model, ...extra];
const writePeftDir = (dir: string, a: HostAdapter, config?: string): string => {
  const d = join(dir, 'peft');
  mkdirSync(d, { recursive: true });
  const p = writePeft(a, 'demo', 'f32');
  writeFileSync(join(d, 'adapter_config.json'), config ?? p.config);
  writeFileSync(join(d, 'adapter_model.safetensors'), p.weights);
  return d;
};

// PEFT
for (const [label, field, raw, named] of [
  ['r 0', 'r', '0', '"r"'], ['r "4"', 'r', '"4"', '"r"'], ['r 8 (the tensors say 4)', 'r', '8', 'rank'], ['lora_alpha 1e999 (+Infinity)', 'lora_alpha', '1e999', 'lora_alpha'],
  ['lora_alpha -16', 'lora_alpha', '-16', 'lora_alpha'], ['lora_alpha null', 'lora_alpha', 'null', 'lora_alpha'], ['peft_type PREFIX_TUNING', 'peft_type', '"PREFIX_TUNING"', 'peft_type'],
  ['use_dora true', 'use_dora', 'true', 'DoRA'],
] as const) {
  add('adapters', `PEFT adapter_config.json ${label}`, (dir, s) => {
    const d = join(dir, 'peft');
    cpSync(s.peft, d, { recursive: true });
    setField(join(d, 'adapter_config.json'), field, 0, raw);
    return { args: importOf(d, dir, s, ['--format', 'peft']), code: 5, names: [named], absent: ['out'] };
  });
}
for (const [label, which, key, v] of [['NaN in lora_A', 'A', '1.q', NaN], ['+Inf in lora_B', 'B', '3.v', Infinity], ['-Inf in lora_A', 'A', '0.v', -Infinity]] as const) {
  add('adapters', `PEFT weights with ${label}`, (dir, s) => {
    const d = writePeftDir(dir, withValue(seedAdapter(s), which, key, 2, v));
    return { args: importOf(d, dir, s), code: 5, names: ['adapter_model.safetensors', `lora_${which}`, Number.isNaN(v) ? 'NaN' : 'Infinity'], absent: ['out'] };
  });
  add('adapters', `train --init-adapter with ${label}`, (dir, s) => {
    const d = writePeftDir(dir, withValue(seedAdapter(s), which, key, 2, v));
    return {
      args: ['train', '--model', s.model, '--data', s.data, '--init-adapter', d, '--out', join(dir, 'run'), '--steps', '1'],
      code: 5, names: ['adapter_model.safetensors', Number.isNaN(v) ? 'NaN' : 'Infinity'], absent: ['run'],
    };
  });
}
for (const [label, damage, named] of [
  ['weights truncated', (f: string) => truncate(f, { fraction: 0.7 }), 'adapter_model.safetensors'],
  ['weights empty', (f: string) => truncate(f, { bytes: 0 }), 'adapter_model.safetensors'],
  ['weights header garbage', (f: string) => poke(f, 8, new TextEncoder().encode('xx')), 'adapter_model.safetensors'],
] as const) {
  add('adapters', `PEFT ${label}`, (dir, s) => {
    const d = join(dir, 'peft');
    cpSync(s.peft, d, { recursive: true });
    damage(join(d, 'adapter_model.safetensors'));
    return { args: importOf(d, dir, s, ['--format', 'peft']), code: 5, names: [named], absent: ['out'] };
  });
}
add('adapters', 'PEFT adapter_config.json missing', (dir, s) => {
  const d = join(dir, 'peft');
  cpSync(s.peft, d, { recursive: true });
  rmSync(join(d, 'adapter_config.json'));
  return { args: importOf(d, dir, s, ['--format', 'peft']), code: 5, names: ['adapter_config.json'], absent: ['out'] };
});
add('adapters', 'PEFT adapter of a model half as wide', (dir, s) => {
  const a = seedAdapter(s);
  const half = { ...a, A: new Map([...a.A].map(([k, v]) => [k, v.subarray(0, v.length / 2)])), B: new Map([...a.B].map(([k, v]) => [k, v.subarray(0, v.length / 2)])) };
  const d = writePeftDir(dir, half);
  return { args: importOf(d, dir, s), code: 5, names: ['lora_A'], absent: ['out'] };
});
add('adapters', 'PEFT adapter with a layer the model does not have', (dir, s) => {
  const a = seedAdapter(s);
  const A = new Map(a.A);
  const B = new Map(a.B);
  A.set('7.q', a.A.get('0.q')!);
  B.set('7.q', a.B.get('0.q')!);
  const d = writePeftDir(dir, { ...a, A, B });
  return { args: importOf(d, dir, s), code: 5, names: ['layer 7'], absent: ['out'] };
});
add('adapters', 'PEFT lora_A without its lora_B', (dir, s) => {
  const a = seedAdapter(s);
  const B = new Map(a.B);
  B.delete('2.v');
  const p = writePeft({ ...a, B: new Map([...B, ['2.v', new Float32Array(0)]]) }, 'demo', 'f32');
  void p;
  const d = join(dir, 'peft');
  mkdirSync(d);
  cpSync(join(s.peft, 'adapter_config.json'), join(d, 'adapter_config.json'));
  const tensors = [...a.A].map(([k, v]) => ({ name: `base_model.model.model.layers.${k.split('.')[0]}.self_attn.${k.split('.')[1]}_proj.lora_A.weight`, dtype: 'F32' as const, shape: [a.rank, v.length / a.rank], data: v }))
    .concat([...B].map(([k, v]) => ({ name: `base_model.model.model.layers.${k.split('.')[0]}.self_attn.${k.split('.')[1]}_proj.lora_B.weight`, dtype: 'F32' as const, shape: [v.length / a.rank, a.rank], data: v })));
  writeFileSync(join(d, 'adapter_model.safetensors'), writeSafetensors(tensors));
  return { args: importOf(d, dir, s, ['--format', 'peft']), code: 5, names: ['lora_B'], absent: ['out'] };
});
// GGUF
const ggufBytes = (s: Seed): Uint8Array => new Uint8Array(readFileSync(s.gguf));
const alphaAt = (b: Uint8Array): number => {
  const key = new TextEncoder().encode('adapter.lora.alpha');
  outer: for (let i = 0; i < b.length - key.length; i++) {
    for (let k = 0; k < key.length; k++) if (b[i + k] !== key[k]) continue outer;
    return i + key.length + 4; // after the key: the value type (u32), then the f32
  }
  throw new Error('no adapter.lora.alpha');
};
for (const [label, v, named] of [['+Inf', Infinity, 'adapter.lora.alpha'], ['NaN', NaN, 'adapter.lora.alpha'], ['-16', -16, 'adapter.lora.alpha'], ['0', 0, 'adapter.lora.alpha']] as const) {
  add('adapters', `GGUF adapter.lora.alpha ${label}`, (dir, s) => {
    const b = ggufBytes(s);
    new DataView(b.buffer).setFloat32(alphaAt(b), v, true);
    const f = join(dir, 'a.gguf');
    writeFileSync(f, b);
    return { args: importOf(f, dir, s), code: 5, names: [named], absent: ['out'] };
  });
}
for (const [label, which, key, v] of [['NaN in a lora_a', 'A', '2.q', NaN], ['+Inf in a lora_b', 'B', '0.v', Infinity]] as const) {
  add('adapters', `GGUF tensor with ${label}`, (dir, s) => {
    const a = withValue(seedAdapter(s), which, key, 1, v);
    const f = join(dir, 'a.gguf');
    writeFileSync(f, writeGgufLora(a, { baseModel: 'demo' }, 'f32'));
    return { args: importOf(f, dir, s), code: 5, names: ['a.gguf', Number.isNaN(v) ? 'NaN' : 'Infinity'], absent: ['out'] };
  });
}
for (const [label, damage] of [
  ['bad magic', (f: string) => poke(f, 0, new TextEncoder().encode('GGUX'))],
  ['version 99', (f: string) => poke(f, 4, new Uint8Array([99, 0, 0, 0]))],
  ['truncated to 10%', (f: string) => truncate(f, { fraction: 0.1 })],
  ['truncated to 60%', (f: string) => truncate(f, { fraction: 0.6 })],
  ['truncated to 99%', (f: string) => truncate(f, { fraction: 0.99 })],
  ['empty', (f: string) => truncate(f, { bytes: 0 })],
  ['tensor count 2^40', (f: string) => poke(f, 8, new Uint8Array([0, 0, 0, 0, 0, 1, 0, 0]))],
  ['kv count 2^40', (f: string) => poke(f, 16, new Uint8Array([0, 0, 0, 0, 0, 1, 0, 0]))],
] as const) {
  add('adapters', `GGUF ${label}`, (dir, s) => {
    const f = join(dir, 'a.gguf');
    cpSync(s.gguf, f);
    damage(f);
    return { args: importOf(f, dir, s, ['--format', 'gguf']), code: 5, names: ['a.gguf'], absent: ['out'] };
  });
}
// MLX
for (const [label, field, raw, named] of [
  ['lora_parameters.scale 1e999', 'lora_parameters.scale', '1e999', 'scale'], ['lora_parameters.scale 0', 'lora_parameters.scale', '0', 'scale'],
  ['lora_parameters.rank 0', 'lora_parameters.rank', '0', 'rank'], ['lora_parameters missing', 'lora_parameters', undefined, 'lora_parameters'],
  ['fine_tune_type dora', 'fine_tune_type', '"dora"', 'fine_tune_type'],
] as const) {
  add('adapters', `MLX adapter_config.json ${label}`, (dir, s) => {
    const d = join(dir, 'mlx');
    cpSync(s.mlx, d, { recursive: true });
    setField(join(d, 'adapter_config.json'), field, undefined, raw);
    return { args: importOf(d, dir, s, ['--format', 'mlx']), code: 5, names: [named], absent: ['out'] };
  });
}
add('adapters', 'MLX weights with NaN', (dir, s) => {
  const d = join(dir, 'mlx');
  mkdirSync(d);
  const m = writeMlx(withValue(seedAdapter(s), 'B', '1.v', 0, NaN), 'demo', 4, 'f32');
  writeFileSync(join(d, 'adapter_config.json'), m.config);
  writeFileSync(join(d, 'adapters.safetensors'), m.weights);
  return { args: importOf(d, dir, s, ['--format', 'mlx']), code: 5, names: ['adapters.safetensors', 'NaN'], absent: ['out'] };
});
add('adapters', 'MLX weights truncated', (dir, s) => {
  const d = join(dir, 'mlx');
  cpSync(s.mlx, d, { recursive: true });
  truncate(join(d, 'adapters.safetensors'), { fraction: 0.5 });
  return { args: importOf(d, dir, s, ['--format', 'mlx']), code: 5, names: ['adapters.safetensors'], absent: ['out'] };
});
add('adapters', 'eval --adapter with NaN', (dir, s) => {
  const d = writePeftDir(dir, withValue(seedAdapter(s), 'A', '0.q', 0, NaN));
  return { args: evalOf(s.model, s, ['--adapter', d]), code: 5, names: ['adapter_model.safetensors', 'NaN'] };
});
add('adapters', 'export of a run whose adapter holds NaN writes nothing', (dir, s) => {
  const r = join(dir, 'run');
  cpSync(s.run, r, { recursive: true });
  const d = writePeftDir(dir, withValue(seedAdapter(s), 'B', '3.q', 0, NaN));
  for (const f of ['adapter_config.json', 'adapter_model.safetensors']) cpSync(join(d, f), join(r, 'adapter', f));
  return { args: ['export', '--run', r, '--format', 'peft,gguf', '--out', join(dir, 'exp'), '--parity-rows', '0'], code: 5, names: ['NaN'], absent: ['exp'] };
});

// -------------------------------------------------------------------------------------------------- run folders

const runCopy = (dir: string, s: Seed): string => {
  const r = join(dir, 'run');
  cpSync(s.run, r, { recursive: true });
  return r;
};
const ck = (r: string, step: number): string => join(r, 'checkpoints', `step-${String(step).padStart(7, '0')}`);
const otherAdapter = (s: Seed, o: { rank?: number; targets?: Projection[]; alpha?: number }): HostAdapter => {
  const a = seedAdapter(s);
  const rank = o.rank ?? a.rank;
  const targets = o.targets ?? a.targets;
  const A = new Map<string, Float32Array>();
  const B = new Map<string, Float32Array>();
  const width: Record<Projection, [number, number]> = { q: [128, 128], k: [64, 128], v: [64, 128], o: [128, 128], gate: [256, 128], up: [256, 128], down: [128, 256] };
  for (let l = 0; l < 4; l++) {
    for (const p of targets) {
      A.set(`${l}.${p}`, new Float32Array(rank * width[p][1]).fill(0.01));
      B.set(`${l}.${p}`, new Float32Array(width[p][0] * rank));
    }
  }
  return { rank, alpha: o.alpha ?? a.alpha, targets, A, B };
};
const putAdapter = (c: string, a: HostAdapter): void => {
  const p = writePeft(a, 'demo', 'f32');
  writeFileSync(join(c, 'adapter_config.json'), p.config);
  writeFileSync(join(c, 'adapter_model.safetensors'), p.weights);
};
const optTensors = (c: string): { name: string; data: Float32Array }[] => {
  const f = join(c, 'optimizer.safetensors');
  const b = new Uint8Array(readFileSync(f));
  const { header, dataStart } = stHeader(b);
  return Object.entries(header).map(([name, info]) => ({ name, data: new Float32Array(b.slice(dataStart + info.data_offsets[0], dataStart + info.data_offsets[1]).buffer) }));
};
const putOpt = (c: string, ts: { name: string; data: Float32Array }[]): void => {
  writeFileSync(join(c, 'optimizer.safetensors'), writeSafetensors(ts.map((t) => ({ name: t.name, dtype: 'F32', shape: [t.data.length], data: t.data }))));
};
const CKPT_DAMAGE: [string, (c: string, s: Seed) => void, string][] = [
  ['state.json step 999', (c) => writeFileSync(join(c, 'state.json'), '{"step": 999}'), 'state.json'],
  ['state.json step 3 in the folder of step 4', (c) => writeFileSync(join(c, 'state.json'), '{"step": 3}'), 'state.json'],
  ['state.json not JSON', (c) => writeFileSync(join(c, 'state.json'), '{"st'), 'state.json'],
  ['state.json missing', (c) => rmSync(join(c, 'state.json')), 'state.json'],
  ['state.json step "4"', (c) => writeFileSync(join(c, 'state.json'), '{"step": "4"}'), 'state.json'],
  ['an adapter from a model half as wide', (c, s) => {
    const a = seedAdapter(s);
    putAdapter(c, { ...a, A: new Map([...a.A].map(([k, v]) => [k, v.slice(0, v.length / 2)])), B: new Map([...a.B].map(([k, v]) => [k, v.slice(0, v.length / 2)])) });
  }, 'adapter_model.safetensors'],
  ['an adapter of rank 4 on q,k,v from another run', (c, s) => putAdapter(c, otherAdapter(s, { targets: ['q', 'k', 'v'] })), 'adapter_model.safetensors'],
  ['an adapter of rank 8', (c, s) => putAdapter(c, otherAdapter(s, { rank: 8 })), 'adapter_config.json'],
  ['an adapter with alpha 3', (c, s) => putAdapter(c, otherAdapter(s, { alpha: 3 })), 'adapter_config.json'],
  ['NaN in the adapter', (c, s) => putAdapter(c, withValue(seedAdapter(s), 'A', '1.v', 0, NaN)), 'adapter_model.safetensors'],
  ['the adapter weights truncated', (c) => truncate(join(c, 'adapter_model.safetensors'), { fraction: 0.5 }), 'adapter_model.safetensors'],
  ['adapter_config.json missing', (c) => rmSync(join(c, 'adapter_config.json')), 'adapter_config.json'],
  ['optimizer.safetensors missing', (c) => rmSync(join(c, 'optimizer.safetensors')), 'optimizer.safetensors'],
  ['optimizer.safetensors truncated', (c) => truncate(join(c, 'optimizer.safetensors'), { fraction: 0.5 }), 'optimizer.safetensors'],
  ['an AdamW moment missing', (c) => putOpt(c, optTensors(c).filter((t) => t.name !== '2.q.B.exp_avg_sq' && t.name !== '2.v.B.exp_avg_sq')), 'exp_avg_sq'],
  ['a short AdamW moment', (c) => putOpt(c, optTensors(c).map((t) => (t.name.startsWith('1.') ? { ...t, data: t.data.slice(0, 10) } : t))), 'optimizer.safetensors'],
  ['NaN in an AdamW moment', (c) => putOpt(c, optTensors(c).map((t, i) => (i === 3 ? { ...t, data: t.data.map((x, j) => (j === 5 ? NaN : x)) } : t))), 'NaN'],
  ['a negative exp_avg_sq', (c) => putOpt(c, optTensors(c).map((t) => (t.name.endsWith('exp_avg_sq') ? { ...t, data: t.data.map((x, j) => (j === 0 ? -1 : x)) } : t))), 'exp_avg_sq'],
  ['a moment of no adapter tensor', (c) => putOpt(c, [...optTensors(c), { name: '9.q.A.exp_avg', data: new Float32Array(4) }]), '9.q.A.exp_avg'],
];
for (const [label, damage, named] of CKPT_DAMAGE) {
  add('runs', `every checkpoint with ${label}: resume refused`, (dir, s) => {
    const r = runCopy(dir, s);
    damage(ck(r, 2), s);
    damage(ck(r, 4), s);
    if (label.startsWith('state.json step 3')) writeFileSync(join(ck(r, 2), 'state.json'), '{"step": 1}');
    return { args: ['train', '--resume', r], code: 5, names: [named], check: noStartAfter(r) };
  });
}
/** A refused resume leaves the run's events as they were (no start event appended). */
function noStartAfter(r: string): (dir: string, o: Outcome) => string | null {
  const before = readFileSync(join(r, 'events.jsonl'), 'utf8');
  return () => (readFileSync(join(r, 'events.jsonl'), 'utf8') === before ? null : 'events.jsonl changed on a refused resume');
}
for (const [label, damage, named] of CKPT_DAMAGE.filter((_, i) => i % 4 === 1)) {
  add('runs', `the newest checkpoint with ${label}: resumes from step 2, saying so`, (dir, s) => {
    const r = runCopy(dir, s);
    damage(ck(r, 4), s);
    return {
      args: ['train', '--resume', r], code: 0, names: ['skipping checkpoint', 'step-0000004', named],
      check: (_d, o) => (/resuming after step 2/.test(o.stdout) ? null : `not resumed after step 2: ${o.stdout.slice(0, 300)}`),
    };
  });
}
add('runs', 'the base model changed since the run (fingerprint)', (dir, s) => {
  const r = runCopy(dir, s);
  const m = copyModel(s.model, join(dir, 'm'));
  setField(join(m, 'config.json'), 'rms_norm_eps', 1e-5);
  editJson(join(r, 'config.json'), (o) => {
    (o.request as Record<string, unknown>).modelDir = m;
    (o.model as Record<string, unknown>).dir = m;
  });
  return { args: ['train', '--resume', r], code: 5, names: ['fingerprint', 'config.json'] };
});
for (const [label, text] of [['not JSON', '{"version": 1,'], ['not a run config', '{"version": 1}'], ['an array', '[]']] as const) {
  add('runs', `run config.json ${label}`, (dir, s) => {
    const r = runCopy(dir, s);
    writeFileSync(join(r, 'config.json'), text);
    return { args: ['train', '--resume', r], code: 5, names: ['config.json'] };
  });
}
add('runs', '--resume of a folder that is no run', (dir) => {
  mkdirSync(join(dir, 'empty'));
  return { args: ['train', '--resume', join(dir, 'empty')], code: 5, names: ['config.json'] };
});
add('runs', 'a torn last line of events.jsonl is tolerated', (dir, s) => {
  const r = runCopy(dir, s);
  appendFileSync(join(r, 'events.jsonl'), '{"t":1,"type":"step","step":5,"lo');
  return {
    args: ['train', '--resume', r], code: 0, names: [],
    check: () => {
      const lines = readFileSync(join(r, 'events.jsonl'), 'utf8').split('\n').filter((l) => l.trim());
      for (const [i, l] of lines.entries()) {
        try {
          JSON.parse(l);
        } catch {
          return `events.jsonl line ${i + 1} is not JSON after the resume: ${l.slice(0, 80)}`;
        }
      }
      return lines.some((l) => l.includes('"type":"done"')) ? null : 'no done event';
    },
  };
});
add('runs', 'temporaries of a killed checkpoint write are cleaned up', (dir, s) => {
  const r = runCopy(dir, s);
  cpSync(ck(r, 4), `${ck(r, 6)}.tmp-4242-1700000000000`, { recursive: true });
  truncate(join(`${ck(r, 6)}.tmp-4242-1700000000000`, 'optimizer.safetensors'), { fraction: 0.3 });
  writeFileSync(join(r, 'config.json.tmp-4242-1700000000001'), '{"ver');
  return { args: ['train', '--resume', r], code: 0, names: [] };
});
add('runs', 'a folder swap killed between its renames is put back', (dir, s) => {
  const r = runCopy(dir, s);
  // killed after adapter/ was moved aside and before the new one took its place
  cpSync(join(r, 'adapter'), join(r, 'adapter.old-4242-1700000000000'), { recursive: true });
  rmSync(join(r, 'adapter'), { recursive: true });
  return { args: ['train', '--resume', r], code: 0, names: [], check: () => (existsSync(join(r, 'adapter', 'adapter_model.safetensors')) ? null : 'adapter/ was not put back') };
});
add('runs', 'a new run into a folder that holds a run is refused (use --resume)', (dir, s) => {
  const r = runCopy(dir, s);
  return { args: ['train', '--model', s.model, '--data', s.data, '--out', r, '--steps', '1'], code: 5, names: ['--resume'] };
});
add('runs', 'a new run into a folder of other files is refused and the files stay', (dir, s) => {
  mkdirSync(join(dir, 'o'));
  writeFileSync(join(dir, 'o', 'keep.txt'), 'mine');
  return {
    args: ['train', '--model', s.model, '--data', s.data, '--out', join(dir, 'o'), '--steps', '1'], code: 5, names: ['--out'],
    check: (d) => (readFileSync(join(d, 'o', 'keep.txt'), 'utf8') === 'mine' ? null : 'keep.txt changed'),
  };
});
add('runs', 'a run that fails on its data leaves no run folder', (dir, s) => {
  const f = join(dir, 'd.jsonl');
  writeFileSync(f, '{"text": "ok"}\n{"bad"\n');
  return { args: ['train', '--model', s.model, '--data', f, '--out', join(dir, 'run'), '--steps', '1'], code: 5, names: ['d.jsonl:2:'], absent: ['run'] };
});
add('runs', 'a run over the cap before its first step leaves no run folder', (dir, s) => ({
  args: ['train', '--model', s.model, '--data', s.data, '--out', join(dir, 'run'), '--steps', '1', '--cap-bytes', '100kB'], code: 3, names: ['cap'], absent: ['run'],
}));

// ------------------------------------------------------------------------------------------------------- flags

const FLAG_CASES: [string, (s: Seed, dir: string) => string[], string][] = [
  ['an unknown command', () => ['frobnicate'], 'frobnicate'],
  ['an unknown flag', (s) => [...evalOf(s.model, s), '--frobnicate'], '--frobnicate'],
  ['a flag without its value', (s) => ['eval', '--data', s.data, '--model'], '--model'],
  ['--steps abc', (s, d) => ['train', '--model', s.model, '--data', s.data, '--out', join(d, 'r'), '--steps', 'abc'], '--steps'],
  ['--steps -1', (s, d) => ['train', '--model', s.model, '--data', s.data, '--out', join(d, 'r'), '--steps', '-1'], '--steps'],
  ['--steps 0', (s, d) => ['train', '--model', s.model, '--data', s.data, '--out', join(d, 'r'), '--steps', '0'], '--steps'],
  ['--steps 1.5', (s, d) => ['train', '--model', s.model, '--data', s.data, '--out', join(d, 'r'), '--steps', '1.5'], '--steps'],
  ['--steps 1e99', (s, d) => ['train', '--model', s.model, '--data', s.data, '--out', join(d, 'r'), '--steps', '1e99'], '--steps'],
  ['--rank 0', (s, d) => ['train', '--model', s.model, '--data', s.data, '--out', join(d, 'r'), '--rank', '0'], '--rank'],
  ['--rank 100000', (s, d) => ['train', '--model', s.model, '--data', s.data, '--out', join(d, 'r'), '--rank', '100000'], '--rank'],
  ['--lr 0', (s, d) => ['train', '--model', s.model, '--data', s.data, '--out', join(d, 'r'), '--lr', '0'], '--lr'],
  ['--lr NaN', (s, d) => ['train', '--model', s.model, '--data', s.data, '--out', join(d, 'r'), '--lr', 'NaN'], '--lr'],
  ['--lr Infinity', (s, d) => ['train', '--model', s.model, '--data', s.data, '--out', join(d, 'r'), '--lr', 'Infinity'], '--lr'],
  ['--alpha -1', (s, d) => ['train', '--model', s.model, '--data', s.data, '--out', join(d, 'r'), '--alpha', '-1'], '--alpha'],
  ['--batch 0', (s, d) => ['train', '--model', s.model, '--data', s.data, '--out', join(d, 'r'), '--batch', '0'], '--batch'],
  ['--seq-len 1', (s) => [...evalOf(s.model, s).slice(0, 5), '--seq-len', '1'], '--seq-len'],
  ['--seq-len 1e9', (s) => [...evalOf(s.model, s).slice(0, 5), '--seq-len', '1000000000'], '--seq-len'],
  ['--method bogus', (s, d) => ['train', '--model', s.model, '--data', s.data, '--out', join(d, 'r'), '--method', 'bogus'], '--method'],
  ['--targets q,bogus', (s, d) => ['train', '--model', s.model, '--data', s.data, '--out', join(d, 'r'), '--targets', 'q,bogus'], '--targets'],
  ['--targets empty', (s, d) => ['train', '--model', s.model, '--data', s.data, '--out', join(d, 'r'), '--targets', ''], '--targets'],
  ['--optimizer lion', (s, d) => ['train', '--model', s.model, '--data', s.data, '--out', join(d, 'r'), '--optimizer', 'lion'], '--optimizer'],
  ['--quant int3', (s) => evalOf(s.model, s, ['--quant', 'int3']), '--quant'],
  ['--cap-bytes -5', (s) => [...evalOf(s.model, s), '--cap-bytes', '-5'], '--cap-bytes'],
  ['--cap-bytes 3XB', (s, d) => ['train', '--model', s.model, '--data', s.data, '--out', join(d, 'r'), '--cap-bytes', '3XB'], '--cap-bytes'],
  ['--val-fraction 0.9', (s, d) => ['train', '--model', s.model, '--data', s.data, '--out', join(d, 'r'), '--val-fraction', '0.9'], '--val-fraction'],
  ['train without --out', (s) => ['train', '--model', s.model, '--data', s.data], '--out'],
  ['train without --data', (s, d) => ['train', '--model', s.model, '--out', join(d, 'r')], '--data'],
  ['train --resume with --rank', (s) => ['train', '--resume', s.run, '--rank', '4'], '--rank'],
  ['eval --max-rows 0', (s) => evalOf(s.model, s, ['--max-rows', '0']), '--max-rows'],
  ['export --format bogus', (s, d) => ['export', '--run', s.run, '--format', 'bogus', '--out', join(d, 'e')], '--format'],
  ['import-adapter --format onnx', (s, d) => ['import-adapter', '--from', s.peft, '--out', join(d, 'o'), '--format', 'onnx'], '--format'],
  ['demo-model without --out', () => ['demo-model'], '--out'],
  ['grads --row -1', (s, d) => ['grads', '--model', s.model, '--data', s.data, '--adapter', s.peft, '--method', 'mesp', '--out', join(d, 'o'), '--row', '-1'], '--row'],
  ['grads --row past the data', (s, d) => ['grads', '--model', s.model, '--data', s.data, '--adapter', s.peft, '--method', 'mesp', '--out', join(d, 'o'), '--row', '99'], '--row'],
  ['--seed -3', (s, d) => ['train', '--model', s.model, '--data', s.data, '--out', join(d, 'r'), '--seed', '-3'], '--seed'],
];
for (const [label, args, named] of FLAG_CASES) {
  add('flags', label, (dir, s) => ({ args: args(s, dir), code: label.includes('past the data') ? 5 : 2, names: [named], absent: ['r', 'e', 'o'] }));
}

// ------------------------------------------------------------------------------------------------------- paths

add('paths', 'demo-model --out under a file (ENOTDIR)', (dir) => {
  writeFileSync(join(dir, 'f'), 'x');
  return { args: ['demo-model', '--out', join(dir, 'f', 'm')], code: 5, names: [join(dir, 'f')] };
});
add('paths', 'demo-model --out is a file', (dir) => {
  writeFileSync(join(dir, 'f'), 'x');
  return { args: ['demo-model', '--out', join(dir, 'f')], code: 5, names: [join(dir, 'f')], check: (d) => (readFileSync(join(d, 'f'), 'utf8') === 'x' ? null : 'the file was changed') };
});
add('paths', 'demo-model --dataset is a folder', (dir) => {
  mkdirSync(join(dir, 'd.jsonl'));
  return { args: ['demo-model', '--out', join(dir, 'm'), '--dataset', join(dir, 'd.jsonl')], code: 5, names: ['d.jsonl'], absent: ['m'] };
});
add('paths', 'train --out under a file', (dir, s) => {
  writeFileSync(join(dir, 'f'), 'x');
  return { args: ['train', '--model', s.model, '--data', s.data, '--out', join(dir, 'f', 'run'), '--steps', '1'], code: 5, names: [join(dir, 'f')] };
});
add('paths', 'export --out under a file', (dir, s) => {
  writeFileSync(join(dir, 'f'), 'x');
  return { args: ['export', '--run', s.run, '--format', 'peft', '--out', join(dir, 'f', 'e'), '--parity-rows', '0'], code: 5, names: [join(dir, 'f')] };
});
add('paths', 'import-adapter --out under a file', (dir, s) => {
  writeFileSync(join(dir, 'f'), 'x');
  return { args: ['import-adapter', '--from', s.peft, '--out', join(dir, 'f', 'o')], code: 5, names: [join(dir, 'f')] };
});
add('paths', 'grads --out is a folder', (dir, s) => {
  mkdirSync(join(dir, 'g.safetensors'));
  return { args: ['grads', '--model', s.model, '--data', s.data, '--adapter', s.peft, '--method', 'mesp', '--seq-len', '32', '--out', join(dir, 'g.safetensors'), '--force'], code: 5, names: ['g.safetensors'] };
});
add('paths', 'grads --out under a file', (dir, s) => {
  writeFileSync(join(dir, 'f'), 'x');
  return { args: ['grads', '--model', s.model, '--data', s.data, '--adapter', s.peft, '--method', 'mesp', '--seq-len', '32', '--out', join(dir, 'f', 'g.safetensors')], code: 5, names: [join(dir, 'f')] };
});
add('paths', 'eval --adapter is a file', (dir, s) => ({ args: evalOf(s.model, s, ['--adapter', s.data]), code: 5, names: [s.data] }));
add('paths', 'import-adapter --from does not exist', (dir, s) => ({ args: importOf(join(dir, 'nothing'), dir, s), code: 5, names: ['nothing'], absent: ['out'] }));
add('paths', 'export --run does not exist', (dir) => ({ args: ['export', '--run', join(dir, 'norun'), '--format', 'peft'], code: 5, names: ['norun'] }));
add('paths', 'a model weights file behind a dangling link', (dir, s) => {
  const m = copyModel(s.model, join(dir, 'm'));
  rmSync(join(m, 'model.safetensors'));
  execFileSync('ln', ['-s', join(dir, 'gone.safetensors'), join(m, 'model.safetensors')]);
  return { args: evalOf(m, s), code: 5, names: ['model.safetensors'] };
});

export const CORPUS: readonly Case[] = cases;

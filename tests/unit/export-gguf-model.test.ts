// The GGUF model files (core/export/gguf-model.ts, gguf-tokenizer.ts, `mesp export --format gguf-base|gguf-merged`),
// the Ollama Modelfile (core/export/modelfile.ts) and the merged Hugging Face folder (core/export/hf-merged.ts) on a
// tiny tied and an untied model: read by an independent parser (@huggingface/gguf) with the tensor names, ne, types and
// metadata llama.cpp's qwen2 loader expects, stated here explicitly; values exact in f32 (the merge W + (alpha/r)·B·A
// in f64, rounded once) and equal to our quantizers' blocks in q8_0/q4_0; the tokenizer's tokens, types, merges and
// special ids for the demo tokenizer and the real Qwen one; a --quant int4 run merging from the original weights; the
// Modelfile's Go template rendering what the Jinja chat template renders. That llama.cpp runs these files and gives our
// losses is tests/gpu/llama-parity.test.ts.
import { copyFileSync, existsSync, readFileSync, rmSync, statSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gguf, GGMLQuantizationType } from '@huggingface/gguf';
import { Template } from '@huggingface/jinja';
import { BundleManifestSchema, GGUF_TYPES, type GgufType } from '../../core/api/export';
import { FormatError } from '../../core/common/errors';
import { bf16ArrayToF32, f32ArrayToBf16 } from '../../core/common/half';
import { parseSafetensors, readTensorF32, writeSafetensorsStream } from '../../core/common/safetensors';
import { dequantizeQ4_0, dequantizeQ8_0, quantizeQ4_0, quantizeQ8_0 } from '../../core/export/ggml-quant';
import { ggufModelReader, ggufModelTensors } from '../../core/export/gguf-model';
import { ggufTokenizer, TOKEN_TYPE } from '../../core/export/gguf-tokenizer';
import { hfIndexJson, hfShardTensors, planHfShards } from '../../core/export/hf-merged';
import { mergeLoraWeight } from '../../core/export/merge';
import { buildModelfile, CHATML_GO_TEMPLATE, defaultSystemPrompt } from '../../core/export/modelfile';
import { CHAT_TEMPLATE } from '../../core/model/demo';
import { parseQwen2Config, type Qwen2Config } from '../../core/model/config';
import { PROJECTIONS, projName, projShape } from '../../core/model/weights';
import { exportRun, previewExport } from '../../core/node/export';
import { openModelFolder } from '../../core/node/modelfiles';
import type { HostAdapter } from '../../core/train/lora';
import { renderGoTemplate } from '../helpers/go-template';
import { QWEN25_CHAT_TEMPLATE } from '../helpers/qwen25-template';
import { QWEN_TOKENIZER_CONFIG, QWEN_TOKENIZER_JSON } from '../helpers/qwen-tokenizer';
import { listTree, makeRunFolder, randomAdapter, type RunFolder } from '../helpers/runfolder';
import { makeTinyModel, type TinyModel } from '../helpers/tiny';

const work = mkdtempSync(join(tmpdir(), 'mesp-gguf-model-'));
const cleanups: (() => void)[] = [() => rmSync(work, { recursive: true, force: true })];
afterAll(() => cleanups.forEach((c) => c()));

interface Case {
  name: string;
  model: TinyModel;
  cfg: Qwen2Config;
  adapter: HostAdapter;
  run: RunFolder;
}
const cases: Case[] = [];

beforeAll(() => {
  for (const tied of [true, false]) {
    // 600 tokens in a 1024-row vocabulary: ids 600.. belong to no token (the padding rows of real checkpoints)
    const model = makeTinyModel({ tokenizer: true, tokenizerVocab: 600, tied, dtype: tied ? 'F32' : 'BF16' });
    const cfg = openModelFolder(model.dir).config;
    const adapter = randomAdapter(cfg, { rank: 4, alpha: 8, targets: ['q', 'k', 'v', 'o', 'gate', 'up', 'down'], seed: 5, scale: 0.2 });
    const run = makeRunFolder(model.dir, adapter, { quant: tied ? 'none' : 'int4' });
    cleanups.push(model.cleanup, run.cleanup);
    cases.push({ name: tied ? 'tied f32 base' : 'untied bf16 base, --quant int4 run', model, cfg, adapter, run });
  }
}, 120_000);

const bundles = new Map<string, string>();
async function bundle(c: Case, type: GgufType): Promise<string> {
  const key = `${c.name}:${type}`;
  if (!bundles.has(key)) {
    const out = join(work, `${cases.indexOf(c)}-${type}`);
    await exportRun({ runDir: c.run.dir, formats: ['gguf', 'gguf-base', 'gguf-merged'], outDir: out, ggufType: type, parityRows: 0 });
    bundles.set(key, out);
  }
  return bundles.get(key)!;
}

const GGML: Record<string, GGMLQuantizationType> = { F32: GGMLQuantizationType.F32, F16: GGMLQuantizationType.F16, Q8_0: GGMLQuantizationType.Q8_0, Q4_0: GGMLQuantizationType.Q4_0 };

/** The merged f32 value of an HF tensor (the reference: mergeLoraWeight on the base's own weights). */
function mergedValue(c: Case, hf: string): Float32Array {
  const W = c.model.weights.get(hf)!;
  for (let l = 0; l < c.cfg.layers; l++) {
    for (const p of PROJECTIONS) {
      if (`${projName(l, p)}.weight` !== hf) continue;
      const [o, i] = projShape(c.cfg, p);
      return mergeLoraWeight(W, c.adapter.A.get(`${l}.${p}`)!, c.adapter.B.get(`${l}.${p}`)!, o, i, c.adapter.rank, c.adapter.alpha / c.adapter.rank);
    }
  }
  return W;
}

describe('GGUF model files, read by @huggingface/gguf', () => {
  it('have the tensors llama.cpp\'s qwen2 loader creates, with ne = the HF shape reversed, aligned, typed per --gguf-type', async () => {
    for (const c of cases) {
      for (const type of GGUF_TYPES) {
        const out = await bundle(c, type);
        for (const file of ['gguf/base.gguf', 'gguf/merged.gguf']) {
          const { tensorInfos, tensorDataOffset } = await gguf(join(out, file), { allowLocalFile: true });
          const C = 64;
          const expected: [string, number[]][] = [['token_embd.weight', [C, 1024]]];
          for (let l = 0; l < 2; l++) {
            expected.push(
              [`blk.${l}.attn_norm.weight`, [C]],
              [`blk.${l}.attn_q.weight`, [C, 64]], [`blk.${l}.attn_q.bias`, [64]],
              [`blk.${l}.attn_k.weight`, [C, 32]], [`blk.${l}.attn_k.bias`, [32]],
              [`blk.${l}.attn_v.weight`, [C, 32]], [`blk.${l}.attn_v.bias`, [32]],
              [`blk.${l}.attn_output.weight`, [64, C]],
              [`blk.${l}.ffn_norm.weight`, [C]],
              [`blk.${l}.ffn_gate.weight`, [C, 128]], [`blk.${l}.ffn_up.weight`, [C, 128]], [`blk.${l}.ffn_down.weight`, [128, C]],
            );
          }
          expected.push(['output_norm.weight', [C]]);
          if (!c.cfg.tied) expected.push(['output.weight', [C, 1024]]); // llama.cpp reuses token_embd when output is absent
          const where = `${c.name} ${type} ${file}`;
          expect(tensorInfos.map((t) => [t.name, t.shape.map(Number)]), where).toEqual(expected);
          const matrix = type === 'f32' ? 'F32' : type === 'f16' ? 'F16' : type === 'q8_0' ? 'Q8_0' : 'Q4_0';
          for (const t of tensorInfos) {
            const embed = t.name === 'token_embd.weight' || t.name === 'output.weight';
            const want = t.shape.length === 1 ? 'F32' : embed && type === 'q4_0' ? 'Q8_0' : matrix;
            expect([t.name, t.dtype], where).toEqual([t.name, GGML[want]]);
            expect(Number(t.offset) % 32, `${where} ${t.name}`).toBe(0);
          }
          expect(Number(tensorDataOffset) % 32).toBe(0);
        }
      }
    }
  }, 120_000);

  it('carry the qwen2 hyperparameters, the file type and the tokenizer metadata', async () => {
    const c = cases[0];
    for (const [type, ftype] of [['f32', 0], ['f16', 1], ['q8_0', 7], ['q4_0', 2]] as const) {
      const { metadata } = await gguf(join(await bundle(c, type), 'gguf/merged.gguf'), { allowLocalFile: true });
      const md = metadata as unknown as Record<string, unknown>;
      expect(md['general.architecture']).toBe('qwen2');
      expect(md['general.type']).toBe('model');
      expect(md['general.file_type']).toBe(ftype);
      expect(md['general.quantization_version']).toBe(2);
      expect(md['general.base_model.0.name']).toBe(c.run.config.model.name);
      expect([md['qwen2.block_count'], md['qwen2.context_length'], md['qwen2.embedding_length'], md['qwen2.feed_forward_length']]).toEqual([2, 2048, 64, 128]);
      expect([md['qwen2.attention.head_count'], md['qwen2.attention.head_count_kv']]).toEqual([4, 2]);
      expect(md['qwen2.rope.freq_base']).toBe(10000);
      expect(md['qwen2.attention.layer_norm_rms_epsilon']).toBeCloseTo(1e-6, 12);
      expect([md['tokenizer.ggml.model'], md['tokenizer.ggml.pre']]).toEqual(['gpt2', 'qwen2']);
      const tokens = md['tokenizer.ggml.tokens'] as string[];
      const types = md['tokenizer.ggml.token_type'] as number[];
      expect(tokens.length).toBe(1024); // one per embedding row
      const tj = JSON.parse(readFileSync(join(c.model.dir, 'tokenizer.json'), 'utf8')) as { model: { vocab: Record<string, number>; merges: string[] }; added_tokens: { id: number; content: string }[] };
      for (const [t, id] of Object.entries(tj.model.vocab)) expect([id, tokens[id], types[id]]).toEqual([id, t, TOKEN_TYPE.NORMAL]);
      for (const a of tj.added_tokens) expect([a.id, tokens[a.id], types[a.id]]).toEqual([a.id, a.content, TOKEN_TYPE.CONTROL]);
      expect([tokens[600], types[600], tokens[1023], types[1023]]).toEqual(['[PAD600]', TOKEN_TYPE.UNUSED, '[PAD1023]', TOKEN_TYPE.UNUSED]);
      expect(md['tokenizer.ggml.merges']).toEqual(tj.model.merges);
      const id = (s: string): number => tj.added_tokens.find((a) => a.content === s)!.id;
      expect([md['tokenizer.ggml.bos_token_id'], md['tokenizer.ggml.eos_token_id'], md['tokenizer.ggml.padding_token_id']]).toEqual([id('<|endoftext|>'), id('<|im_end|>'), id('<|endoftext|>')]);
      expect(md['tokenizer.ggml.add_bos_token']).toBe(false);
      expect(md['tokenizer.chat_template']).toBe(CHAT_TEMPLATE);
    }
  });
});

describe('GGUF model values', () => {
  it('f32: the base bit for bit, and the merged W + (alpha/r)·B·A bit for bit (from the original weights after a --quant int4 run)', async () => {
    for (const c of cases) {
      const out = await bundle(c, 'f32');
      const base = ggufModelReader(new Uint8Array(readFileSync(join(out, 'gguf/base.gguf'))), 'base.gguf', c.cfg).read;
      const merged = ggufModelReader(new Uint8Array(readFileSync(join(out, 'gguf/merged.gguf'))), 'merged.gguf', c.cfg).read;
      let changed = 0;
      for (const t of ggufModelTensors(c.cfg, 'f32')) {
        expect(base(t.hf), `${c.name} base ${t.name}`).toEqual(c.model.weights.get(t.hf));
        const want = mergedValue(c, t.hf);
        expect(merged(t.hf), `${c.name} merged ${t.name}`).toEqual(want);
        if (want !== c.model.weights.get(t.hf)) changed++;
      }
      expect(changed).toBe(7 * 2); // every projection of both layers
    }
  });

  it('q8_0 / q4_0: each matrix is our quantizer\'s blocks of the merged f32 values; norms and biases stay exact', async () => {
    for (const c of cases) {
      for (const type of ['q8_0', 'q4_0'] as const) {
        const merged = ggufModelReader(new Uint8Array(readFileSync(join(await bundle(c, type), 'gguf/merged.gguf'))), 'merged.gguf', c.cfg).read;
        for (const t of ggufModelTensors(c.cfg, type)) {
          const want = mergedValue(c, t.hf);
          const expected = t.type === 'Q8_0' ? dequantizeQ8_0(quantizeQ8_0(want)) : t.type === 'Q4_0' ? dequantizeQ4_0(quantizeQ4_0(want)) : want;
          expect(merged(t.hf), `${c.name} ${type} ${t.name} (${t.type})`).toEqual(expected);
        }
      }
    }
  });

  it('a matrix whose rows are not whole 32-value blocks falls back to F16', () => {
    const cfg = parseQwen2Config({
      model_type: 'qwen2', hidden_size: 48, intermediate_size: 96, num_hidden_layers: 1, num_attention_heads: 4, num_key_value_heads: 2,
      vocab_size: 256, rms_norm_eps: 1e-6, rope_theta: 1e4, max_position_embeddings: 64, tie_word_embeddings: true,
    }, 'c');
    const types = Object.fromEntries(ggufModelTensors(cfg, 'q4_0').map((t) => [t.name, t.type]));
    expect(types['token_embd.weight']).toBe('F16'); // ne[0] = 48
    expect(types['blk.0.ffn_down.weight']).toBe('Q4_0'); // ne[0] = 96
    expect(types['blk.0.attn_q.weight']).toBe('F16');
  });

  it('the preview gives every GGUF file\'s exact size', async () => {
    const c = cases[1];
    const out = await bundle(c, 'q4_0');
    const p = await previewExport({ runDir: c.run.dir, formats: ['gguf', 'gguf-base', 'gguf-merged'], ggufType: 'q4_0', outDir: out });
    const files = new Map(p.formats.flatMap((f) => f.files).map((f) => [f.relPath, f]));
    for (const f of ['gguf/base.gguf', 'gguf/merged.gguf', 'gguf/adapter.gguf', 'gguf/Modelfile']) {
      expect([f, files.get(f)!.exact, files.get(f)!.bytes]).toEqual([f, true, statSync(join(out, f)).size]);
    }
    expect(p.formats.find((f) => f.format === 'gguf-base')!.dtype).toBe('q4_0');
  });
});

describe('the tokenizer metadata of the real Qwen tokenizer', () => {
  it('tokens, types, merges and special ids as convert_hf_to_gguf.py writes them for Qwen2.5', () => {
    const t = ggufTokenizer({
      tokenizerJson: readFileSync(QWEN_TOKENIZER_JSON, 'utf8'), tokenizerConfigJson: readFileSync(QWEN_TOKENIZER_CONFIG, 'utf8'),
      modelConfig: { bos_token_id: 151643, eos_token_id: 151645 },
    }, 151936);
    const kv = new Map(t.kvs.map((k) => [k.key, k.value]));
    expect(kv.get('tokenizer.ggml.pre')).toBe('qwen2');
    expect(t.tokens.length).toBe(151936);
    expect(t.tokens[9707]).toBe('Hello');
    expect(t.tokens[151645]).toBe('<|im_end|>');
    expect(t.tokens[151935]).toBe('[PAD151935]');
    const types = (kv.get('tokenizer.ggml.token_type') as { items: number[] }).items;
    expect([types[9707], types[151643], types[151657], types[151659], types[151935]]).toEqual([
      TOKEN_TYPE.NORMAL, TOKEN_TYPE.CONTROL, // <|endoftext|>: special
      TOKEN_TYPE.USER_DEFINED, // <tool_call>: an added token that is not special
      TOKEN_TYPE.CONTROL, // <|fim_prefix|>: not flagged special, but <|...|> (as convert_hf_to_gguf.py's does_token_look_special)
      TOKEN_TYPE.UNUSED,
    ]);
    const merges = (kv.get('tokenizer.ggml.merges') as { items: string[] }).items;
    expect(merges[0]).toBe('Ġ Ġ'); // tokenizer.json stores merges as pairs; GGUF as "left right"
    expect([t.bosId, t.eosId, t.padId]).toEqual([151643, 151645, 151643]);
    expect(t.stopTokens).toEqual(['<|im_end|>', '<|endoftext|>']);
  });

  it('refuses what llama.cpp would tokenize differently, naming the file', () => {
    const wp = JSON.stringify({ model: { type: 'WordPiece', vocab: { a: 0 } }, pre_tokenizer: null });
    expect(() => ggufTokenizer({ tokenizerJson: wp, tokenizerConfigJson: null, files: { tokenizer: 'x/tokenizer.json' } }, 10)).toThrow(FormatError);
    expect(() => ggufTokenizer({ tokenizerJson: wp, tokenizerConfigJson: null, files: { tokenizer: 'x/tokenizer.json' } }, 10)).toThrow(/x\/tokenizer.json.*only byte-level BPE/);
    const big = readFileSync(QWEN_TOKENIZER_JSON, 'utf8');
    expect(() => ggufTokenizer({ tokenizerJson: big, tokenizerConfigJson: null }, 1024)).toThrow(/has id \d+, but the model has only 1024 embedding rows/);
  });

  it('an export of a base without tokenizer.json says why a GGUF model needs one', async () => {
    const m = makeTinyModel({});
    cleanups.push(m.cleanup);
    const run = makeRunFolder(m.dir, randomAdapter(openModelFolder(m.dir).config, { rank: 2, alpha: 4, targets: ['q'] }));
    cleanups.push(run.cleanup);
    const out = join(work, 'no-tok');
    await expect(exportRun({ runDir: run.dir, formats: ['gguf-base'], outDir: out })).rejects.toThrow(/has no tokenizer.json, and a GGUF model needs its tokenizer/);
    expect(existsSync(out)).toBe(false);
  });
});

describe('the Ollama Modelfile', () => {
  it('FROM the base and ADAPTER the LoRA, the template, the system prompt and the stop tokens', async () => {
    const c = cases[0];
    const out = await bundle(c, 'q4_0');
    const mf = readFileSync(join(out, 'gguf/Modelfile'), 'utf8');
    expect(mf).toContain('\nFROM ./base.gguf\nADAPTER ./adapter.gguf\n');
    expect(mf).toContain(`TEMPLATE """${CHATML_GO_TEMPLATE}"""`);
    expect(mf).toContain('SYSTEM """You are a helpful assistant."""');
    expect(mf).toContain('PARAMETER stop "<|im_end|>"\nPARAMETER stop "<|endoftext|>"\n');
    const readme = readFileSync(join(out, 'gguf/README.md'), 'utf8');
    expect(readme).toContain('llama-cli -m gguf/base.gguf --lora gguf/adapter.gguf');
    expect(readme).toContain('llama-cli -m gguf/merged.gguf');
    expect(readme).toContain('ollama create my-model -f gguf/Modelfile');
    const merged = join(work, 'merged-only');
    await exportRun({ runDir: c.run.dir, formats: ['gguf-merged'], outDir: merged, parityRows: 0 });
    expect(listTree(merged)).toEqual(['README.md', 'gguf/Modelfile', 'gguf/README.md', 'gguf/merged.gguf', 'manifest.json']);
    const mf2 = readFileSync(join(merged, 'gguf/Modelfile'), 'utf8');
    expect(mf2).toContain('\nFROM ./merged.gguf\nTEMPLATE');
    expect(mf2).not.toMatch(/^ADAPTER /m);
    const m = BundleManifestSchema.parse(JSON.parse(readFileSync(join(merged, 'manifest.json'), 'utf8')));
    expect(m.parity).toEqual({ status: 'skipped', reason: 'not asked for (--parity-rows 0)', data: null, checks: [] });
    expect(m.files.find((f) => f.relPath === 'gguf/merged.gguf')!.dtype).toBe('f16'); // the default --gguf-type
  });

  it('its Go template renders what the Jinja chat template renders (demo and Qwen2.5 templates)', () => {
    const conversations = [
      [{ role: 'user', content: 'Hi' }],
      [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Name a color.' }, { role: 'assistant', content: 'Blue.' }, { role: 'user', content: 'Another?' }],
    ];
    for (const tpl of [CHAT_TEMPLATE, QWEN25_CHAT_TEMPLATE]) {
      const { text } = buildModelfile({ from: './m.gguf', adapter: null, chatTemplate: tpl, stopTokens: ['<|im_end|>'], title: 't' });
      const go = /TEMPLATE """([\s\S]*?)"""/.exec(text)![1];
      const system = defaultSystemPrompt(tpl)!;
      expect(text).toContain(`SYSTEM """${system}"""`);
      for (const msgs of conversations) {
        const want = new Template(tpl).render({ messages: msgs, add_generation_prompt: true });
        // Ollama puts the Modelfile's SYSTEM first when the conversation has no system message.
        const withSystem = msgs[0].role === 'system' ? msgs : [{ role: 'system', content: system }, ...msgs];
        const got = renderGoTemplate(go, { Messages: withSystem.map((m) => ({ Role: m.role, Content: m.content })) });
        expect(got, `${msgs.length} messages`).toBe(want);
      }
    }
  });

  it('a template that is not ChatML gets a plain prompt template, and the README says so', () => {
    const r = buildModelfile({ from: './m.gguf', adapter: null, chatTemplate: '{{ messages[0].content }}', stopTokens: [], title: 't' });
    expect(r.chatMl).toBe(false);
    expect(r.text).toContain('TEMPLATE """{{ .Prompt }}"""');
    expect(r.text).not.toContain('SYSTEM');
  });
});

describe('the merged Hugging Face folder', () => {
  it('is the base\'s config, the tokenizer files and shards with an index, in the base\'s dtype, loading as a plain Qwen2', async () => {
    for (const c of cases) {
      const out = join(work, `hf-${cases.indexOf(c)}`);
      const r = await exportRun({ runDir: c.run.dir, formats: ['hf-merged'], outDir: out, parityRows: 0 });
      expect(listTree(join(out, 'hf-merged'))).toEqual([
        'README.md', 'config.json', 'generation_config.json', 'model-00001-of-00001.safetensors', 'model.safetensors.index.json', 'tokenizer.json', 'tokenizer_config.json',
      ]);
      for (const f of ['config.json', 'generation_config.json', 'tokenizer.json', 'tokenizer_config.json']) {
        expect(readFileSync(join(out, 'hf-merged', f)), f).toEqual(readFileSync(join(c.model.dir, f)));
      }
      const folder = openModelFolder(join(out, 'hf-merged')); // our loader follows transformers' layout: index → shards
      expect(folder.weightsFile.endsWith('model.safetensors.index.json')).toBe(true);
      const bf16 = c.model.dir && openModelFolder(c.model.dir).dtypeOf('model.embed_tokens.weight') === 'BF16';
      expect(r.files.find((f) => f.relPath.endsWith('.safetensors'))!.dtype).toBe(bf16 ? 'bf16' : 'f32');
      expect(folder.tensorNames).toEqual(openModelFolder(c.model.dir).tensorNames);
      for (const name of folder.tensorNames) {
        expect(folder.dtypeOf(name)).toBe(bf16 ? 'BF16' : 'F32');
        const want = mergedValue(c, name);
        expect(folder.read(name), `${c.name} ${name}`).toEqual(bf16 ? bf16ArrayToF32(f32ArrayToBf16(want)) : want);
      }
      expect(readFileSync(join(out, 'hf-merged/README.md'), 'utf8')).toContain('AutoModelForCausalLM.from_pretrained("hf-merged"');
    }
  });

  it('splits into contiguous shards under the limit, each file under it, the index naming every tensor once', () => {
    const c = cases[1];
    const folder = openModelFolder(c.model.dir);
    const tensors = folder.tensorNames.map((name) => ({ name, dtype: 'BF16' as const, shape: folder.shapeOf(name) }));
    const limit = 150_000;
    const shards = planHfShards(tensors, limit);
    expect(shards.length).toBeGreaterThan(2);
    expect(shards.flatMap((s) => s.tensors.map((t) => t.name))).toEqual(tensors.map((t) => t.name));
    const dir = mkdtempSync(join(work, 'shards-'));
    for (const s of shards) {
      const chunks: Uint8Array[] = [];
      const n = writeSafetensorsStream(hfShardTensors(s, (name) => folder.read(name)), { format: 'pt' }, (b) => chunks.push(b.slice()));
      const bytes = Buffer.concat(chunks);
      expect([s.file, n, bytes.length]).toEqual([s.file, s.bytes, s.bytes]);
      expect(bytes.length).toBeLessThan(limit);
      writeFileSync(join(dir, s.file), bytes);
      const st = parseSafetensors(new Uint8Array(bytes), s.file);
      for (const t of s.tensors) expect(readTensorF32(new Uint8Array(bytes), st.tensors.get(t.name)!, s.file)).toEqual(folder.read(t.name));
    }
    writeFileSync(join(dir, 'model.safetensors.index.json'), hfIndexJson(shards));
    copyFileSync(join(c.model.dir, 'config.json'), join(dir, 'config.json'));
    const back = openModelFolder(dir);
    expect(back.shardFiles.length).toBe(shards.length);
    for (const name of back.tensorNames) expect(back.read(name)).toEqual(folder.read(name));
  });
});

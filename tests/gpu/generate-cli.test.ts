// `mesp generate` and `mesp chat` as a user runs them (real processes, real files, Dawn): the --json object's shape;
// greedy tokens from --prompt-ids equal the float64 reference's, without and with a PEFT adapter folder used as is;
// a seed reproduces a sampled reply and the streamed text is the final text; --messages goes through the chat
// template with the generation prompt; --stop cuts the text; Ctrl-C stops a reply (exit 130); a KV cache over
// --cap-bytes is exit 3; `mesp bench --generate` reports tokens/s and the KV-cache bytes; and the chat keeps
// its history, /reset clears it, /exit, the end of input and Ctrl-C (SIGINT) end it cleanly with exit 0.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writePeft } from '../../core/export/peft';
import { kvCacheBytes } from '../../core/infer/kvcache';
import { writeDemoModel } from '../../core/node/demo';
import { loadTokenizer } from '../../core/node/loaders';
import { openModelFolder } from '../../core/node/modelfiles';
import { runMesp } from '../helpers/cli';
import { randomAdapter, toRef64 } from '../helpers/lora';
import { refGreedy } from '../helpers/ref64-decode';
import { makeTinyModel } from '../helpers/tiny';

const root = mkdtempSync(join(tmpdir(), 'mesp-generate-cli-'));
const tiny = makeTinyModel({ seed: 51 });
afterAll(() => {
  rmSync(root, { recursive: true, force: true });
  tiny.cleanup();
});
const demo = join(root, 'demo');
writeDemoModel(demo);

const mesp = (...args: string[]) => runMesp(args);

interface JsonOut {
  tokens: number[]; text: string; promptTokens: number; finishReason: string;
  prefillTokensPerSecond: number; decodeTokensPerSecond: number; peakBytes: Record<string, number>;
}

async function json(...args: string[]): Promise<JsonOut> {
  const r = await mesp('generate', ...args, '--json');
  if (r.status !== 0) throw new Error(`mesp generate ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  const lines = r.stdout.trim().split('\n');
  expect(lines).toHaveLength(1); // one object, nothing else on stdout
  return JSON.parse(lines[0]) as JsonOut;
}

describe('mesp generate', () => {
  it('--json prints one object of the documented shape; greedy tokens from --prompt-ids equal the float64 reference', async () => {
    const prompt = [17, 400, 3, 999, 250];
    const r = await json('--model', tiny.dir, '--prompt-ids', prompt.join(','), '--temperature', '0', '--max-new-tokens', '10');
    expect(Object.keys(r).sort()).toEqual(['decodeTokensPerSecond', 'finishReason', 'peakBytes', 'prefillTokensPerSecond', 'promptTokens', 'text', 'tokens']);
    expect(Object.keys(r.peakBytes).sort()).toEqual(['activations', 'adapter', 'grads', 'kvcache', 'optimizer', 'total', 'weights', 'workspace']);
    const ref = refGreedy(tiny.cfg, tiny.weights, prompt, 10, null);
    console.log(`CLI greedy ${r.tokens.join(',')} | float64 ${ref.tokens.join(',')}`);
    expect(r.tokens).toEqual(ref.tokens);
    expect(r).toMatchObject({ promptTokens: 5, finishReason: 'length', text: '' }); // no tokenizer.json: tokens only
    const folder = openModelFolder(tiny.dir);
    expect(r.peakBytes.kvcache).toBe(kvCacheBytes(folder.config, 15));
    expect(r.prefillTokensPerSecond).toBeGreaterThan(0);
    expect(r.decodeTokensPerSecond).toBeGreaterThan(0);
  });

  it('--adapter: a PEFT folder is applied unmerged, as it is; the tokens equal the reference with that adapter', async () => {
    const host = randomAdapter(tiny, 4, 8, 12);
    const dir = join(root, 'adapter');
    mkdirSync(dir);
    const p = writePeft(host, 'tiny', 'f32');
    writeFileSync(join(dir, 'adapter_config.json'), p.config);
    writeFileSync(join(dir, 'adapter_model.safetensors'), p.weights);
    const prompt = [5, 6, 7, 8];
    const r = await json('--model', tiny.dir, '--adapter', dir, '--prompt-ids', prompt.join(','), '--temperature', '0', '--max-new-tokens', '8');
    const ref = refGreedy(tiny.cfg, tiny.weights, prompt, 8, toRef64(host));
    const base = refGreedy(tiny.cfg, tiny.weights, prompt, 8, null);
    expect(r.tokens).toEqual(ref.tokens);
    expect(r.tokens).not.toEqual(base.tokens);
    expect(r.peakBytes.adapter).toBeGreaterThan(0);
  });

  it('the same seed gives the same sampled reply; the streamed text is the final text; text is the decoded tokens', async () => {
    const args = ['--model', demo, '--prompt', 'Once upon a time', '--seed', '5', '--max-new-tokens', '24', '--temperature', '0.9', '--top-p', '0.95'];
    const a = await json(...args);
    const b = await json(...args);
    expect(b.tokens).toEqual(a.tokens);
    const c = await json(...args.map((a, i) => (args[i - 1] === '--seed' ? '6' : a))); // another seed, the same settings
    expect(c.tokens).not.toEqual(a.tokens);
    const streamed = await mesp('generate', ...args);
    expect(streamed.status).toBe(0);
    expect(streamed.stdout).toBe(`${a.text}\n`);
    expect(streamed.stderr).toMatch(/prefill [\d.]+ tokens\/s, decode [\d.]+ tokens\/s/);
    expect(streamed.stderr).toMatch(/\| kvcache +\| /);
    const tok = loadTokenizer(demo)!;
    const body = a.finishReason === 'eos' ? a.tokens.slice(0, -1) : a.tokens;
    expect(a.text).toBe(tok.decode(body, { skipSpecialTokens: true }));
  });

  it('--messages goes through the chat template with the generation prompt', async () => {
    const messages = [{ role: 'system', content: 'You answer briefly.' }, { role: 'user', content: 'Hello, who are you?' }];
    const file = join(root, 'chat.json');
    writeFileSync(file, JSON.stringify({ messages }));
    const tok = loadTokenizer(demo)!;
    const rendered = tok.applyChatTemplate(messages, { addGenerationPrompt: true });
    expect(rendered.endsWith('<|im_start|>assistant\n')).toBe(true);
    const ids = tok.encode(rendered, { addSpecialTokens: false });
    const a = await json('--model', demo, '--messages', file, '--temperature', '0', '--max-new-tokens', '12');
    const b = await json('--model', demo, '--prompt-ids', ids.join(','), '--temperature', '0', '--max-new-tokens', '12');
    expect(a.promptTokens).toBe(ids.length);
    expect(a.tokens).toEqual(b.tokens);
  });

  it('--stop ends the text before the stop string', async () => {
    const args = ['--model', demo, '--prompt', 'The', '--seed', '3', '--temperature', '1', '--max-new-tokens', '30'];
    const full = await json(...args);
    expect(full.text.length).toBeGreaterThan(12);
    const stop = full.text.slice(8, 11);
    const cut = await json(...args, '--stop', stop, '--stop', 'a-string-that-never-comes');
    expect(cut.finishReason).toBe('stop');
    expect(cut.text).toBe(full.text.slice(0, full.text.indexOf(stop)));
    expect(full.tokens.slice(0, cut.tokens.length)).toEqual(cut.tokens);
  });

  it('Ctrl-C (SIGINT) stops the reply cleanly: what was generated is kept and summarized, exit 130', async () => {
    const child = spawn(process.execPath, ['bin/mesp.js', 'generate', '--model', demo, '--prompt', 'Tell', '--temperature', '1', '--max-new-tokens', '1000'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const done = new Promise<number | null>((res) => child.on('close', (code) => res(code)));
    const streaming = await new Promise<boolean>((res) => {
      child.stdout.on('data', (d: Buffer) => {
        stdout += d.toString();
        if (stdout.length > 20) res(true);
      });
      child.on('close', () => res(false));
    });
    expect(streaming, `the reply ended before it could be interrupted: ${stderr}`).toBe(true);
    child.kill('SIGINT');
    expect(await done, stderr).toBe(130);
    const m = /\[cancelled: (\d+) new tokens/.exec(stderr);
    expect(m, stderr).not.toBeNull();
    expect(Number(m![1])).toBeLessThan(1000);
    expect(stderr).toMatch(/\| kvcache +\| /);
  });

  it('a KV cache over --cap-bytes is refused before the prefill: exit 3 naming the kvcache tensor', async () => {
    const probe = await json('--model', tiny.dir, '--prompt-ids', '1,2,3', '--max-new-tokens', '2', '--temperature', '0');
    const weights = probe.peakBytes.weights;
    const r = await mesp('generate', '--model', tiny.dir, '--prompt-ids', '1,2,3', '--max-new-tokens', '1500', '--cap-bytes', String(weights + 200_000));
    expect(r.status).toBe(3);
    expect(r.stderr).toMatch(/allocating kvcache:l\d\.[kv] .* lower --max-new-tokens/);
    expect(r.stdout).toBe('');
  });
});

/** Run `mesp chat` with piped stdin; resolves with the exit code and the output. */
function chat(args: string[], script: (child: ReturnType<typeof spawn>, err: () => string) => Promise<void> | void): Promise<{ code: number | null; signal: string | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ['bin/mesp.js', 'chat', ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<{ code: number | null; signal: string | null; stdout: string; stderr: string }>((res) => {
    child.on('close', (code, signal) => res({ code, signal, stdout, stderr }));
  });
  void script(child, () => stderr);
  return done;
}

const summaries = (stderr: string): number[] => [...stderr.matchAll(/after a prompt of (\d+);/g)].map((m) => Number(m[1]));

describe('mesp chat', () => {
  const flags = ['--model', demo, '--temperature', '0.8', '--seed', '9', '--max-new-tokens', '10'];

  it('keeps the history, /reset clears it, /exit ends it (exit 0); lines after /exit are not read', async () => {
    const r = await chat(flags, (c) => {
      c.stdin!.write('Hello there\nTell me more\n/reset\nHello there\n/exit\nnever read\n');
    });
    expect(r.code, r.stderr).toBe(0);
    const prompts = summaries(r.stderr);
    console.log(`chat prompt lengths per turn: ${prompts.join(', ')}`);
    expect(prompts).toHaveLength(3);
    expect(prompts[1]).toBeGreaterThan(prompts[0] + 10); // turn 2 carries turn 1's question and answer
    expect(prompts[2]).toBe(prompts[0]); // after /reset: the same conversation as turn 1
    expect(r.stderr).toMatch(/\(history cleared\)/);
    expect(r.stderr).toMatch(/chat ended/);
    // Turn 1 and turn 3 are the same conversation with the same seed: the reply of `generate --messages` to it.
    const file = join(root, 'hello.json');
    writeFileSync(file, JSON.stringify([{ role: 'user', content: 'Hello there' }]));
    const g = await json('--model', demo, '--messages', file, '--temperature', '0.8', '--seed', '9', '--max-new-tokens', '10');
    expect(r.stdout.startsWith(`${g.text}\n`)).toBe(true);
    expect(r.stdout.endsWith(`\n${g.text}\n`)).toBe(true);
    expect(r.stdout.length).toBeGreaterThan(2 * (g.text.length + 1)); // and a second, different turn in between
    const tok = loadTokenizer(demo)!;
    const first = tok.applyChatTemplate([{ role: 'user', content: 'Hello there' }], { addGenerationPrompt: true });
    expect(prompts[0]).toBe(tok.encode(first, { addSpecialTokens: false }).length);
  });

  it('the same reply as mesp generate --messages with the same settings', async () => {
    const file = join(root, 'one.json');
    writeFileSync(file, JSON.stringify([{ role: 'user', content: 'Hello there' }]));
    const g = await json('--model', demo, '--messages', file, '--temperature', '0.8', '--seed', '9', '--max-new-tokens', '10');
    const r = await chat(flags, (c) => {
      c.stdin!.end('Hello there\n');
    });
    expect(r.code).toBe(0); // the end of input ends the chat cleanly
    expect(r.stdout).toBe(`${g.text}\n`);
  });

  it('Ctrl-C (SIGINT) ends the chat cleanly: exit 0, not killed by the signal', async () => {
    const r = await chat(flags, async (c, err) => {
      c.stdin!.write('Hello there\n');
      for (let i = 0; i < 600 && summaries(err()).length === 0; i++) await new Promise((res) => setTimeout(res, 100));
      c.kill('SIGINT');
    });
    expect(r.signal).toBeNull();
    expect(r.code, r.stderr).toBe(0);
    expect(summaries(r.stderr)).toHaveLength(1);
    expect(r.stderr).toMatch(/chat ended/);
  });

  it('a model without a chat template is refused with the file named (exit 5)', async () => {
    const r = await chat(['--model', tiny.dir], (c) => {
      c.stdin!.end('hi\n');
    });
    expect(r.code).toBe(5);
    expect(r.stderr).toMatch(/no tokenizer\.json, so it cannot chat/);
  });
});

describe('mesp bench --generate', () => {
  it('prints prefill and decode tokens/s and the KV-cache bytes, and writes them to its JSON; the plan equals the measured peak', async () => {
    const shape = join(root, 'shape.json');
    writeFileSync(shape, JSON.stringify({
      model_type: 'qwen2', hidden_size: 128, intermediate_size: 256, num_hidden_layers: 2, num_attention_heads: 4, num_key_value_heads: 2,
      vocab_size: 2048, rms_norm_eps: 1e-6, rope_theta: 10000, max_position_embeddings: 512, tie_word_embeddings: true,
    }));
    const out = join(root, 'bench.json');
    const r = await mesp('bench', '--generate', '--shape', shape, '--prompt-len', '12', '--new-tokens', '6', '--json', out);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/\| prefill tokens\/s \| decode tokens\/s \| KV cache \|/);
    const j = (JSON.parse(readFileSync(out, 'utf8')) as { generate: Record<string, unknown> }).generate as {
      prefillTokensPerSecond: number; decodeTokensPerSecond: number; kvCacheBytes: number; peakBytes: Record<string, number>; predictedPeakBytes: number; quant: string;
    };
    expect(j.quant).toBe('int4');
    expect(j.kvCacheBytes).toBe(2 * 2 * (12 + 6) * 2 * 32 * 4); // K and V, 2 layers, 18 positions, NKV·HS = 64, f32
    expect(j.peakBytes.kvcache).toBe(j.kvCacheBytes);
    expect(j.predictedPeakBytes).toBe(j.peakBytes.total);
    expect(j.prefillTokensPerSecond).toBeGreaterThan(0);
    expect(j.decodeTokensPerSecond).toBeGreaterThan(0);
  });
});

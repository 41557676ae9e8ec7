// Sample replies during training (`--sample-prompts FILE --sample-every N`, TrainSpec fields): through the run
// lifecycle every caller uses (launchRun), `sample` events before the first step, every N steps and after the last, in
// events.jsonl and on the event stream; `mesp train` prints them; the replies are the generation service's
// greedy replies with the live adapter: at step 0 the base model's (PEFT's initial B = 0), at the end those of
// `mesp generate --run RUN_DIR` (the run's final adapter, read back from its folder). A bad prompts file fails the run
// before it starts, naming the line.
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { RunEvent } from '../../core/api/train';
import { DataError } from '../../core/common/errors';
import { SAMPLE_MAX_NEW_TOKENS } from '../../core/infer/samples';
import { writeDemoDataset, writeDemoModel } from '../../core/node/demo';
import { RunStore } from '../../core/node/runstore';
import { runGenerate } from '../../core/node/service/generate';
import { launchRun } from '../../core/node/service/lifecycle';
import { runMesp } from '../helpers/cli';

const root = mkdtempSync(join(tmpdir(), 'mesp-train-samples-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const model = join(root, 'demo');
writeDemoModel(model);
const data = writeDemoDataset(join(root, 'data.jsonl'));
const chatPrompt = [{ role: 'user', content: 'What is the capital of France?' }];
const prompts = join(root, 'prompts.jsonl');
writeFileSync(prompts, `${JSON.stringify({ messages: chatPrompt })}\n\n${JSON.stringify('The weather today is')}\n`);

describe('sample replies during training', () => {
  it('before the first step, every N steps and after the last; equal to the greedy replies of the generation service', async () => {
    const out = join(root, 'run');
    const streamed: RunEvent[] = [];
    const run = await launchRun({
      input: {
        modelDir: model, dataPath: data, outDir: out, method: 'mesp', steps: 5, batch: 4, seqLen: 96, optimizer: 'sgd', lr: 0.05, seed: 1,
        targets: ['q', 'k', 'v', 'o', 'gate', 'up', 'down'], samplePrompts: prompts, sampleEvery: 2,
      },
      onEvent: (e) => streamed.push(e),
    });
    expect((await run.outcome).reason).toBe('done');
    const events = new RunStore(out).readEvents();
    const samples = events.filter((e): e is Extract<RunEvent, { type: 'sample' }> => e.type === 'sample');
    expect(streamed.filter((e) => e.type === 'sample')).toEqual(samples);
    expect(samples.map((s) => s.step)).toEqual([0, 0, 2, 2, 4, 4, 5, 5]);
    expect(samples.map((s) => s.prompt)).toEqual(Array(4).fill(['What is the capital of France?', 'The weather today is']).flat());
    // Order in the file: step 2's replies come after step 2's step event and before step 3's.
    const at = (pred: (e: RunEvent) => boolean) => events.findIndex(pred);
    expect(at((e) => e.type === 'sample' && e.step === 2)).toBeGreaterThan(at((e) => e.type === 'step' && e.step === 2));
    expect(at((e) => e.type === 'sample' && e.step === 2)).toBeLessThan(at((e) => e.type === 'step' && e.step === 3));

    const greedy = { temperature: 0, maxNewTokens: SAMPLE_MAX_NEW_TOKENS };
    const base = await runGenerate({ modelDir: model, messages: chatPrompt, ...greedy });
    const baseText = await runGenerate({ modelDir: model, prompt: 'The weather today is', ...greedy });
    expect(samples[0].reply).toBe(base.text);
    expect(samples[1].reply).toBe(baseText.text);
    // After the last step: the run's final adapter, through the CLI with --run (model, quant and profile from the run).
    const file = join(root, 'chat.json');
    writeFileSync(file, JSON.stringify(chatPrompt));
    const generateRun = async (...prompt: string[]): Promise<{ text: string; tokens: number[]; peakBytes: { adapter: number } }> => {
      const r = await runMesp(['generate', '--run', out, ...prompt, '--temperature', '0', '--max-new-tokens', String(SAMPLE_MAX_NEW_TOKENS), '--json']);
      expect(r.status, r.stderr).toBe(0);
      return JSON.parse(r.stdout) as { text: string; tokens: number[]; peakBytes: { adapter: number } };
    };
    const tuned = await generateRun('--messages', file);
    const tunedText = await generateRun('--prompt', 'The weather today is');
    expect(tuned.peakBytes.adapter).toBeGreaterThan(0);
    expect(samples[6].reply).toBe(tuned.text);
    expect(samples[7].reply).toBe(tunedText.text);
    for (const s of samples) console.log(`step ${s.step} ${JSON.stringify(s.prompt)}: ${JSON.stringify(s.reply.slice(0, 50))}`);
    expect(tunedText.tokens.length).toBeGreaterThan(3); // a reply of substance, not only an EOS
    expect(samples[6].reply + samples[7].reply).not.toBe(samples[0].reply + samples[1].reply); // the adapter changed the answers
  });

  it('mesp train --sample-prompts --sample-every prints each reply and writes it to events.jsonl', async () => {
    const out = join(root, 'cli-run');
    const r = await runMesp(['train', '--model', model, '--data', data, '--out', out, '--steps', '2', '--seq-len', '64', '--sample-prompts', prompts, '--sample-every', '1']);
    expect(r.status, r.stderr).toBe(0);
    const printed = [...r.stdout.matchAll(/^step (\d+) sample: "([^"]*)" → /gm)].map((m) => `${m[1]} ${m[2]}`);
    expect(printed).toEqual(['0', '1', '2'].flatMap((k) => [`${k} What is the capital of France?`, `${k} The weather today is`]));
    const samples = new RunStore(out).readEvents().filter((e) => e.type === 'sample');
    expect(samples.map((e) => e.step)).toEqual([0, 0, 1, 1, 2, 2]);
  });

  it('a bad prompts file fails the run before it starts, naming the file and line', async () => {
    const bad = join(root, 'bad.jsonl');
    writeFileSync(bad, '"fine"\n{"prompt": 3}\n');
    const out = join(root, 'bad-run');
    const err = await launchRun({ input: { modelDir: model, dataPath: data, outDir: out, steps: 1, samplePrompts: bad } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DataError);
    expect((err as Error).message).toMatch(/bad\.jsonl:2: not a prompt \(prompt: /);
    expect(existsSync(out)).toBe(false);
  });
});

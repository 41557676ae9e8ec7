// Bad flags and bad input files of `mesp generate` and `mesp chat`: each gives one line naming the flag, the value
// and what is allowed (exit 2; the words of core/node/cli/flags.ts, as every command's), or the file and what is wrong
// in it (exit 5). Negative numbers are values, refused by the schema's range. No GPU is reached.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writeDemoModel } from '../../core/node/demo';
import { runMesp } from '../helpers/cli';

const root = mkdtempSync(join(tmpdir(), 'mesp-generate-errors-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const model = join(root, 'demo');
writeDemoModel(model);

const mesp = (...args: string[]) => runMesp(args);

const file = (name: string, text: string): string => {
  const p = join(root, name);
  writeFileSync(p, text);
  return p;
};

describe('mesp generate and chat: bad flags and files', () => {
  const usage: [string, string[], RegExp][] = [
    ['two prompts', ['--prompt', 'hi', '--prompt-ids', '1,2'], /^mesp generate: give --prompt or --prompt-ids, not both/],
    ['a prompt and a chat file', ['--prompt', 'hi', '--messages', 'chat.json'], /^mesp generate: give --prompt or --messages, not both/],
    ['no prompt', [], /^mesp generate: give --prompt, --prompt-ids or --messages/],
    ['top-p over 1', ['--prompt', 'hi', '--top-p', '2'], /--top-p must be ≤ 1, got 2/],
    ['top-p of 0', ['--prompt', 'hi', '--top-p', '0'], /--top-p must be > 0, got 0/],
    ['negative temperature', ['--prompt', 'hi', '--temperature=-1'], /--temperature must be ≥ 0, got -1/],
    ['negative temperature as the next word', ['--prompt', 'hi', '--temperature', '-1'], /--temperature must be ≥ 0, got -1/],
    ['temperature not a number', ['--prompt', 'hi', '--temperature', 'warm'], /--temperature must be a number, got "warm"/],
    ['zero new tokens', ['--prompt', 'hi', '--max-new-tokens', '0'], /--max-new-tokens must be ≥ 1, got 0/],
    ['fractional new tokens', ['--prompt', 'hi', '--max-new-tokens', '2.5'], /--max-new-tokens must be a whole number, got 2\.5/],
    ['fractional top-k', ['--prompt', 'hi', '--top-k', '1.5'], /--top-k must be a whole number, got 1\.5/],
    ['repetition penalty 0', ['--prompt', 'hi', '--repetition-penalty', '0'], /--repetition-penalty must be > 0, got 0/],
    ['negative repetition penalty', ['--prompt', 'hi', '--repetition-penalty', '-1'], /--repetition-penalty must be > 0, got -1/],
    ['negative seed', ['--prompt', 'hi', '--seed', '-7'], /--seed must be ≥ 0, got -7/],
    ['bad token ids', ['--prompt-ids', '1,,2'], /--prompt-ids must be numbers separated by commas .*got nothing at position 2/],
    ['a word among the token ids', ['--prompt-ids', '1,two'], /--prompt-ids must be numbers separated by commas .*got "two" at position 2/],
    ['negative token id', ['--prompt-ids', '3,-4'], /--prompt-ids must be ≥ 0, got "3,-4" at position 2/],
    ['adapter and run', ['--prompt', 'hi', '--adapter', root, '--run', root], /give --adapter or --run, not both/],
    ['bad quant', ['--prompt', 'hi', '--quant', 'int3'], /--quant must be one of none, int8, int4, got "int3"/],
    ['a cap of no bytes', ['--prompt', 'hi', '--cap-bytes', '-5MB'], /--cap-bytes must be > 0, got "-5MB"/],
    ['unknown flag', ['--prompt', 'hi', '--topp', '0.5'], /unknown flag --topp; did you mean --top-p\?/],
    ['a missing value', ['--prompt'], /--prompt needs a value \(TEXT\)/],
  ];
  for (const [name, args, msg] of usage) {
    it(`generate, ${name}: exit 2 naming the flag`, async () => {
      const r = await mesp('generate', '--model', model, ...args);
      expect(r.stderr, name).toMatch(msg);
      expect(r.status, name).toBe(2);
      expect(r.stderr.trim().split('\n').filter((l) => !l.startsWith('Warning:'))).toHaveLength(1);
    });
  }

  it('no --model (and no --run): exit 2', async () => {
    const r = await mesp('generate', '--prompt', 'hi');
    expect(r.status).toBe(2);
    expect(r.stderr.trim()).toBe('mesp generate: give --model or --run (see `mesp generate --help`)');
  });

  it('chat: a bad sampling flag is exit 2 naming it, before the model is loaded', async () => {
    const r = await mesp('chat', '--model', model, '--top-k=-3');
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--top-k must be ≥ 0, got -3/);
    expect((await mesp('chat', '--model', model, '--prompt', 'hi')).stderr).toMatch(/unknown flag --prompt/);
  });

  it('--help of generate, chat and bench --generate lists every flag of their schemas', async () => {
    for (const [cmd, flags] of [
      ['generate', ['--model', '--adapter', '--run', '--prompt', '--prompt-ids', '--messages', '--max-new-tokens', '--temperature', '--top-k', '--top-p', '--repetition-penalty', '--seed', '--stop', '--quant', '--profile', '--cap-bytes', '--json']],
      ['chat', ['--model', '--adapter', '--run', '--system', '--max-new-tokens', '--temperature', '--stop']],
      ['bench', ['--generate', '--prompt-len', '--new-tokens', '--rank']],
    ] as const) {
      const r = await mesp(cmd, '--help');
      expect(r.status, cmd).toBe(0);
      for (const f of flags) expect(r.stdout, `mesp ${cmd} --help: ${f}`).toMatch(new RegExp(`^ {2}${f} `, 'm'));
    }
  });

  it('bench --generate: a bad flag is exit 2 naming it; rank 0 is allowed (no adapter), a negative one is not', async () => {
    let r = await mesp('bench', '--generate', '--shape', 'qwen2.5-0.5b', '--rank', '-1');
    expect([r.status, r.stderr.trim()]).toEqual([2, 'mesp bench: --rank must be ≥ 0, got -1 (see `mesp bench --help`)']);
    r = await mesp('bench', '--generate', '--shape', 'qwen2.5-0.5b', '--new-tokens', '0');
    expect(r.stderr).toMatch(/^mesp bench: --new-tokens must be ≥ 1, got 0/);
    r = await mesp('bench', '--generate', '--shape', 'qwen2.5-0.5b', '--methods', 'mesp');
    expect(r.stderr).toMatch(/^mesp bench: unknown flag --methods/);
  });

  const bad: [string, () => string[], RegExp][] = [
    ['a missing messages file', () => ['--messages', join(root, 'nope.json')], /nope\.json: does not exist/],
    ['a messages file that is not JSON', () => ['--messages', file('broken.json', '[{"role": "user",')], /broken\.json: is not valid JSON/],
    ['a message without content', () => ['--messages', file('nocontent.json', '[{"role": "user"}]')], /nocontent\.json: message 0: content: /],
    ['an empty chat', () => ['--messages', file('empty.json', '{"messages": []}')], /empty\.json: must hold a non-empty list of messages/],
    ['a missing model folder', () => ['--prompt', 'hi', '--model', join(root, 'no-model')], /no-model does not exist or is not a folder/],
    ['a run folder that is not one', () => ['--prompt', 'hi', '--run', root], /is not a run folder \(no config\.json\)/],
    ['an unknown profile', () => ['--prompt', 'hi', '--profile', 'phone-99gb'], /phone-99gb/],
  ];
  for (const [name, args, msg] of bad) {
    it(`generate, ${name}: exit 5 naming the file`, async () => {
      const a = args();
      const r = a.includes('--model') ? await mesp('generate', ...a) : await mesp('generate', '--model', model, ...a);
      expect(r.stderr, name).toMatch(msg);
      expect(r.status, name).toBe(5);
    });
  }
});

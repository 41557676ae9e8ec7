// Bad flags and bad input files of `mesp generate` and `mesp chat`: each gives one line naming the flag, the value
// and what is allowed (exit 2), or the file and what is wrong in it (exit 5). No GPU is reached.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writeDemoModel } from '../../core/node/demo';

const root = mkdtempSync(join(tmpdir(), 'mesp-generate-errors-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const model = join(root, 'demo');
writeDemoModel(model);

function mesp(...args: string[]): { status: number | null; stderr: string; stdout: string } {
  const r = spawnSync(process.execPath, ['bin/mesp.js', ...args], { encoding: 'utf8', input: '' });
  return { status: r.status, stderr: r.stderr, stdout: r.stdout };
}

const file = (name: string, text: string): string => {
  const p = join(root, name);
  writeFileSync(p, text);
  return p;
};

describe('mesp generate and chat: bad flags and files', () => {
  const usage: [string, string[], RegExp][] = [
    ['two prompts', ['--prompt', 'hi', '--prompt-ids', '1,2'], /give exactly one of --prompt, --prompt-ids or --messages/],
    ['no prompt', [], /give exactly one of --prompt, --prompt-ids or --messages/],
    ['top-p over 1', ['--prompt', 'hi', '--top-p', '2'], /--top-p must be ≤ 1, got "2"/],
    ['top-p of 0', ['--prompt', 'hi', '--top-p', '0'], /--top-p must be > 0, got "0"/],
    ['negative temperature', ['--prompt', 'hi', '--temperature=-1'], /--temperature must be ≥ 0, got "-1"/],
    ['temperature not a number', ['--prompt', 'hi', '--temperature', 'warm'], /--temperature must be a number, got "warm"/],
    ['zero new tokens', ['--prompt', 'hi', '--max-new-tokens', '0'], /--max-new-tokens must be ≥ 1, got "0"/],
    ['fractional new tokens', ['--prompt', 'hi', '--max-new-tokens', '2.5'], /--max-new-tokens must be an integer, got "2.5"/],
    ['fractional top-k', ['--prompt', 'hi', '--top-k', '1.5'], /--top-k must be an integer, got "1.5"/],
    ['repetition penalty 0', ['--prompt', 'hi', '--repetition-penalty', '0'], /--repetition-penalty must be > 0, got "0"/],
    ['bad token ids', ['--prompt-ids', '1,,2'], /--prompt-ids must be token ids separated by commas .* at position 2/],
    ['negative token id', ['--prompt-ids', '3,-4'], /--prompt-ids must be token ids .* got "-4"/],
    ['adapter and run', ['--prompt', 'hi', '--adapter', root, '--run', root], /give --adapter DIR or --run RUN_DIR, not both/],
    ['bad quant', ['--prompt', 'hi', '--quant', 'int3'], /--quant must be one of none, int8, int4, got "int3"/],
    ['unknown flag', ['--prompt', 'hi', '--topp', '0.5'], /Unknown option '--topp'/],
  ];
  for (const [name, args, msg] of usage) {
    it(`generate, ${name}: exit 2 naming the flag`, () => {
      const r = mesp('generate', '--model', model, ...args);
      expect(r.stderr, name).toMatch(msg);
      expect(r.status, name).toBe(2);
      expect(r.stderr.trim().split('\n').filter((l) => !l.startsWith('Warning:'))).toHaveLength(1);
    });
  }

  it('no --model: exit 2', () => {
    const r = mesp('generate', '--prompt', 'hi');
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--model is required \(or --run RUN_DIR\)/);
  });

  it('chat: a bad sampling flag is exit 2 naming it, before the model is loaded', () => {
    const r = mesp('chat', '--model', model, '--top-k=-3');
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--top-k must be ≥ 0, got "-3"/);
    expect(mesp('chat', '--model', model, '--prompt', 'hi').stderr).toMatch(/Unknown option '--prompt'/);
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
    it(`generate, ${name}: exit 5 naming the file`, () => {
      const a = args();
      const r = a.includes('--model') ? mesp('generate', ...a) : mesp('generate', '--model', model, ...a);
      expect(r.stderr, name).toMatch(msg);
      expect(r.status, name).toBe(5);
    });
  }
});

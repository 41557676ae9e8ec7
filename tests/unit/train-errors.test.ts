// Bad input to `mesp train`: an adapter whose shapes do not fit the model, a rank mismatch, a prompt longer
// than --seq-len, an empty dataset and a chat row with an unknown role each give a clear message naming the file,
// line, tensor or flag, exit code 5, and no run folder left behind half-made. No GPU is reached.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseQwen2Config } from '../../core/model/config';
import { writeTinyQwen2 } from '../../core/model/demo';
import { writeDemoModel } from '../../core/node/demo';
import { initHostAdapter } from '../../core/train/lora';
import { writePeftFolder } from '../helpers/lora';

const root = mkdtempSync(join(tmpdir(), 'mesp-train-errors-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const model = join(root, 'demo');
writeDemoModel(model);
const good = join(root, 'good.jsonl');
writeFileSync(good, '{"text": "hello there"}\n{"text": "general kenobi"}\n');

function mesp(...args: string[]): { status: number | null; stderr: string } {
  const r = spawnSync(process.execPath, ['bin/mesp.js', 'train', ...args], { encoding: 'utf8' });
  return { status: r.status, stderr: r.stderr };
}

describe('mesp train: bad input', () => {
  it('an adapter whose shapes do not fit the model', () => {
    const other = writeTinyQwen2({ hidden: 64, layers: 4, heads: 4, kvHeads: 2, intermediate: 256, vocab: 1024, tied: true, dtype: 'F32', seed: 1 });
    const cfg = parseQwen2Config(JSON.parse(new TextDecoder().decode(other.get('config.json')!)), 'other');
    const dir = writePeftFolder(join(root, 'wrong-shape'), initHostAdapter(cfg, { rank: 4, alpha: 8, targets: ['q', 'v'], seed: 1 }), 'x');
    const out = join(root, 'run-wrong-shape');
    const r = mesp('--model', model, '--data', good, '--out', out, '--init-adapter', dir, '--steps', '1');
    expect(r.status).toBe(5);
    expect(r.stderr).toMatch(/layer 0 q_proj lora_A has 256 values, the model needs \[4, 128\]/);
    expect(existsSync(out)).toBe(false);
  });

  it('a rank mismatch: adapter_config.json r against the tensors, and --rank against the adapter', () => {
    const cfg = parseQwen2Config(JSON.parse(new TextDecoder().decode(writeTinyQwen2({ hidden: 128, layers: 4, heads: 4, kvHeads: 2, intermediate: 256, vocab: 1024, tied: true, dtype: 'F32', seed: 1 }).get('config.json')!)), 'demo');
    const a = initHostAdapter(cfg, { rank: 4, alpha: 8, targets: ['q', 'v'], seed: 1 });
    const bad = writePeftFolder(join(root, 'bad-r'), a, 'x', { r: 8 });
    let r = mesp('--model', model, '--data', good, '--out', join(root, 'run-bad-r'), '--init-adapter', bad, '--steps', '1');
    expect(r.status).toBe(5);
    expect(r.stderr).toMatch(/rank mismatch: base_model\.model\.model\.layers\.0\.self_attn\.q_proj\.lora_A\.weight has shape \[4, 128\], but adapter_config\.json says r = 8/);
    const ok = writePeftFolder(join(root, 'ok-r'), a, 'x');
    r = mesp('--model', model, '--data', good, '--out', join(root, 'run-rank-flag'), '--init-adapter', ok, '--rank', '16', '--steps', '1');
    expect(r.status).toBe(5);
    expect(r.stderr).toMatch(/rank mismatch: --init-adapter .* has r = 4, but --rank 16 was asked/);
  });

  it('a prompt longer than --seq-len, naming the file and line', () => {
    const f = join(root, 'long.jsonl');
    writeFileSync(f, '{"prompt": "a", "completion": "b"}\n{"prompt": "this prompt is certainly far longer than eight tokens of text", "completion": "ok"}\n');
    const r = mesp('--model', model, '--data', f, '--out', join(root, 'run-long'), '--seq-len', '8', '--steps', '1');
    expect(r.status).toBe(5);
    expect(r.stderr).toContain(`${f}:2:`);
    expect(r.stderr).toMatch(/prompt of \d+ tokens is longer than --seq-len 8/);
  });

  it('an empty dataset', () => {
    const f = join(root, 'empty.jsonl');
    writeFileSync(f, '\n\n');
    const r = mesp('--model', model, '--data', f, '--out', join(root, 'run-empty'), '--steps', '1');
    expect(r.status).toBe(5);
    expect(r.stderr).toContain(f);
    expect(r.stderr).toMatch(/has no rows/);
  });

  it('a chat row with an unknown role, naming the line and the role', () => {
    const f = join(root, 'chat.jsonl');
    writeFileSync(f, [
      JSON.stringify({ messages: [{ role: 'user', content: 'hi' }, { role: 'assistant', content: 'hello' }] }),
      JSON.stringify({ messages: [{ role: 'user', content: 'hi' }, { role: 'wizard', content: 'poof' }] }),
    ].join('\n') + '\n');
    const r = mesp('--model', model, '--data', f, '--out', join(root, 'run-chat'), '--steps', '1');
    expect(r.status).toBe(5);
    expect(r.stderr).toContain(`${f}:2:`);
    expect(r.stderr).toMatch(/wizard/);
  });

  it('usage errors exit with 2 and name the flag', () => {
    const r = mesp('--model', model, '--data', good, '--out', join(root, 'x'), '--method', 'sgd');
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--method must be one of full, mebp, mesp, mezo, got "sgd"/);
  });
});



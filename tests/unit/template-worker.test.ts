// core/node/template-worker.ts: chat templates render in a worker thread under a time and output limit, off the main
// thread (the main thread keeps running while a template loops); a render that breaks a limit fails with that limit,
// and so do the renders of the same template queued behind it, while the worker keeps serving others afterwards.
import { afterAll, describe, expect, test } from 'vitest';
import { TemplateError } from '../../core/data/template';
import { WorkerTemplateRunner } from '../../core/node/template-worker';

const runner = new WorkerTemplateRunner({ timeoutMs: 700, maxOutputChars: 10_000, maxHeapMb: 64 });
// for the output limit: a time limit no loaded machine reaches
const roomy = new WorkerTemplateRunner({ timeoutMs: 120_000, maxOutputChars: 10_000, maxHeapMb: 64 });
afterAll(() => {
  runner.close();
  roomy.close();
});

const kindOf = async (p: Promise<unknown>): Promise<string> => {
  try {
    await p;
    return 'ok';
  } catch (e) {
    expect(e).toBeInstanceOf(TemplateError);
    return (e as TemplateError).kind;
  }
};

// 10¹⁰ iterations over small ranges (each freed after its loop): only the time limit can end it, never the heap's.
const ENDLESS = '{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}';

describe('WorkerTemplateRunner', () => {
  test('renders a template with its context', async () => {
    expect(await runner.render('{% for m in messages %}<{{ m.role }}>{{ m.content }}{% endfor %}', { messages: [{ role: 'user', content: 'hi' }] })).toBe('<user>hi');
  });

  test('an endless loop ends at the time limit, and the main thread ran meanwhile', async () => {
    let ticks = 0;
    const timer = setInterval(() => ticks++, 20);
    const kind = await kindOf(runner.render(ENDLESS, {}));
    clearInterval(timer);
    expect(kind).toBe('time');
    expect(ticks, 'main-thread timer ticks during the render').toBeGreaterThan(10);
  });

  test('the renders of a runaway template queued behind it fail at once with the same limit', async () => {
    const kinds = await Promise.all(Array.from({ length: 6 }, () => kindOf(runner.render(`${ENDLESS}x`, {}))));
    expect(kinds).toEqual(Array(6).fill('time'));
  });

  test('output past the limit fails as output; raise_exception as raised; then it renders again', async () => {
    expect(await kindOf(roomy.render('{% for i in range(5000) %}xxxxxxxx{% endfor %}', {}))).toBe('output');
    expect(await kindOf(roomy.render("{{ raise_exception('roles must alternate') }}", {}))).toBe('raised');
    expect(await roomy.render('{{ a }}', { a: 'still here' })).toBe('still here');
    expect(await runner.render('{{ a }}', { a: 'and here' }), 'the runner whose worker was ended renders again').toBe('and here');
  });
});

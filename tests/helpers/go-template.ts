// A tiny interpreter of the subset of Go's text/template (pkg.go.dev/text/template) that our Ollama TEMPLATE uses:
// text, actions {{ .Field }}, {{ range .List }} ... {{ end }}, {{ if .Field }} ... {{ else }} ... {{ end }}, and the
// trim markers "{{- " / " -}}" (trim the whitespace before / after the action). Written from Go's documentation, for
// tests only: it renders what Ollama would render for .Messages, so the Modelfile's template can be compared with the
// Jinja chat template it stands for. Anything else in a template is an error, so the test notices a template it does
// not understand.

type Scope = Record<string, unknown>;

interface Tok {
  kind: 'text' | 'action';
  value: string;
}

function lex(src: string): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  while (i < src.length) {
    const open = src.indexOf('{{', i);
    if (open < 0) {
      out.push({ kind: 'text', value: src.slice(i) });
      break;
    }
    let text = src.slice(i, open);
    const close = src.indexOf('}}', open);
    if (close < 0) throw new Error(`go-template: unclosed action at ${open}`);
    let body = src.slice(open + 2, close);
    if (body.startsWith('- ')) {
      text = text.replace(/\s+$/, '');
      body = body.slice(2);
    }
    let trimAfter = false;
    if (body.endsWith(' -')) {
      trimAfter = true;
      body = body.slice(0, -2);
    }
    out.push({ kind: 'text', value: text }, { kind: 'action', value: body.trim() });
    i = close + 2;
    if (trimAfter) while (i < src.length && /\s/.test(src[i])) i++;
  }
  return out;
}

function field(scope: Scope, path: string): unknown {
  if (!path.startsWith('.')) throw new Error(`go-template: unsupported expression "${path}"`);
  return path === '.' ? scope : scope[path.slice(1)];
}

function truthy(v: unknown): boolean {
  if (Array.isArray(v)) return v.length > 0;
  return v !== undefined && v !== null && v !== false && v !== '' && v !== 0;
}

/** Render `src` with data (e.g. { Messages: [{ Role, Content }] }). */
export function renderGoTemplate(src: string, data: Scope): string {
  const toks = lex(src);
  let pos = 0;
  const block = (scope: Scope, stopAt: string[]): { out: string; stop: string } => {
    let out = '';
    while (pos < toks.length) {
      const t = toks[pos++];
      if (t.kind === 'text') {
        out += t.value;
        continue;
      }
      const a = t.value;
      if (stopAt.includes(a)) return { out, stop: a };
      if (a.startsWith('range ')) {
        const list = field(scope, a.slice(6).trim());
        if (!Array.isArray(list)) throw new Error(`go-template: range over a non-list "${a}"`);
        const start = pos;
        let end = pos;
        if (!list.length) {
          block(scope, ['end']);
          end = pos;
        }
        for (const item of list) {
          pos = start;
          out += block(item as Scope, ['end']).out;
          end = pos;
        }
        pos = end;
      } else if (a.startsWith('if ')) {
        const cond = truthy(field(scope, a.slice(3).trim()));
        const first = block(scope, ['else', 'end']);
        let second = '';
        if (first.stop === 'else') second = block(scope, ['end']).out;
        out += cond ? first.out : second;
      } else if (a.startsWith('.')) {
        out += String(field(scope, a) ?? '');
      } else {
        throw new Error(`go-template: unsupported action "{{ ${a} }}"`);
      }
    }
    if (stopAt.length) throw new Error(`go-template: missing {{ ${stopAt.join(' | ')} }}`);
    return { out, stop: '' };
  };
  return block(data, []).out;
}

// Command-line flags from zod objects with field metadata (core/api/fields.ts): one flag per field (`--seq-len N`,
// `--store-h`, `--no-chunked-head`, `--targets q,v`), parsed by one small reader every command shares, validated by
// the same schema the service uses, and --help written from the same metadata. So every command reports the same
// usage errors: one line naming the flag, the value and what is allowed (`--seq-len must be ≤ 32768, got 100000`),
// a did-you-mean for an unknown flag, never a JSON dump or an internal field name. Values are taken as given, so
// `--lr -0.01` reads -0.01 (and is then refused as not > 0), and `--name=value` works too.
import type { z } from 'zod';
import { fieldsOf, issueText, rangeText, showValue, type FieldInfo } from '../../api/fields';
import { MespError } from '../../common/errors';

export class UsageError extends MespError {
  constructor(message: string) {
    super('USAGE', message);
  }
}

/** The flags of a command: the fields of its zod objects, by flag name. */
export interface FlagTable {
  fields: FieldInfo[];
  byFlag: Map<string, FieldInfo>;
}

export function flagTable(...schemas: z.ZodObject[]): FlagTable {
  const fields: FieldInfo[] = [];
  const byFlag = new Map<string, FieldInfo>();
  for (const s of schemas) {
    for (const f of fieldsOf(s)) {
      if (byFlag.has(f.flag)) throw new Error(`flag --${f.flag} is declared twice`);
      byFlag.set(f.flag, f);
      fields.push(f);
    }
  }
  return { fields, byFlag };
}

/** What was read: each field's value (not validated yet) and the text typed for it (for messages). */
export interface ReadFlags {
  values: Record<string, unknown>;
  text: Record<string, string>;
  /** Keys given on the command line, in order. */
  given: string[];
}

function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
  }
  return d[a.length][b.length];
}

/** The flag names a user may type: every field's, and --no-X for booleans. */
function spellings(t: FlagTable): string[] {
  return t.fields.flatMap((f) => (f.type.kind === 'boolean' ? [f.flag, `no-${f.flag}`] : [f.flag]));
}

/** The closest of `candidates` to a mistyped word, if any is close. */
export function closest(typed: string, candidates: readonly string[]): string | null {
  let best: string | null = null;
  let bestD = Infinity;
  for (const s of candidates) {
    const d = s.startsWith(typed) || typed.startsWith(s) ? 1 : editDistance(typed, s);
    if (d < bestD) {
      bestD = d;
      best = s;
    }
  }
  return best !== null && bestD <= Math.max(2, Math.floor(typed.length / 3)) ? best : null;
}

const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;
const BYTES = /^([+-]?(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?)\s*(b|kb|mb|gb)$/i;
const BYTE_UNITS: Record<string, number> = { b: 1, kb: 1e3, mb: 1e6, gb: 1e9 };

function valueOf(f: FieldInfo, text: string): unknown {
  const name = `--${f.flag}`;
  switch (f.type.kind) {
    case 'number': {
      const m = f.meta.unit === 'bytes' ? BYTES.exec(text) : null;
      if (m) return Math.round(Number(m[1]) * BYTE_UNITS[m[2].toLowerCase()]);
      if (!NUMBER.test(text.trim())) {
        throw new UsageError(`${name} must be a ${f.type.int ? 'whole number' : 'number'}${f.meta.unit === 'bytes' ? ' of bytes (or with kB, MB, GB: 3.2MB)' : ''}, got "${text}"`);
      }
      return Number(text);
    }
    case 'list':
      if (f.meta.fromText) {
        try {
          return f.meta.fromText(text);
        } catch (e) {
          throw new UsageError(`${name}: ${(e as Error).message}, got "${text}"`);
        }
      }
      return text.split(',').map((s) => s.trim()).filter(Boolean);
    case 'numbers': {
      const parts = text.split(',').map((s) => s.trim());
      const bad = parts.findIndex((s) => !NUMBER.test(s));
      if (bad >= 0) throw new UsageError(`${name} must be numbers separated by commas (1,2,3), got ${parts[bad] === '' ? 'nothing' : `"${parts[bad]}"`} at position ${bad + 1}`);
      return parts.map(Number);
    }
    default:
      return f.meta.fromText ? f.meta.fromText(text) : text;
  }
}

/**
 * Read argv against a flag table: `--flag value`, `--flag=value`, `--bool`, `--no-bool`. A value is the next word
 * whatever it starts with. Throws a UsageError for an unknown flag (with a did-you-mean), a missing value, a flag
 * given twice, a word that is not a flag, or a value that is not of the field's kind.
 */
export function readFlags(argv: readonly string[], t: FlagTable): ReadFlags {
  const out: ReadFlags = { values: {}, text: {}, given: [] };
  for (let i = 0; i < argv.length; i++) {
    const word = argv[i];
    if (!word.startsWith('--') || word === '--') {
      throw new UsageError(`unexpected argument "${word}" (flags start with --)`);
    }
    const eq = word.indexOf('=');
    const typed = word.slice(2, eq < 0 ? undefined : eq);
    let f = t.byFlag.get(typed);
    let negated = false;
    if (!f && typed.startsWith('no-')) {
      const g = t.byFlag.get(typed.slice(3));
      if (g?.type.kind === 'boolean') {
        f = g;
        negated = true;
      }
    }
    if (!f) {
      const near = closest(typed, spellings(t));
      throw new UsageError(`unknown flag --${typed}${near ? `; did you mean --${near}?` : ''}`);
    }
    if (out.given.includes(f.key) && f.type.kind !== 'strings') throw new UsageError(`--${f.flag} is given twice`);
    if (f.type.kind === 'boolean') {
      if (eq >= 0) throw new UsageError(`--${typed} takes no value (use --${f.flag} or --no-${f.flag})`);
      out.values[f.key] = !negated;
      out.text[f.key] = word;
    } else {
      let text: string;
      if (eq >= 0) text = word.slice(eq + 1);
      else {
        if (i + 1 >= argv.length) throw new UsageError(`--${f.flag} needs a value (${f.meta.arg ?? 'VALUE'})`);
        text = argv[++i];
      }
      const v = valueOf(f, text);
      if (f.type.kind === 'strings') {
        out.values[f.key] = [...((out.values[f.key] as string[] | undefined) ?? []), v];
        out.text[f.key] = out.text[f.key] ? `${out.text[f.key]} ${text}` : text;
      } else {
        out.values[f.key] = v;
        out.text[f.key] = text;
      }
    }
    if (!out.given.includes(f.key)) out.given.push(f.key);
  }
  return out;
}

/**
 * A command's positional words (`mesp pull OWNER/NAME`): the words that are neither a flag nor the value after a flag
 * that takes one, in order, and the rest for readFlags.
 */
export function splitPositionals(argv: readonly string[], t: FlagTable): { words: string[]; flags: string[] } {
  const words: string[] = [];
  const flags: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const word = argv[i];
    if (!word.startsWith('--')) {
      words.push(word);
      continue;
    }
    flags.push(word);
    const f = t.byFlag.get(word.slice(2));
    if (f && f.type.kind !== 'boolean' && i + 1 < argv.length) flags.push(argv[++i]);
  }
  return { words, flags };
}

/** Validate what was read with a schema; the first problem is a UsageError in flag words. */
export function validate<S extends z.ZodType>(schema: S, read: ReadFlags, t: FlagTable): z.output<S> {
  const r = schema.safeParse(read.values);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  const key = String(issue.path[0] ?? '');
  const f = t.fields.find((x) => x.key === key);
  const nameOf = (k: string): string => {
    const g = t.fields.find((x) => x.key === k);
    return g ? `--${g.flag}` : k;
  };
  const item = typeof issue.path[1] === 'number' ? ` at position ${issue.path[1] + 1}` : ''; // a list's element
  throw new UsageError(issueText(issue, f ? `--${f.flag}` : key || 'the flags', f ? read.text[key] : undefined, nameOf) + item);
}

/**
 * The values typed, less the keys of a command's own options (`--json`, `--resume`, ...): a request in which the
 * service applies the defaults and still knows what was asked (a run's own settings, --rank against --init-adapter).
 */
export function givenValues(read: ReadFlags, own: z.ZodObject): Record<string, unknown> {
  return Object.fromEntries(read.given.filter((k) => !(k in own.shape)).map((k) => [k, read.values[k]]));
}

/** Only these keys of what was read (the rest must not have been given). */
export function only(read: ReadFlags, keys: readonly string[], t: FlagTable, why: string): ReadFlags {
  const extra = read.given.find((k) => !keys.includes(k));
  if (extra) throw new UsageError(`--${t.fields.find((f) => f.key === extra)!.flag} ${why}`);
  return read;
}

/** --help's sections, in this order (a group not named here comes after them, under its own name). */
const GROUP_TITLES: Record<string, string> = {
  inputs: 'inputs', prompt: 'prompt', method: 'method', run: 'run', lora: 'LoRA', optimizer: 'optimizer', sampling: 'sampling', samples: 'sample replies',
  memory: 'memory', ablation: 'MeSP ablations', output: 'output', hub: 'Hugging Face Hub', options: 'options',
};
const groupRank = (g: string): number => {
  const i = Object.keys(GROUP_TITLES).indexOf(g);
  return i < 0 ? Infinity : i;
};

/** One flag's line of --help: `--seq-len N   truncate rows to N tokens (2–32768, default 256)`. */
export function flagLine(f: FieldInfo): string {
  const negated = f.type.kind === 'boolean' && f.defaultValue === true;
  const head = `--${negated ? `no-${f.flag}` : f.flag}${f.type.kind === 'boolean' ? '' : ` ${f.meta.arg ?? 'VALUE'}`}`;
  const notes: string[] = [];
  if (f.type.kind === 'number') {
    const r = rangeText(f.type);
    if (r) notes.push(r);
    if (f.meta.unit === 'bytes') notes.push('or with kB, MB, GB (10³, 10⁶, 10⁹): 3.2MB');
  }
  if (f.type.kind === 'strings') notes.push('repeat for more');
  const none = f.defaultValue === undefined || f.defaultValue === null || (Array.isArray(f.defaultValue) && f.defaultValue.length === 0);
  if (f.type.kind !== 'boolean' && !none) notes.push(`default ${showValue(f.defaultValue)}`);
  const help = notes.length ? `${f.meta.help} (${notes.join('; ')})` : f.meta.help;
  return `  ${head.padEnd(24)} ${help}`;
}

/** --help: the usage lines, what the command does, then its flags by group. */
export function helpText(usage: string[], about: string, t: FlagTable): string {
  const groups = new Map<string, FieldInfo[]>();
  for (const f of t.fields) {
    const g = f.meta.group ?? 'options';
    groups.set(g, [...(groups.get(g) ?? []), f]);
  }
  const lines = [...usage, ...about.split('\n').map((l) => `  ${l}`)];
  for (const [g, fs] of [...groups].sort((a, b) => groupRank(a[0]) - groupRank(b[0]))) {
    lines.push('', `${GROUP_TITLES[g] ?? g}:`, ...fs.map(flagLine));
  }
  return lines.join('\n');
}

/** A command's flags in one object: the table, --help, and read-and-validate. */
export interface Command<S extends z.ZodType> {
  table: FlagTable;
  help: string;
  parse(argv: readonly string[]): { values: z.output<S>; read: ReadFlags };
}

/**
 * Define a command's flags from its zod objects: `shape` holds every flag (for the table and --help), `schema` (by
 * default the object itself) validates what was read, with any refinements the command has.
 */
export function command<S extends z.ZodType>(o: { usage: string[]; about: string; shape: z.ZodObject[]; schema: S }): Command<S> {
  const table = flagTable(...o.shape);
  return {
    table,
    help: helpText(o.usage, o.about, table),
    parse(argv) {
      const read = readFlags(argv, table);
      return { values: validate(o.schema, read, table), read };
    },
  };
}

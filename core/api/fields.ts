// Per-field metadata of the settings schemas (TrainSpec and every command's request): the flag name, help text, UI
// label, unit and group of each field, attached to the field's zod schema with `described()`. From a zod object and
// this metadata, `fieldsOf` derives what the CLI's flag parser and --help (core/node/cli/flags.ts) and the app's
// settings form (renderer/src/components/SpecField.vue) need: each field's kind, range, choices and default. And
// `issueText` turns a zod issue into one line a person reads: `--seq-len must be ≤ 32768, got 100000` on the command
// line, `Sequence length must be ≤ 32768` in a form. Pure TS (DESIGN.md §1).
import { z } from 'zod';
import { ConfigError } from '../common/errors';

export interface FieldMeta {
  /** Shown beside the form's input. */
  label: string;
  /** One line for --help and the form's tooltip. */
  help: string;
  /** The long flag, without dashes (default: the field's key in kebab-case). */
  flag?: string;
  /** The value's name in --help (N, FILE, DIR, LIST, …). */
  arg?: string;
  /** `bytes` fields are typed in MB (10⁶ bytes) in the app. */
  unit?: 'bytes' | 'tokens' | 'rows' | 'steps';
  /** Where the form and --help show the field. */
  group?: string;
  /** Text as typed on a command line → the field's value; throws an Error whose message says what is wrong. */
  fromText?: (text: string) => unknown;
}

/** The registry the metadata lives in (zod 4 registries keep it beside the schema, through pick/extend/omit). */
export const FIELDS = z.registry<FieldMeta>();

/** Attach metadata to a field's schema (the outermost wrapper: `.default()` / `.optional()` come first). */
export function described<T extends z.ZodType>(schema: T, meta: FieldMeta): T {
  (FIELDS.add as (s: z.ZodType, m: FieldMeta) => unknown)(schema, meta);
  return schema;
}

/** A field of another schema (with the metadata of `from`) and its own help line: what it means in this request. */
export function reworded<T extends z.ZodType>(schema: T, help: string, from: z.ZodType = schema): T {
  return described(schema.clone() as T, { ...FIELDS.get(from)!, help });
}

/** The default of a field's schema (undefined when it has none). */
export function defaultOf(schema: z.ZodType): unknown {
  return unwrap(schema).defaultValue;
}

export type FieldKind =
  | { kind: 'number'; int: boolean; min?: { value: number; inclusive: boolean }; max?: { value: number; inclusive: boolean } }
  | { kind: 'string' }
  | { kind: 'boolean' }
  | { kind: 'enum'; options: string[] }
  /** An array of choices (LoRA targets, methods): a comma list on a command line, toggles in a form. */
  | { kind: 'list'; options: string[] }
  /** An array of strings: a repeated flag. */
  | { kind: 'strings' }
  /** An array of numbers (token ids): a comma list on a command line. */
  | { kind: 'numbers' };

export interface FieldInfo {
  key: string;
  flag: string;
  meta: FieldMeta;
  type: FieldKind;
  /** The value may be left out (no default and optional). */
  optional: boolean;
  /** null is a value (e.g. clipping off). */
  nullable: boolean;
  /** The default when the field is left out (undefined when there is none). */
  defaultValue: unknown;
}

/** camelCase → kebab-case: seqLen → seq-len. */
export function kebab(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

type Def = { type: string; innerType?: z.ZodType; element?: z.ZodType; defaultValue?: unknown; checks?: { _zod: { def: Record<string, unknown> } }[]; in?: z.ZodType };
const defOf = (s: z.ZodType): Def => (s as unknown as { _zod: { def: Def } })._zod.def;

function kindOf(s: z.ZodType, key: string): FieldKind {
  const d = defOf(s);
  switch (d.type) {
    case 'number': {
      const out: Extract<FieldKind, { kind: 'number' }> = { kind: 'number', int: false };
      for (const c of d.checks ?? []) {
        const cd = c._zod.def;
        if (cd.check === 'number_format' && String(cd.format).includes('int')) out.int = true;
        if (cd.check === 'greater_than') out.min = { value: cd.value as number, inclusive: !!cd.inclusive };
        if (cd.check === 'less_than') out.max = { value: cd.value as number, inclusive: !!cd.inclusive };
      }
      return out;
    }
    case 'string':
      return { kind: 'string' };
    case 'boolean':
      return { kind: 'boolean' };
    case 'enum':
      return { kind: 'enum', options: [...(s as unknown as { options: string[] }).options] };
    case 'array': {
      const el = unwrap(d.element!).schema;
      if (defOf(el).type === 'enum') return { kind: 'list', options: [...(el as unknown as { options: string[] }).options] };
      if (defOf(el).type === 'string') return { kind: 'strings' };
      if (defOf(el).type === 'number') return { kind: 'numbers' };
      break;
    }
  }
  throw new Error(`settings field "${key}": a ${d.type} field has no flag or form input (core/api/fields.ts)`);
}

/** Strip default / optional / nullable wrappers, noting what they said. */
function unwrap(s: z.ZodType): { schema: z.ZodType; optional: boolean; nullable: boolean; defaultValue: unknown; meta: FieldMeta | undefined } {
  let cur = s;
  let optional = false;
  let nullable = false;
  let defaultValue: unknown = undefined;
  let meta = FIELDS.get(cur);
  for (;;) {
    const d = defOf(cur);
    if (d.type === 'default') {
      if (defaultValue === undefined) defaultValue = d.defaultValue;
    } else if (d.type === 'optional') optional = true;
    else if (d.type === 'nullable') nullable = true;
    else break;
    cur = d.innerType!;
    meta ??= FIELDS.get(cur);
  }
  return { schema: cur, optional: optional && defaultValue === undefined, nullable, defaultValue, meta };
}

/** Every field of a zod object with its metadata; a field without metadata is a programming error, named. */
export function fieldsOf(schema: z.ZodObject): FieldInfo[] {
  return Object.entries(schema.shape as Record<string, z.ZodType>).map(([key, s]) => {
    const u = unwrap(s);
    if (!u.meta) throw new Error(`settings field "${key}" has no metadata: attach it with described() (core/api/fields.ts)`);
    return { key, flag: u.meta.flag ?? kebab(key), meta: u.meta, type: kindOf(u.schema, key), optional: u.optional, nullable: u.nullable, defaultValue: u.defaultValue };
  });
}

/** A number as people write it: 1e-3 stays 1e-3, 2800000000 becomes 2.8e9. */
export function showNumber(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  const plain = String(n);
  const exp = n.toExponential().replace(/\.?0+e/, 'e').replace('e+', 'e');
  return exp.length < plain.length ? exp : plain;
}

/** The allowed range of a number field, in words: "2–32768", "> 0", "≥ 0". */
export function rangeText(k: Extract<FieldKind, { kind: 'number' }>): string {
  const { min, max } = k;
  if (min && max && min.inclusive && max.inclusive) return `${showNumber(min.value)}–${showNumber(max.value)}`;
  const parts: string[] = [];
  if (min) parts.push(`${min.inclusive ? '≥' : '>'} ${showNumber(min.value)}`);
  if (max) parts.push(`${max.inclusive ? '≤' : '<'} ${showNumber(max.value)}`);
  return parts.join(', ');
}

/** A default as --help and a form's placeholder show it. */
export function showValue(v: unknown): string {
  if (Array.isArray(v)) return v.join(',');
  if (typeof v === 'number') return showNumber(v);
  return String(v);
}

/**
 * One zod issue in words, for the field called `name` (`--seq-len` on a command line, "Sequence length" in a form):
 * "--seq-len must be ≤ 32768", plus ", got 100000" when `given` (the text typed) is known. Never a JSON dump.
 */
export function issueText(issue: z.core.$ZodIssue, name: string, given?: string, nameOf: (key: string) => string = (k) => k): string {
  const shown = given === undefined ? '' : given === '' ? 'nothing' : /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(given) ? given : `"${given}"`;
  const got = given !== undefined ? `, got ${shown}` : '';
  const i = issue as z.core.$ZodIssue & Record<string, unknown>;
  switch (issue.code) {
    case 'too_big': {
      const n = showNumber(Number(i.maximum));
      if (i.origin === 'array' || i.origin === 'string') return `${name} takes at most ${n} ${i.origin === 'array' ? 'items' : 'characters'}${got}`;
      return `${name} must be ${i.inclusive ? '≤' : '<'} ${n}${got}`;
    }
    case 'too_small': {
      const n = showNumber(Number(i.minimum));
      if (i.origin === 'array') return `${name} needs at least ${n} item${n === '1' ? '' : 's'}${got}`;
      if (i.origin === 'string') return given === '' || given === undefined ? `${name} is empty: give a value` : `${name} needs at least ${n} characters${got}`;
      return `${name} must be ${i.inclusive ? '≥' : '>'} ${n}${got}`;
    }
    case 'invalid_type': {
      if (given === undefined && /received undefined$/.test(issue.message)) return `${name} is required`;
      const expected = String(i.expected);
      if (expected === 'int') return `${name} must be a whole number${got}`;
      if (expected === 'number') return `${name} must be a number${got}`;
      return `${name} must be a ${expected}${got}`;
    }
    case 'invalid_value':
      return `${name} must be one of ${(i.values as unknown[]).map(String).join(', ')}${got}`;
    case 'unrecognized_keys':
      return `${(i.keys as string[]).map(nameOf).join(', ')} ${(i.keys as string[]).length > 1 ? 'are' : 'is'} not a setting here`;
    case 'custom': {
      const params = i.params as { conflictsWith?: string; oneOf?: string[] } | undefined;
      const other = params?.conflictsWith;
      if (other) return `give ${name} or ${nameOf(other)}, not both`;
      // A request that needs one of some fields and got none: "give --prompt, --prompt-ids or --messages".
      const names = params?.oneOf?.map(nameOf);
      if (names?.length) return `give ${names.length > 1 ? `${names.slice(0, -1).join(', ')} or ${names[names.length - 1]}` : names[0]}`;
      return `${name}: ${issue.message}`;
    }
    default:
      return `${name}: ${issue.message}${got}`;
  }
}

/** The label of a field of a zod object (or the key, where it has none). */
export function labelOf(schema: z.ZodObject, key: string): string {
  const s = (schema.shape as Record<string, z.ZodType>)[key];
  return s ? unwrap(s).meta?.label ?? key : key;
}

/**
 * Parse a request with its schema; a bad value is a ConfigError naming the field by its label, with the field's key
 * for the app to highlight (never a zod dump).
 */
export function parseSettings<S extends z.ZodObject>(schema: S, value: unknown): z.output<S> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  const key = String(issue.path[0] ?? '');
  throw new ConfigError(issueText(issue, labelOf(schema, key), undefined, (k) => labelOf(schema, k)), key ? { field: key } : {});
}

// Command-line flags: a thin, strict wrapper over node:util parseArgs, with usage errors that name the flag.
import { parseArgs } from 'node:util';
import { MespError } from '../../common/errors';

export class UsageError extends MespError {
  constructor(message: string) {
    super('USAGE', message);
  }
}

export type FlagSpec = Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean; default?: string | boolean }>;

export function parseFlags(argv: string[], spec: FlagSpec, command: string): Record<string, string | boolean | undefined> {
  try {
    const { values, positionals } = parseArgs({ args: argv, options: spec, strict: true, allowPositionals: true });
    if (positionals.length) throw new UsageError(`mesp ${command}: unexpected argument "${positionals[0]}" (flags start with --)`);
    return values as Record<string, string | boolean | undefined>;
  } catch (e) {
    if (e instanceof UsageError) throw e;
    throw new UsageError(`mesp ${command}: ${(e as Error).message}. Run \`mesp ${command} --help\`.`);
  }
}

export function required(v: Record<string, unknown>, name: string, command: string): string {
  const s = v[name];
  if (typeof s !== 'string' || !s) throw new UsageError(`mesp ${command}: --${name} is required. Run \`mesp ${command} --help\`.`);
  return s;
}

export function intFlag(v: Record<string, unknown>, name: string, command: string, dflt: number, min = 1): number {
  const s = v[name];
  if (s === undefined) return dflt;
  const n = Number(s);
  if (!Number.isInteger(n) || n < min) throw new UsageError(`mesp ${command}: --${name} must be an integer ≥ ${min}, got "${String(s)}"`);
  return n;
}

export function numFlag(v: Record<string, unknown>, name: string, command: string, dflt: number): number {
  const s = v[name];
  if (s === undefined) return dflt;
  const n = Number(s);
  if (!Number.isFinite(n)) throw new UsageError(`mesp ${command}: --${name} must be a number, got "${String(s)}"`);
  return n;
}

export function choiceFlag<T extends string>(v: Record<string, unknown>, name: string, command: string, choices: readonly T[], dflt: T): T {
  const s = v[name];
  if (s === undefined) return dflt;
  if (!choices.includes(s as T)) throw new UsageError(`mesp ${command}: --${name} must be one of ${choices.join(', ')}, got "${String(s)}"`);
  return s as T;
}

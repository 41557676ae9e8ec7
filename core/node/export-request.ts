// Parsing the exporter's requests (core/node/export.ts: export and preview; core/node/import-adapter.ts: import):
// a zod failure of the request schemas of core/api/export.ts as a ConfigError naming the field, and a --format value
// as the formats it names. The app's own requests are parsed by the contract (core/api/contract.ts).
import type { z } from 'zod';
import { EXPORT_FORMATS, formatsFromText, type ExportFormat } from '../api/export';
import { ConfigError } from '../common/errors';

/** A zod failure of a service request as a ConfigError naming the field (exit code 5 in the CLI). */
export function parseExportRequest<S extends z.ZodType>(schema: S, input: unknown, what: string): z.output<S> {
  const r = schema.safeParse(input);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  const field = issue.path.map(String).join('.');
  if (issue.code === 'invalid_value' && issue.path[0] === 'formats') {
    const bad = (input as { formats?: unknown[] }).formats?.[Number(issue.path[1])];
    throw new ConfigError(`unknown export format ${JSON.stringify(bad)}; use ${EXPORT_FORMATS.join(', ')} or all`, { field: 'format' });
  }
  throw new ConfigError(`invalid ${what}: ${field ? `${field}: ` : ''}${issue.message}`, { field: field || undefined });
}

/** Parse a --format value: comma-separated formats or "all" (ConfigError on an unknown one). */
export function parseFormats(spec: string): ExportFormat[] {
  let out: ExportFormat[];
  try {
    out = formatsFromText(spec);
  } catch (e) {
    throw new ConfigError((e as Error).message, { field: 'format' });
  }
  if (!out.length) throw new ConfigError(`no export format given; use ${EXPORT_FORMATS.join(', ')} or all`, { field: 'format' });
  return out;
}

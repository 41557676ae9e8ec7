// Plain-text tables and byte/number formatting for the CLI. MB = 10⁶ bytes, as everywhere in MeSP Studio.
import { CATEGORIES } from '../../api/names';
import { formatBytes } from '../../common/errors';

export { formatBytes };

export function mb(bytes: number): string {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}

/** A Markdown table (also readable in a terminal). */
export function table(head: string[], rows: (string | number)[][]): string {
  const cells = [head, ...rows.map((r) => r.map(String))];
  const w = head.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]): string => `| ${r.map((c, i) => c.padEnd(w[i])).join(' | ')} |`;
  return [line(head), `|${w.map((n) => '-'.repeat(n + 2)).join('|')}|`, ...cells.slice(1).map(line)].join('\n');
}

export function peakTable(peak: Record<string, number>): string {
  return table(['category', 'peak'], [...CATEGORIES.map((c) => [c, mb(peak[c] ?? 0)]), ['total (at its peak)', mb(peak.total ?? 0)]]);
}

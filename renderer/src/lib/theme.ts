// Names and colours used across the app, derived from the one declaration of each list in core/api/names.ts: the
// ledger's categories (DESIGN.md §3) and the four methods (§5). A category or method added there shows up in every
// chart, table and legend.
import { CATEGORIES, CATEGORY_INFO, METHODS, METHOD_INFO, type CategoryName, type MethodName } from '../../../core/api/contract';

export { CATEGORIES, METHODS };

const pick = <K extends string, V, F extends keyof V>(info: Record<K, V>, field: F): Record<K, V[F]> =>
  Object.fromEntries(Object.entries(info).map(([k, v]) => [k, (v as V)[field]])) as Record<K, V[F]>;

export const CATEGORY_COLOR: Record<CategoryName, string> = pick(CATEGORY_INFO, 'color');
export const CATEGORY_LABEL: Record<CategoryName, string> = pick(CATEGORY_INFO, 'label');

export const METHOD_LABEL: Record<MethodName, string> = pick(METHOD_INFO, 'label');
export const METHOD_HINT: Record<MethodName, string> = pick(METHOD_INFO, 'about');
export const METHOD_COLOR: Record<MethodName, string> = pick(METHOD_INFO, 'color');

export const CAP_COLOR = '#dc2626';

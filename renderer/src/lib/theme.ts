// Names and colours used across the app: the ledger's categories (DESIGN.md §3) and the four methods (§5).
import type { CategoryName } from '../../../core/api/contract';
import type { MethodName } from '../../../core/api/train';

export const CATEGORIES: readonly CategoryName[] = ['weights', 'adapter', 'grads', 'optimizer', 'activations', 'workspace', 'kvcache'];

export const CATEGORY_COLOR: Record<CategoryName, string> = {
  weights: '#94a3b8',
  adapter: '#8b5cf6',
  grads: '#f59e0b',
  optimizer: '#eab308',
  activations: '#14b8a6',
  workspace: '#ec4899',
  kvcache: '#0ea5e9',
};

export const CATEGORY_LABEL: Record<CategoryName, string> = {
  weights: 'Weights', adapter: 'Adapter', grads: 'Gradients', optimizer: 'Optimizer', activations: 'Activations', workspace: 'Workspace', kvcache: 'KV cache',
};

export const METHODS: readonly MethodName[] = ['full', 'mebp', 'mesp', 'mezo'];

export const METHOD_LABEL: Record<MethodName, string> = {
  full: 'Full backprop',
  mebp: 'MeBP-style',
  mesp: 'MeSP',
  mezo: 'MeZO',
};

export const METHOD_HINT: Record<MethodName, string> = {
  full: 'keeps every activation an autograd engine saves',
  mebp: 'per-block checkpointing: re-runs each block, then its backward',
  mesp: 'replays each block in reverse with hand-derived backward; exact gradients at a fraction of the memory',
  mezo: 'zeroth order: two forwards, no backward; gradient is an estimate',
};

export const METHOD_COLOR: Record<MethodName, string> = {
  full: '#ef4444',
  mebp: '#f97316',
  mesp: '#4f46e5',
  mezo: '#0ea5e9',
};

export const CAP_COLOR = '#dc2626';

// The name lists of MeSP Studio, declared once: the training methods, the ledger's memory categories (with the label
// and colour every chart and table uses), the LoRA projections, the weight quantizations, the optimizers and
// schedules, the default device profile and the app's version (package.json). Everything else derives from these:
// the zod schemas of core/api, the ledger (core/gpu/ledger.ts), the CLI tables and the renderer's charts.
// Adding a memory category is one line in CATEGORY_INFO; adding a method is one line in METHOD_INFO (and its schedule
// in core/train). Pure TS (DESIGN.md §1).
import { z } from 'zod';
import { version } from '../../package.json';

/** The app's version, from package.json (the CLI's --version, app.info, the export manifest's producer). */
export const APP_VERSION: string = version;

/** What the app shows for a name of a list: its label, its colour in charts, and a line about it. */
export interface Legend {
  label: string;
  color: string;
  about: string;
}

/** The names of a table of legends, in the order they are declared (a zod enum's tuple). */
function namesOf<K extends string>(info: Record<K, Legend>): [K, ...K[]] {
  return Object.keys(info) as [K, ...K[]];
}

/** The four training methods (DESIGN.md §5), in the order the app shows them. */
export const METHOD_INFO = {
  full: { label: 'Full backprop', color: '#ef4444', about: 'keeps every activation an autograd engine saves' },
  mebp: { label: 'MeBP-style', color: '#f97316', about: 'per-block checkpointing: re-runs each block, then its backward' },
  mesp: { label: 'MeSP', color: '#4f46e5', about: 'replays each block in reverse with hand-derived backward; exact gradients at a fraction of the memory' },
  mezo: { label: 'MeZO', color: '#0ea5e9', about: 'zeroth order: two forwards, no backward; gradient is an estimate' },
} as const;
export type MethodName = keyof typeof METHOD_INFO;
export const METHODS = namesOf<MethodName>(METHOD_INFO);
export const MethodSchema = z.enum(METHODS);

/**
 * The ledger's categories (DESIGN.md §3), in the order charts stack them: every GPU byte is counted under one.
 * The working set is every category but `weights`.
 */
export const CATEGORY_INFO = {
  weights: { label: 'Weights', color: '#94a3b8', about: 'the frozen base model, quantization scales included' },
  adapter: { label: 'Adapter', color: '#8b5cf6', about: 'LoRA A and B' },
  grads: { label: 'Gradients', color: '#f59e0b', about: 'LoRA gradients' },
  optimizer: { label: 'Optimizer', color: '#eab308', about: 'optimizer state (AdamW moments)' },
  activations: { label: 'Activations', color: '#14b8a6', about: 'tensors saved or checkpointed for the backward' },
  workspace: { label: 'Workspace', color: '#ec4899', about: 'temporaries, uniforms and staging' },
  kvcache: { label: 'KV cache', color: '#0ea5e9', about: "generation's keys and values, one tensor per layer (core/infer)" },
} as const;
export type CategoryName = keyof typeof CATEGORY_INFO;
export const CATEGORIES = namesOf<CategoryName>(CATEGORY_INFO);
export type ByCategory = Record<CategoryName, number>;

/** All bytes of a by-category record (what is live in total). */
export function totalOf(b: ByCategory): number {
  return CATEGORIES.reduce((s, c) => s + b[c], 0);
}

/** Zero bytes in every category. */
export function zeroByCategory(): ByCategory {
  return Object.fromEntries(CATEGORIES.map((c) => [c, 0])) as ByCategory;
}

/**
 * Bytes by category. A category missing from what is read (a run folder written before that category existed) reads
 * as 0 bytes.
 */
export const ByCategorySchema = z.object(Object.fromEntries(CATEGORIES.map((c) => [c, z.number().default(0)])) as Record<CategoryName, z.ZodDefault<z.ZodNumber>>);
/** Peak bytes by category, plus the highest total. */
export const PeakBytesSchema = ByCategorySchema.extend({ total: z.number() });
export type PeakBytes = z.infer<typeof PeakBytesSchema>;

/** The seven projections of a Qwen2 layer LoRA can adapt (PEFT module names: `<p>_proj`). */
export const PROJECTIONS = ['q', 'k', 'v', 'o', 'gate', 'up', 'down'] as const;
export type Projection = (typeof PROJECTIONS)[number];
export const ProjectionSchema = z.enum(PROJECTIONS);

/**
 * LoRA targets from text: a comma list of projections (`q,v`, or PEFT's `q_proj,v_proj`) or `all`; returned in layer
 * order. Throws an Error naming the unknown target.
 */
export function parseTargets(text: string): Projection[] {
  const names = text.split(',').map((s) => s.trim().replace(/_proj$/, '')).filter(Boolean);
  if (names.length === 1 && names[0] === 'all') return [...PROJECTIONS];
  for (const n of names) {
    if (!(PROJECTIONS as readonly string[]).includes(n)) throw new Error(`unknown LoRA target "${n}"; use any of ${PROJECTIONS.join(',')} (or all)`);
  }
  return PROJECTIONS.filter((p) => names.includes(p));
}

/** On-load quantization of the frozen weights (DESIGN.md §4). */
export const QUANTS = ['none', 'int8', 'int4'] as const;
export const QuantSchema = z.enum(QUANTS);
export type QuantName = z.infer<typeof QuantSchema>;

/** The storage precision of activations, checkpoints and LoRA weights (f32 accumulation either way), and the
 * arithmetic a roofline projection assumes (a profile's f32 or f16 peak). */
export const PRECISIONS = ['f32', 'f16'] as const;
export const PrecisionSchema = z.enum(PRECISIONS);
export type Precision = z.infer<typeof PrecisionSchema>;
/** What --precision means for a forward without training (`mesp eval`, `mesp generate`, chat). */
export const PRECISION_FORWARD_HELP = 'f16 stores the layers\' intermediates and the LoRA weights in f16 (f32 arithmetic; the KV cache stays f32); needs an adapter with shader-f16 (f32 | f16)';

export const OPTIMIZERS = ['sgd', 'adamw'] as const;
export const SCHEDULES = ['constant', 'cosine'] as const;

/** The device profile used when none is chosen: an 8 GB phone (profiles/phone-8gb.json). */
export const DEFAULT_PROFILE_ID = 'phone-8gb';

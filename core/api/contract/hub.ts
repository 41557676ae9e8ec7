// The contract's Hugging Face Hub domain (core/api/contract.ts): the catalogue of Qwen2.5 models for phones with each
// method's fit from the plan of the config alone, pulling a model (or a dataset's jsonl file) into the standard HF
// cache with live progress events, cancelling (a later pull resumes), the cached repos, and deleting one from the
// cache. The names, the id syntax and the event shapes are declared here once; core/node/hub uses the same types.
// Pure TS.
import { z } from 'zod';
import { described } from '../fields';
import { specMask } from '../train';
import { FIT_SHAPES, FIT_SPEC_KEYS, FitMethodSchema, FitParamsSchema, FitResultSchema } from './plan';
import { RunParamsSchema } from './runs';

/** OWNER/NAME as the hub spells repo ids (letters, digits, `-`, `_`, `.`; at most 96 characters a part). */
export const HUB_REPO_ID = /^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,94}[A-Za-z0-9_])?\/[A-Za-z0-9](?:[A-Za-z0-9._-]{0,94}[A-Za-z0-9_])?$/;
/** A branch, tag or commit (`refs/pr/1` included); no `..`, no spaces. */
export const HUB_REVISION = /^(?!.*\.\.)[A-Za-z0-9._/-]{1,200}$/;

export const HubRepoIdSchema = z.string()
  .regex(HUB_REPO_ID, 'give a hub id OWNER/NAME, e.g. Qwen/Qwen2.5-0.5B-Instruct')
  .refine((s) => !s.includes('--') && !s.includes('..'), 'a hub id has no "--" or ".."');
export const HubRevisionSchema = z.string().regex(HUB_REVISION, 'give a branch, tag or commit of the repo (e.g. main)');
export const HubRepoKindSchema = z.enum(['model', 'dataset']);
export type HubRepoKind = z.infer<typeof HubRepoKindSchema>;
/** A file of a dataset repo the app trains on: a relative .jsonl path. */
export const HubDataFileSchema = z.string()
  .regex(/^(?!\/)(?!.*(^|\/)\.\.(\/|$))[^\\]+\.jsonl$/, 'give the path of a .jsonl file inside the dataset repo, e.g. data/train.jsonl');

/** The Qwen2.5 models users want on a phone; base and Instruct share the config of their shape (core/model/shapes.ts). */
export const QWEN25_CATALOGUE = [
  { repo: 'Qwen/Qwen2.5-0.5B', shape: 'qwen2.5-0.5b', instruct: false },
  { repo: 'Qwen/Qwen2.5-0.5B-Instruct', shape: 'qwen2.5-0.5b', instruct: true },
  { repo: 'Qwen/Qwen2.5-1.5B', shape: 'qwen2.5-1.5b', instruct: false },
  { repo: 'Qwen/Qwen2.5-1.5B-Instruct', shape: 'qwen2.5-1.5b', instruct: true },
  { repo: 'Qwen/Qwen2.5-3B', shape: 'qwen2.5-3b', instruct: false },
  { repo: 'Qwen/Qwen2.5-3B-Instruct', shape: 'qwen2.5-3b', instruct: true },
] as const satisfies readonly { repo: string; shape: (typeof FIT_SHAPES)[number]; instruct: boolean }[];

// ---------------------------------------------------------------------------------------------------------------
// The cache

export const CachedRepoSchema = z.object({
  repo: z.string(),
  kind: HubRepoKindSchema,
  /** The snapshot's commit; null for a repo folder with blobs (e.g. a cancelled pull) but no snapshot yet. */
  commit: z.string().nullable(),
  /** The refs (branches, tags) that point at this commit. */
  refs: z.array(z.string()),
  /** snapshots/COMMIT: the model folder to train on (a dataset's files are under it). */
  snapshotDir: z.string().nullable(),
  /** Bytes of the blobs the snapshot's files point to. */
  bytes: z.number(),
  /** Bytes of interrupted downloads in the repo's blobs/ (`*.incomplete`) that the next pull of it resumes. */
  partialBytes: z.number(),
  /** A model: config.json and every weights file the config and index name are there. A dataset: its files resolve. */
  complete: z.boolean(),
  /** What a complete model still lacks (file names), for the message and the UI. */
  missing: z.array(z.string()),
  files: z.array(z.string()),
  modifiedAt: z.string(),
});
export type CachedRepo = z.infer<typeof CachedRepoSchema>;

export const HubPlaceSchema = z.object({
  /** The cache folder (HF_HUB_CACHE, else HF_HOME/hub, else ~/.cache/huggingface/hub). */
  cacheDir: z.string(),
  /** HF_ENDPOINT, else the public hub. */
  endpoint: z.string(),
  /** HF_HUB_OFFLINE=1: ids resolve from the cache only. */
  offline: z.boolean(),
  /** Whether a token (HF_TOKEN) is set for gated and private repos; the token itself never leaves the service. */
  hasToken: z.boolean(),
});

export const HubCachedSchema = HubPlaceSchema.extend({
  repos: z.array(CachedRepoSchema),
  /** Pulls in progress (a window opened during a pull picks it up). */
  active: z.array(z.object({ pullId: z.string(), repo: z.string(), kind: HubRepoKindSchema })),
});

// ---------------------------------------------------------------------------------------------------------------
// The catalogue

/** The settings a fit depends on: a run's (the TrainSpec's FIT_SPEC_KEYS and the profile), and plan.fit's methods. */
export const CatalogueParamsSchema = RunParamsSchema.pick({ ...specMask(FIT_SPEC_KEYS), profile: true }).extend({ methods: FitParamsSchema.shape.methods });

export const CatalogueEntrySchema = z.object({
  repo: z.string(),
  shape: z.enum(FIT_SHAPES),
  instruct: z.boolean(),
  parameters: z.number(),
  /** ≈ the bf16 safetensors of the shape (2 bytes a parameter); config and tokenizer files add a few MB. */
  downloadBytes: z.number(),
  /** This repo in the cache, if any (complete or a pull to resume). */
  cached: CachedRepoSchema.nullable(),
  /** Each method's planned peak against the profile's cap (the plan of the config alone: nothing is downloaded). */
  methods: z.array(FitMethodSchema.pick({ method: true, peakBytes: true, fits: true, error: true })),
});
export type CatalogueEntry = z.infer<typeof CatalogueEntrySchema>;

export const CatalogueSchema = HubPlaceSchema.extend(FitResultSchema.pick({ capBytes: true, profileId: true, seqLen: true }).shape).extend({
  models: z.array(CatalogueEntrySchema),
});
export type Catalogue = z.infer<typeof CatalogueSchema>;

// ---------------------------------------------------------------------------------------------------------------
// Pulls

export const HubPullParamsSchema = z.object({
  repo: HubRepoIdSchema,
  kind: HubRepoKindSchema.default('model'),
  revision: HubRevisionSchema.default('main'),
  /** A dataset pull: the one .jsonl file to fetch. */
  file: HubDataFileSchema.optional(),
}).refine((p) => (p.kind === 'dataset') === (p.file !== undefined), { message: 'a dataset pull names one .jsonl file (and a model pull none)', path: ['file'] });

export const PullFileSchema = z.object({
  path: z.string(),
  bytes: z.number(),
  /** The sha256 the hub reports for an LFS file; null for a small git file (checked by its git blob id). */
  sha256: z.string().nullable(),
  /** cached: its blob is complete; partial: `.incomplete` bytes to resume from; download: not there. */
  state: z.enum(['cached', 'partial', 'download']),
  haveBytes: z.number(),
});

const rate = z.number().nonnegative();
const eta = z.number().nonnegative().nullable();

/** What a pull reports as it goes: bytes, rate (bytes/s) and ETA (s) per file and in total. */
export const PullEventSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('plan'), repo: z.string(), kind: HubRepoKindSchema, revision: z.string(), commit: z.string(), cacheDir: z.string(),
    files: z.array(PullFileSchema), totalBytes: z.number(), haveBytes: z.number(), downloadBytes: z.number(),
  }),
  z.object({
    type: z.literal('progress'), path: z.string(), fileBytes: z.number(), fileTotal: z.number(), fileRate: rate, fileEtaSeconds: eta,
    doneBytes: z.number(), totalBytes: z.number(), rate, etaSeconds: eta,
  }),
  z.object({ type: z.literal('retry'), path: z.string(), attempt: z.number(), maxAttempts: z.number(), delaySeconds: z.number(), reason: z.string() }),
  z.object({
    type: z.literal('file'), path: z.string(), bytes: z.number(), check: z.enum(['sha256', 'git-sha1']), digest: z.string(),
    /** Bytes that were already there from an earlier, interrupted transfer. */
    resumedFrom: z.number(),
  }),
  z.object({ type: z.literal('done'), repo: z.string(), kind: HubRepoKindSchema, commit: z.string(), snapshotDir: z.string(), path: z.string() }),
  /** The service's end states of a pull it ran in the background. */
  z.object({ type: z.literal('cancelled'), repo: z.string(), partialBytes: z.number() }),
  z.object({ type: z.literal('error'), repo: z.string(), code: z.string(), message: z.string() }),
]);
export type PullEvent = z.infer<typeof PullEventSchema>;

export const HubPullResultSchema = z.object({ pullId: z.string(), repo: z.string(), kind: HubRepoKindSchema, alreadyRunning: z.boolean() });
export const HubPullRefSchema = z.object({ pullId: z.string().min(1) });
export const HubCancelResultSchema = z.object({ pullId: z.string(), cancelled: z.boolean() });
export const HubDeleteParamsSchema = z.object({ repo: HubRepoIdSchema, kind: HubRepoKindSchema.default('model') });
export const HubDeleteResultSchema = z.object({ deleted: z.boolean(), bytes: z.number() });

// ---------------------------------------------------------------------------------------------------------------
// `mesp pull` and `mesp models` (core/node/cli/cmd-hub.ts): their flags, with the metadata flags.ts reads

const flag = { group: 'hub' };

/** Where the cache is and who asks: the flags both commands share (the environment decides what is not given). */
export const HubCacheFlagsSchema = z.object({
  cacheDir: described(z.string().min(1).optional(), {
    ...flag, label: 'Cache folder', arg: 'DIR', help: 'the Hugging Face cache (default HF_HUB_CACHE, else HF_HOME/hub, else ~/.cache/huggingface/hub)',
  }),
  json: described(z.boolean().default(false), { label: 'JSON', group: 'options', help: 'print the result as one JSON object' }),
});

export const HubPullFlagsSchema = HubCacheFlagsSchema.extend({
  revision: described(HubRevisionSchema.optional(), { ...flag, label: 'Revision', arg: 'REV', help: 'branch, tag or commit (default main, or the id\'s @REV)' }),
  // Checked by the hub settings (core/node/hub/settings.ts), whose message never quotes it.
  token: described(z.string().min(1).optional(), { ...flag, label: 'Token', arg: 'T', help: 'for gated and private repos (default HF_TOKEN); never printed' }),
});
export type HubPullFlags = z.output<typeof HubPullFlagsSchema>;

// What a --model or --data value names on the hub. Models: `OWNER/NAME`, `OWNER/NAME@REV` or `hf://OWNER/NAME[@REV]`.
// Dataset files, as huggingface_hub's HfFileSystem spells them: `hf://datasets/OWNER/NAME[@REV]/PATH.jsonl`. The id
// syntax is the contract's (core/api/contract/hub.ts); a local path that exists always wins over an id (resolve.ts).
import { HubDataFileSchema, HubRepoIdSchema, HubRevisionSchema, type HubRepoKind } from '../../api/contract';
import { ConfigError } from '../../common/errors';

export interface RepoRef {
  kind: HubRepoKind;
  repo: string;
  revision: string;
  /** A dataset's file inside the repo. */
  file?: string;
}

const COMMIT = /^[0-9a-f]{40}$/;

export function isCommitHash(rev: string): boolean {
  return COMMIT.test(rev);
}

function splitRevision(s: string): { repo: string; revision: string } {
  const at = s.indexOf('@');
  return at < 0 ? { repo: s, revision: 'main' } : { repo: s.slice(0, at), revision: decodeURIComponent(s.slice(at + 1)) };
}

/** A model id, or null when `s` does not look like one (then it is a path). */
export function parseModelRef(s: string): RepoRef | null {
  const body = s.startsWith('hf://') ? s.slice(5) : s;
  if (body.startsWith('datasets/')) return null;
  const { repo, revision } = splitRevision(body);
  if (!HubRepoIdSchema.safeParse(repo).success) {
    if (s.startsWith('hf://')) throw new ConfigError(`"${s}" is not a hub model: write hf://OWNER/NAME or OWNER/NAME[@REV], e.g. Qwen/Qwen2.5-0.5B-Instruct.`, { field: 'model' });
    return null;
  }
  if (!HubRevisionSchema.safeParse(revision).success) throw new ConfigError(`"${s}": "${revision}" is not a revision (a branch, tag or commit).`, { field: 'model' });
  return { kind: 'model', repo, revision };
}

export const DATA_REF_PREFIX = 'hf://datasets/';

/** A dataset file reference, or null when `s` is not an hf://datasets/ address (then it is a path). */
export function parseDataRef(s: string): RepoRef | null {
  if (!s.startsWith(DATA_REF_PREFIX)) return null;
  const parts = s.slice(DATA_REF_PREFIX.length).split('/');
  const usage = `write hf://datasets/OWNER/NAME[@REV]/PATH.jsonl, e.g. hf://datasets/me/chats/train.jsonl`;
  if (parts.length < 3) throw new ConfigError(`"${s}" names no file of the dataset: ${usage}.`, { field: 'data' });
  const { repo: name, revision } = splitRevision(parts[1]);
  const repo = `${parts[0]}/${name}`;
  const file = parts.slice(2).join('/');
  if (!HubRepoIdSchema.safeParse(repo).success) throw new ConfigError(`"${s}": "${repo}" is not a dataset id: ${usage}.`, { field: 'data' });
  if (!HubRevisionSchema.safeParse(revision).success) throw new ConfigError(`"${s}": "${revision}" is not a revision (a branch, tag or commit).`, { field: 'data' });
  if (!HubDataFileSchema.safeParse(file).success) throw new ConfigError(`"${s}": "${file}" is not a .jsonl file of the repo: ${usage}.`, { field: 'data' });
  return { kind: 'dataset', repo, revision, file };
}

/** How a reference is written back (messages, events). */
export function refText(r: RepoRef): string {
  const rev = r.revision === 'main' ? '' : `@${r.revision}`;
  return r.kind === 'dataset' ? `${DATA_REF_PREFIX}${r.repo}${rev}/${r.file ?? ''}` : `${r.repo}${rev}`;
}

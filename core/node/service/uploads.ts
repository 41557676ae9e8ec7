// Browser-mode uploads (files.upload, core/api/contract/files.ts): a file arrives in pieces of at most
// UPLOAD_CHUNK_BYTES, in order, each written to disk at once, so a 1 GB model.safetensors never sits in memory. Each
// page connection (the caller's `client`) has its own folder, uploads/<client>/<uploadId>/, and only the connection
// that started an upload may add to it. A file is written to a hidden `.name.part` beside its final name and renamed
// into place by its last piece; a connection that closes leaves no part behind (endClient). The disk's free space is
// checked before the first piece. Folders 0700, files 0600.
import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, statfsSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { UPLOAD_MAX_BYTES, type ParsedParamsOf, type UploadResult } from '../../api/contract';
import { ConfigError, MespError } from '../../common/errors';

type UploadParams = ParsedParamsOf<'files.upload'>;

interface Part {
  client: string;
  fd: number;
  tmp: string;
  final: string;
  size: number;
  received: number;
}

/** Unfinished files one connection may have open at once. */
const MAX_OPEN_PER_CLIENT = 16;
/** Room left on the disk after an upload (runs and checkpoints need some too). */
const DISK_MARGIN = 100e6;

const mb = (n: number): string => `${(n / 1e6).toFixed(1)} MB`;

/** A client id is a folder name. */
const CLIENT = /^[a-z0-9-]{1,64}$/;

export class Uploads {
  /** uploadId → the client that started it. */
  private readonly owners = new Map<string, string>();
  /** `${uploadId}/${name}` → the file being written. */
  private readonly parts = new Map<string, Part>();

  constructor(private readonly root: string) {}

  /** Write one piece; answers where the file (or model folder) is and whether the file is complete. */
  piece(client: string, p: UploadParams): UploadResult {
    if (!CLIENT.test(client)) throw new Error(`uploads: bad client id "${client}"`);
    let uploadId = p.uploadId;
    if (uploadId === undefined) {
      if (p.offset !== 0) throw new ConfigError(`upload of ${p.name}: a new upload starts at offset 0, not ${p.offset}.`, { field: 'offset' });
      uploadId = randomBytes(8).toString('hex');
      this.owners.set(uploadId, client);
    } else if (this.owners.get(uploadId) !== client) {
      throw new ConfigError(`upload ${uploadId} was not started by this page: start a new upload (without an uploadId).`, { field: 'uploadId' });
    }
    const folder = join(this.root, client, uploadId);
    const final = join(folder, p.name);
    const path = p.kind === 'model' ? folder : final;
    const key = `${uploadId}/${p.name}`;
    if (p.base64.length % 4 !== 0) throw new ConfigError(`upload of ${p.name}: the piece at byte ${p.offset} is not whole base64 (length ${p.base64.length}).`, { field: 'base64' });
    const bytes = Buffer.from(p.base64, 'base64');

    let part = this.parts.get(key);
    if (p.offset === 0) {
      if (part) this.drop(key);
      if ([...this.parts.values()].filter((x) => x.client === client).length >= MAX_OPEN_PER_CLIENT) {
        throw new ConfigError(`upload of ${p.name}: this page already has ${MAX_OPEN_PER_CLIENT} unfinished uploads; finish or reload first.`, { field: 'name' });
      }
      mkdirSync(folder, { recursive: true, mode: 0o700 });
      this.checkDisk(folder, p.name, p.size);
      const tmp = join(folder, `.${p.name}.part`);
      part = { client, fd: openSync(tmp, 'w', 0o600), tmp, final, size: p.size, received: 0 };
      this.parts.set(key, part);
    } else if (!part) {
      throw new ConfigError(`upload of ${p.name}: no upload of it is in progress (a piece at byte ${p.offset} arrived): start again from the first piece.`, { field: 'offset' });
    }
    if (p.size !== part.size) {
      this.drop(key);
      throw new ConfigError(`upload of ${p.name}: its size changed from ${part.size} to ${p.size} bytes mid-upload; start again.`, { field: 'size' });
    }
    if (p.offset !== part.received) {
      throw new ConfigError(`upload of ${p.name}: expected the piece at byte ${part.received}, got one at byte ${p.offset}; send the pieces in order.`, { field: 'offset' });
    }
    if (part.received + bytes.length > part.size) {
      this.drop(key);
      throw new ConfigError(`upload of ${p.name}: the pieces add up to more than the ${part.size} bytes announced; start again.`, { field: 'base64' });
    }
    if (bytes.length === 0 && part.received < part.size) {
      throw new ConfigError(`upload of ${p.name}: an empty piece at byte ${p.offset} of ${part.size}.`, { field: 'base64' });
    }
    try {
      if (bytes.length) writeSync(part.fd, bytes, 0, bytes.length, part.received);
    } catch (e) {
      this.drop(key);
      throw diskError(final, e);
    }
    part.received += bytes.length;
    if (part.received < part.size) return { path, uploadId, received: part.received, done: false };
    try {
      fsyncSync(part.fd);
      closeSync(part.fd);
      this.parts.delete(key);
      renameSync(part.tmp, final);
    } catch (e) {
      this.drop(key);
      throw diskError(final, e);
    }
    return { path, uploadId, received: part.received, done: true };
  }

  /** A page connection closed: its unfinished files are removed (finished ones stay, they may be in use). */
  endClient(client: string): void {
    for (const [key, part] of this.parts) if (part.client === client) this.drop(key);
    for (const [id, owner] of this.owners) if (owner === client) this.owners.delete(id);
  }

  private drop(key: string): void {
    const part = this.parts.get(key);
    if (!part) return;
    this.parts.delete(key);
    try {
      closeSync(part.fd);
    } catch {
      // already closed
    }
    rmSync(part.tmp, { force: true });
  }

  private checkDisk(folder: string, name: string, size: number): void {
    if (size > UPLOAD_MAX_BYTES) throw new ConfigError(`${name} is ${mb(size)}: uploads take files up to ${mb(UPLOAD_MAX_BYTES)}.`, { field: 'size' });
    const fs = statfsSync(folder);
    const free = Number(fs.bavail) * Number(fs.bsize);
    if (size + DISK_MARGIN > free) {
      throw new MespError('DISK_FULL', `${name} (${mb(size)}) does not fit on the disk of ${this.root}: ${mb(free)} free, and ${mb(DISK_MARGIN)} must stay free. Free some space, or start the service with --data-dir on a larger disk.`);
    }
  }
}

function diskError(path: string, e: unknown): MespError {
  const code = (e as NodeJS.ErrnoException).code;
  const why = code === 'ENOSPC' ? 'the disk is full' : code === 'EROFS' ? 'the file system is read-only' : code === 'EACCES' ? 'permission denied' : (e as Error).message;
  return new MespError('DISK', `cannot write the upload ${path}: ${why}. Free some space or fix the folder's permissions, then upload again.`);
}

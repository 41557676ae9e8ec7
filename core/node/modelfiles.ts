// Opens a Hugging Face model folder (the transformers layout: config.json, model.safetensors or shards listed by
// model.safetensors.index.json {"weight_map": {name: shardFile}}, tokenizer.json, tokenizer_config.json).
// Opening reads config.json and each shard's safetensors header only, then checks every tensor the config needs
// (name, shape, float dtype). Tensors are read lazily, one byte range at a time with positioned reads, so loading a
// 3B model never holds a whole shard in host memory. Every problem is a typed error naming the file.
import { createHash } from 'node:crypto';
import { closeSync, existsSync, fstatSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { ConfigError, FormatError } from '../common/errors';
import { DTYPE_SIZE, decodeF32Into, parseSafetensorsHeader, safetensorsHeaderLength, type SafetensorsDtype, type TensorInfo } from '../common/safetensors';
import { parseQwen2Config, type Qwen2Config } from '../model/config';
import { expectedTensors } from '../model/names';
import { hubIdOfDir } from './hub/cache';

export const CONFIG_FILE = 'config.json';
export const SINGLE_FILE = 'model.safetensors';
export const INDEX_FILE = 'model.safetensors.index.json';
export const TOKENIZER_FILE = 'tokenizer.json';
export const TOKENIZER_CONFIG_FILE = 'tokenizer_config.json';

export interface ModelFolder {
  dir: string;
  /** The checkpoint's name: OWNER/NAME for a snapshot in a Hugging Face cache, else the folder's name. */
  name: string;
  config: Qwen2Config;
  configFile: string;
  /** model.safetensors, or the index file of a sharded checkpoint. */
  weightsFile: string;
  /** The safetensors files, absolute paths, sorted by name. */
  shardFiles: string[];
  /** Every tensor in the checkpoint, sorted (including ones the engine ignores, e.g. a tied lm_head). */
  tensorNames: string[];
  has(name: string): boolean;
  /** One tensor as f32 (F16/BF16 converted), read from disk now. */
  read(name: string): Float32Array;
  /** One tensor's raw little-endian bytes, read from disk now. */
  readRaw(name: string): Uint8Array;
  dtypeOf(name: string): SafetensorsDtype;
  shapeOf(name: string): number[];
  /** The safetensors file holding a tensor (absolute path). */
  fileOf(name: string): string;
  /** Bytes of tensor data over all shards. */
  totalBytes: number;
  tokenizerJsonPath?: string;
  tokenizerConfigPath?: string;
  /** SHA-256 (hex) of a whole file of the folder, read in chunks. */
  sha256Of(file: string): string;
  /** SHA-256 (hex) of config.json and every shard's size and header: identifies the checkpoint cheaply. */
  fingerprint(): string;
}

interface Located {
  file: string;
  info: TensorInfo;
}

const CHUNK = 64 * 1024 * 1024;

/** Read exactly `length` bytes at `position` into `into`, or throw FormatError (file shrank since it was opened). */
function readExactly(fd: number, into: Uint8Array, position: number, file: string): void {
  let done = 0;
  while (done < into.length) {
    const n = readSync(fd, into, done, Math.min(CHUNK, into.length - done), position + done);
    if (n <= 0) {
      throw new FormatError(file, `unexpected end of file at byte ${position + done} (wanted ${into.length} bytes at ${position}): the file is truncated or changed while open.`);
    }
    done += n;
  }
}

function readJson(path: string, what: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new FormatError(path, `cannot read ${what}: ${(e as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new FormatError(path, `${what} is not valid JSON (${(e as Error).message}). Download the file again.`);
  }
}

function readHeader(path: string): { infos: Map<string, TensorInfo>; headerBytes: Uint8Array; size: number } {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    const first8 = new Uint8Array(Math.min(8, size));
    readExactly(fd, first8, 0, path);
    const n = safetensorsHeaderLength(first8, path, size);
    const prefix = new Uint8Array(8 + n);
    readExactly(fd, prefix, 0, path);
    const h = parseSafetensorsHeader(prefix, path, size);
    return { infos: h.tensors, headerBytes: prefix, size };
  } finally {
    closeSync(fd);
  }
}

function shapeText(s: readonly number[]): string {
  return `[${s.join(', ')}]`;
}

/** A plain file name inside the folder: no directories, no "..". */
function isPlainName(f: string): boolean {
  return f.length > 0 && !f.includes('/') && !f.includes('\\') && f !== '.' && f !== '..';
}

export interface OpenOptions {
  /** Bytes read and converted at a time by read() (default 64 MiB). */
  chunkBytes?: number;
}

/** Open a HF Qwen2 model folder: validate config, headers and every expected tensor; read tensors lazily. */
export function openModelFolder(dirIn: string, opts: OpenOptions = {}): ModelFolder {
  const chunkBytes = opts.chunkBytes ?? CHUNK;
  const dir = resolve(dirIn);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new ConfigError(`model folder ${dir} does not exist or is not a folder. Choose a Hugging Face model folder (config.json + model.safetensors).`, { file: dir });
  }
  const configFile = join(dir, CONFIG_FILE);
  if (!existsSync(configFile)) {
    throw new FormatError(configFile, `missing: a model folder needs config.json. Choose the folder of a Hugging Face Qwen2/Qwen2.5 checkpoint.`);
  }
  const config = parseQwen2Config(readJson(configFile, 'config.json'), configFile);

  // Where the weights are: model.safetensors first (as transformers does), else the shard index.
  const single = join(dir, SINGLE_FILE);
  const indexPath = join(dir, INDEX_FILE);
  const located = new Map<string, Located>();
  const headers: { file: string; size: number; headerBytes: Uint8Array }[] = [];
  let weightsFile: string;
  if (existsSync(single)) {
    weightsFile = single;
    const h = readHeader(single);
    headers.push({ file: single, size: h.size, headerBytes: h.headerBytes });
    for (const [name, info] of h.infos) located.set(name, { file: single, info });
  } else if (existsSync(indexPath)) {
    weightsFile = indexPath;
    const idx = readJson(indexPath, 'the shard index');
    const wm = (idx as { weight_map?: unknown } | null)?.weight_map;
    if (typeof idx !== 'object' || idx === null || typeof wm !== 'object' || wm === null || Array.isArray(wm)) {
      throw new FormatError(indexPath, `the shard index has no "weight_map" object {tensor name: shard file}. Download the file again.`);
    }
    const byShard = new Map<string, string[]>();
    for (const [name, shard] of Object.entries(wm as Record<string, unknown>)) {
      if (typeof shard !== 'string' || !isPlainName(shard)) {
        throw new FormatError(indexPath, `weight_map["${name}"] is ${JSON.stringify(shard)}; expected the file name of a shard in the same folder.`);
      }
      const list = byShard.get(shard) ?? [];
      list.push(name);
      byShard.set(shard, list);
    }
    for (const [shard, names] of [...byShard].sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0))) {
      const path = join(dir, shard);
      if (!existsSync(path)) {
        throw new FormatError(indexPath, `names shard file ${shard} (for ${names.length} tensors, e.g. "${names[0]}"), which is missing from ${dir}. Download the missing shard.`);
      }
      const h = readHeader(path);
      headers.push({ file: path, size: h.size, headerBytes: h.headerBytes });
      for (const name of names) {
        const info = h.infos.get(name);
        if (!info) throw new FormatError(path, `the index ${INDEX_FILE} says tensor "${name}" is in this shard, but it is not. Download the checkpoint again.`);
        located.set(name, { file: path, info });
      }
    }
  } else {
    throw new FormatError(dir, `no weights: the folder has neither ${SINGLE_FILE} nor ${INDEX_FILE}. Only safetensors checkpoints are supported (convert .bin/.pth with transformers' save_pretrained).`);
  }

  // Every tensor the config needs: present, with the right shape and a float dtype.
  for (const t of expectedTensors(config)) {
    const at = located.get(t.name);
    if (!at) {
      throw new FormatError(
        weightsFile,
        `missing tensor "${t.name}" (shape ${shapeText(t.shape)}), needed by config.json` +
          (t.name === 'lm_head.weight' ? ' (tie_word_embeddings is false; set it to true if the checkpoint ties the LM head to the embedding)' : '') +
          '. The checkpoint does not match its config.json.',
      );
    }
    const found = at.info.shape;
    if (found.length !== t.shape.length || found.some((d, k) => d !== t.shape[k])) {
      throw new FormatError(at.file, `tensor "${t.name}" has shape ${shapeText(found)}, expected ${shapeText(t.shape)} from config.json. The checkpoint does not match its config.json.`);
    }
    if (at.info.dtype !== 'F32' && at.info.dtype !== 'F16' && at.info.dtype !== 'BF16') {
      throw new FormatError(at.file, `tensor "${t.name}" has dtype ${at.info.dtype}; weights must be F32, F16 or BF16.`);
    }
  }

  const find = (name: string): Located => {
    const at = located.get(name);
    if (!at) throw new FormatError(weightsFile, `no tensor "${name}" in this checkpoint.`);
    return at;
  };
  const readRaw = (name: string): Uint8Array => {
    const { file, info } = find(name);
    const out = new Uint8Array(info.byteLength);
    const fd = openSync(file, 'r');
    try {
      readExactly(fd, out, info.offset, file);
    } finally {
      closeSync(fd);
    }
    return out;
  };
  const read = (name: string): Float32Array => {
    const { file, info } = find(name);
    if (info.dtype !== 'F32' && info.dtype !== 'F16' && info.dtype !== 'BF16') {
      throw new FormatError(file, `tensor "${name}" has dtype ${info.dtype}, not a float dtype (F32, F16, BF16): it cannot be read as weights.`);
    }
    // Read and convert chunk by chunk into the result: host memory peaks at the f32 tensor plus one chunk.
    const size = DTYPE_SIZE[info.dtype];
    const out = new Float32Array(info.numel);
    const perChunk = Math.max(1, Math.floor(chunkBytes / size));
    const buf = new Uint8Array(Math.min(info.numel, perChunk) * size);
    const fd = openSync(file, 'r');
    try {
      for (let at = 0; at < info.numel; at += perChunk) {
        const n = Math.min(perChunk, info.numel - at);
        const raw = buf.subarray(0, n * size);
        readExactly(fd, raw, info.offset + at * size, file);
        decodeF32Into(raw, info.dtype, out, at);
      }
    } finally {
      closeSync(fd);
    }
    return out;
  };

  const tokenizerJsonPath = existsSync(join(dir, TOKENIZER_FILE)) ? join(dir, TOKENIZER_FILE) : undefined;
  const tokenizerConfigPath = existsSync(join(dir, TOKENIZER_CONFIG_FILE)) ? join(dir, TOKENIZER_CONFIG_FILE) : undefined;
  const shardFiles = headers.map((h) => h.file);

  return {
    dir,
    name: hubIdOfDir(dir) ?? basename(dir),
    config,
    configFile,
    weightsFile,
    shardFiles,
    tensorNames: [...located.keys()].sort(),
    has: (name) => located.has(name),
    read,
    readRaw,
    dtypeOf: (name) => find(name).info.dtype,
    shapeOf: (name) => [...find(name).info.shape],
    fileOf: (name) => find(name).file,
    totalBytes: [...located.values()].reduce((s, l) => s + l.info.byteLength, 0),
    tokenizerJsonPath,
    tokenizerConfigPath,
    sha256Of: (file) => sha256File(join(dir, basename(file))),
    fingerprint: () => {
      const h = createHash('sha256');
      h.update(readFileSync(configFile));
      for (const s of headers) {
        h.update(`${basename(s.file)}:${s.size}:`);
        h.update(s.headerBytes);
      }
      return h.digest('hex');
    },
  };
}

/** SHA-256 (hex) of a file, read in 64 MiB chunks. */
export function sha256File(path: string): string {
  const h = createHash('sha256');
  const fd = openSync(path, 'r');
  try {
    const buf = new Uint8Array(Math.min(CHUNK, Math.max(1, fstatSync(fd).size)));
    let pos = 0;
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, pos);
      if (n <= 0) break;
      h.update(buf.subarray(0, n));
      pos += n;
    }
  } finally {
    closeSync(fd);
  }
  return h.digest('hex');
}

// Shuffling, validation split and batching of tokenized examples for causal-LM training.
// The targets are HF's shifted labels: transformers' causal LM loss compares logits[:, t] with labels[:, t + 1], so
// targets[t] = labels[t + 1] and the last position of each row is −100; padding is on the right with the pad id and
// targets −100, as DataCollatorForSeq2Seq / DataCollatorWithPadding pad labels with −100.
// Shuffling is Fisher–Yates driven by a seeded 32-bit PRNG, so a run is reproducible from its seed and can resume at
// (epoch, batch index): each epoch's order depends only on (seed, epoch). Pure TS.
import { ConfigError } from '../common/errors';
import { IGNORE_INDEX, type Example } from './dataset';

/** A right-padded batch, row-major. */
export interface Batch {
  /** Rows. */
  B: number;
  /** Tokens per row (the longest row of the batch, or the fixed length asked for). */
  T: number;
  inputIds: Int32Array; // (B, T)
  targets: Int32Array; // (B, T): next-token labels, −100 where masked or padded
  /** Number of targets that are not −100: the denominator of the mean loss. */
  tokensWithLoss: number;
}

export interface BatchOptions {
  /** Id written in padded positions (its targets are −100, so any id works; use the tokenizer's pad id). */
  padId?: number;
  /** Pad every batch to this length instead of its longest row (a fixed shape for the memory plan). */
  padTo?: number;
  /** Drop a last batch that has fewer than batchSize rows. */
  dropLast?: boolean;
}

// ---- seeded PRNG --------------------------------------------------------------------------------------------------

/** A 32-bit integer hash (xor-shift-multiply, well mixed): the base of the seeded generator. */
function mix32(x: number): number {
  let z = x >>> 0;
  z = Math.imul(z ^ (z >>> 16), 0x21f0aaad);
  z = Math.imul(z ^ (z >>> 15), 0x735a2d97);
  return (z ^ (z >>> 15)) >>> 0;
}

/** A counter-based generator: value n is mix32(state + n·golden). Deterministic across platforms. */
export class SeededRng {
  private state: number;
  constructor(seed: number) {
    this.state = mix32((seed >>> 0) ^ 0x9e3779b9);
  }
  /** Uniform 32-bit unsigned integer. */
  nextU32(): number {
    this.state = (this.state + 0x9e3779b9) >>> 0;
    return mix32(this.state);
  }
  /** Uniform integer in [0, n), for n ≤ 2^32, without modulo bias (rejection). */
  below(n: number): number {
    if (n <= 1) return 0;
    const limit = Math.floor(0x100000000 / n) * n;
    for (;;) {
      const r = this.nextU32();
      if (r < limit) return r % n;
    }
  }
}

function checkSeed(seed: number): number {
  if (!Number.isSafeInteger(seed)) throw new ConfigError(`--seed must be an integer, got ${seed}.`, { field: 'seed' });
  // Fold the high bits in so that seeds differing above bit 31 still differ.
  return (seed >>> 0) ^ mix32(Math.floor(seed / 0x100000000) >>> 0);
}

/** A new array with the elements of `items` in a seeded Fisher–Yates order. */
export function shuffle<T>(items: readonly T[], seed: number): T[] {
  const out = [...items];
  const rng = new SeededRng(checkSeed(seed));
  for (let i = out.length - 1; i > 0; i--) {
    const j = rng.below(i + 1);
    const t = out[i];
    out[i] = out[j];
    out[j] = t;
  }
  return out;
}

/** The seed of epoch `epoch` of a run seeded with `seed`. */
export function epochSeed(seed: number, epoch: number): number {
  return mix32(checkSeed(seed) ^ mix32((epoch >>> 0) + 0x632be5ab));
}

/** The order of example indices in epoch `epoch` (0-based): a permutation of 0..n-1 that depends on (seed, epoch). */
export function epochOrder(n: number, seed: number, epoch: number): number[] {
  return shuffle(
    Array.from({ length: n }, (_, i) => i),
    epochSeed(seed, epoch),
  );
}

// ---- validation split ---------------------------------------------------------------------------------------------

export interface Split {
  train: Example[];
  validation: Example[];
}

/**
 * Holds out a seeded random `fraction` of the examples for validation (at least one when fraction > 0, and at
 * least one left to train on), keeping file order in both parts. With `validation` given (from a separate file),
 * all examples train and those validate.
 */
export function splitValidation(examples: readonly Example[], opts: { fraction?: number; seed?: number; validation?: readonly Example[] }): Split {
  if (opts.validation) return { train: [...examples], validation: [...opts.validation] };
  const fraction = opts.fraction ?? 0;
  if (!(fraction >= 0 && fraction < 1)) {
    throw new ConfigError(`--val-fraction must be at least 0 and below 1, got ${fraction}.`, { field: 'valFraction' });
  }
  if (fraction === 0) return { train: [...examples], validation: [] };
  if (examples.length < 2) {
    throw new ConfigError(`--val-fraction ${fraction} needs at least 2 rows, the dataset has ${examples.length}. Add rows or give a validation file.`, {
      field: 'valFraction',
    });
  }
  const count = Math.min(examples.length - 1, Math.max(1, Math.round(fraction * examples.length)));
  const held = new Set(epochOrder(examples.length, opts.seed ?? 0, 0x7fffffff).slice(0, count));
  return {
    train: examples.filter((_, i) => !held.has(i)),
    validation: examples.filter((_, i) => held.has(i)),
  };
}

// ---- batching -------------------------------------------------------------------------------------------------------

function checkBatchSize(batchSize: number): void {
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new ConfigError(`--batch must be a positive integer, got ${batchSize}.`, { field: 'batchSize' });
  }
}

/** One right-padded batch from `rows`, with next-token targets. */
export function makeBatch(rows: readonly Example[], opts: BatchOptions = {}): Batch {
  if (rows.length === 0) throw new ConfigError('a batch needs at least one row.', { field: 'batchSize' });
  const padId = opts.padId ?? 0;
  const longest = rows.reduce((m, r) => Math.max(m, r.inputIds.length), 0);
  const T = opts.padTo ?? longest;
  if (!Number.isInteger(T) || T < longest || T < 1) {
    throw new ConfigError(`cannot pad a batch whose longest row has ${longest} tokens to ${opts.padTo}; truncate rows with --seq-len first.`, {
      field: 'seqLen',
    });
  }
  const B = rows.length;
  const inputIds = new Int32Array(B * T).fill(padId); // (B, T)
  const targets = new Int32Array(B * T).fill(IGNORE_INDEX); // (B, T)
  let tokensWithLoss = 0;
  rows.forEach((row, b) => {
    const n = row.inputIds.length;
    const base = b * T;
    for (let t = 0; t < n; t++) inputIds[base + t] = row.inputIds[t];
    // HF causal LM: logits at t predict labels at t + 1.
    for (let t = 0; t + 1 < n; t++) {
      const y = row.labels[t + 1];
      targets[base + t] = y;
      if (y !== IGNORE_INDEX) tokensWithLoss++;
    }
  });
  return { B, T, inputIds, targets, tokensWithLoss };
}

/** Consecutive batches of `batchSize` rows in the given order (the last may be smaller unless dropLast). */
export function makeBatches(examples: readonly Example[], batchSize: number, opts: BatchOptions = {}): Batch[] {
  checkBatchSize(batchSize);
  const out: Batch[] = [];
  for (let i = 0; i < examples.length; i += batchSize) {
    const rows = examples.slice(i, i + batchSize);
    if (opts.dropLast && rows.length < batchSize) break;
    out.push(makeBatch(rows, opts));
  }
  return out;
}

/** Batches in one epoch. */
export function batchesPerEpoch(examples: number, batchSize: number, dropLast = false): number {
  checkBatchSize(batchSize);
  return dropLast ? Math.floor(examples / batchSize) : Math.ceil(examples / batchSize);
}

// ---- epochs -------------------------------------------------------------------------------------------------------

/** Where a run stands: the next batch to train is batch `index` of epoch `epoch` (both 0-based). */
export interface BatchCursor {
  epoch: number;
  index: number;
}

export interface EpochBatch extends Batch {
  epoch: number;
  index: number;
  /** Indices into the examples of the rows of this batch. */
  rows: number[];
  /** The cursor to save to resume after this batch. */
  next: BatchCursor;
}

export interface EpochOptions extends BatchOptions {
  batchSize: number;
  seed: number;
  /** Number of epochs; Infinity for an endless stream. */
  epochs: number;
  /** Resume here (default: epoch 0, batch 0). */
  start?: BatchCursor;
  /** Shuffle each epoch (default true); false keeps file order. */
  shuffle?: boolean;
}

/**
 * The batches of a run, epoch after epoch, each epoch in its own seeded order. Resuming at a cursor yields exactly
 * the batches an uninterrupted run would have yielded from there.
 */
export function* iterateEpochs(examples: readonly Example[], opts: EpochOptions): Generator<EpochBatch> {
  const perEpoch = batchesPerEpoch(examples.length, opts.batchSize, opts.dropLast);
  if (perEpoch === 0) {
    throw new ConfigError(`--batch ${opts.batchSize} is larger than the ${examples.length} training rows with drop-last; lower --batch.`, {
      field: 'batchSize',
    });
  }
  if (!(opts.epochs > 0) || (Number.isFinite(opts.epochs) && !Number.isInteger(opts.epochs))) {
    throw new ConfigError(`--epochs must be a positive integer, got ${opts.epochs}.`, { field: 'epochs' });
  }
  const start = opts.start ?? { epoch: 0, index: 0 };
  if (!Number.isInteger(start.epoch) || !Number.isInteger(start.index) || start.epoch < 0 || start.index < 0 || start.index >= perEpoch) {
    throw new ConfigError(`cannot resume at epoch ${start.epoch}, batch ${start.index}: an epoch has ${perEpoch} batches.`, { field: 'resume' });
  }
  checkSeed(opts.seed);
  for (let epoch = start.epoch; epoch < opts.epochs; epoch++) {
    const order = opts.shuffle === false ? Array.from({ length: examples.length }, (_, i) => i) : epochOrder(examples.length, opts.seed, epoch);
    for (let index = epoch === start.epoch ? start.index : 0; index < perEpoch; index++) {
      const rows = order.slice(index * opts.batchSize, (index + 1) * opts.batchSize);
      const batch = makeBatch(
        rows.map((i) => examples[i]),
        opts,
      );
      const next = index + 1 < perEpoch ? { epoch, index: index + 1 } : { epoch: epoch + 1, index: 0 };
      yield { ...batch, epoch, index, rows, next };
    }
  }
}

/**
 * The batch of 0-based optimizer step `step`: epoch = step / batches-per-epoch, rows taken in that epoch's seeded
 * order. A pure function of (examples, batchSize, seed, step), so a resumed run sees exactly the batches it would
 * have seen (the last batch of an epoch may be short).
 */
export function batchAtStep(examples: readonly Example[], batchSize: number, seed: number, step: number, opts: BatchOptions = {}): Batch {
  const perEpoch = batchesPerEpoch(examples.length, batchSize, false);
  if (perEpoch === 0) throw new ConfigError('the dataset has no rows to train on.', { field: 'data' });
  const epoch = Math.floor(step / perEpoch);
  const index = step % perEpoch;
  const order = epochOrder(examples.length, seed, epoch);
  return makeBatch(order.slice(index * batchSize, (index + 1) * batchSize).map((i) => examples[i]), opts);
}

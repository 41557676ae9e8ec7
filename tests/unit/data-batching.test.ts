// Batching (core/data/batching.ts): seeded shuffling, validation split, right padding and HF's next-token shift,
// and the resumable epoch iterator.
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../core/common/errors';
import {
  SeededRng,
  batchesPerEpoch,
  epochOrder,
  iterateEpochs,
  makeBatch,
  makeBatches,
  shuffle,
  splitValidation,
  type EpochBatch,
} from '../../core/data/batching';
import { IGNORE_INDEX, type Example } from '../../core/data/dataset';

const M = IGNORE_INDEX;

function ex(inputIds: number[], labels: number[] = inputIds, line = 1): Example {
  return { inputIds, labels, line, format: 'input-ids', truncated: false };
}

const rows = (n: number) => Array.from({ length: n }, (_, i) => ex([i + 1, i + 2], [i + 1, i + 2], i + 1));

describe('shuffle', () => {
  it('is a deterministic permutation from its seed', () => {
    const items = Array.from({ length: 50 }, (_, i) => i);
    const a = shuffle(items, 42);
    expect(shuffle(items, 42)).toEqual(a);
    expect([...a].sort((x, y) => x - y)).toEqual(items);
    expect(a).not.toEqual(items);
    expect(shuffle(items, 43)).not.toEqual(a);
    expect(items[0]).toBe(0); // input untouched
    expect(shuffle([], 1)).toEqual([]);
    expect(shuffle([7], 1)).toEqual([7]);
  });

  it('pins the order for a seed (runs reproduce across versions)', () => {
    expect(shuffle([0, 1, 2, 3, 4, 5, 6, 7, 8, 9], 1234)).toEqual([5, 7, 1, 9, 0, 8, 4, 6, 3, 2]);
    expect(epochOrder(10, 1234, 1)).toEqual([5, 2, 0, 6, 9, 1, 4, 3, 7, 8]);
    expect(epochOrder(10, 1234, 0)).not.toEqual(epochOrder(10, 1234, 1));
    expect(epochOrder(10, 2 ** 40, 0)).not.toEqual(epochOrder(10, 0, 0)); // high bits of the seed count
  });

  it('is close to uniform (each of 4 items lands in each slot about 1/4 of the time)', () => {
    const counts = Array.from({ length: 4 }, () => [0, 0, 0, 0]);
    for (let s = 0; s < 4000; s++) shuffle([0, 1, 2, 3], s).forEach((v, slot) => counts[v][slot]++);
    for (const [i, row] of counts.entries()) for (const [j, c] of row.entries()) expect(Math.abs(c - 1000), `count [${i}][${j}]`).toBeLessThan(150);
  });

  it('rejects a non-integer seed', () => {
    expect(() => shuffle([1, 2], 1.5)).toThrow(ConfigError);
    const r = new SeededRng(9);
    for (let i = 0; i < 100; i++) expect(r.below(7), `i ${i}`).toBeLessThan(7);
  });
});

describe('splitValidation', () => {
  it('holds out a seeded fraction and keeps file order', () => {
    const data = rows(20);
    const s = splitValidation(data, { fraction: 0.25, seed: 3 });
    expect(s.validation).toHaveLength(5);
    expect(s.train).toHaveLength(15);
    expect([...s.train, ...s.validation].map((e) => e.line).sort((a, b) => a - b)).toEqual(data.map((e) => e.line));
    expect(s.train.map((e) => e.line)).toEqual([...s.train.map((e) => e.line)].sort((a, b) => a - b));
    expect(splitValidation(data, { fraction: 0.25, seed: 3 })).toEqual(s);
    expect(splitValidation(data, { fraction: 0.25, seed: 4 }).validation).not.toEqual(s.validation);
  });

  it('keeps at least one row on each side, and takes a separate file as is', () => {
    expect(splitValidation(rows(3), { fraction: 0.01 }).validation).toHaveLength(1);
    expect(splitValidation(rows(3), { fraction: 0.99 }).train).toHaveLength(1);
    expect(splitValidation(rows(3), {}).validation).toHaveLength(0);
    const val = rows(2);
    expect(splitValidation(rows(4), { validation: val, fraction: 0.5 })).toEqual({ train: rows(4), validation: val });
  });

  it('rejects bad fractions', () => {
    expect(() => splitValidation(rows(4), { fraction: 1 })).toThrow(/--val-fraction must be at least 0 and below 1/);
    expect(() => splitValidation(rows(4), { fraction: -0.1 })).toThrow(ConfigError);
    expect(() => splitValidation(rows(4), { fraction: Number.NaN })).toThrow(ConfigError);
    expect(() => splitValidation(rows(1), { fraction: 0.5 })).toThrow(/needs at least 2 rows/);
  });
});

describe('makeBatch: right padding and the causal shift', () => {
  it('shifts labels by one as HF does and pads to the longest row', () => {
    const b = makeBatch([ex([10, 11, 12, 13], [M, M, 12, 13]), ex([20, 21], [20, 21])], { padId: 0 });
    expect(b.B).toBe(2);
    expect(b.T).toBe(4);
    expect([...b.inputIds]).toEqual([10, 11, 12, 13, 20, 21, 0, 0]);
    // targets[t] = labels[t + 1]; the last real position and the padding are -100
    expect([...b.targets]).toEqual([M, 12, 13, M, 21, M, M, M]);
    expect(b.tokensWithLoss).toBe(3);
  });

  it('pads to a fixed length and with the given pad id', () => {
    const b = makeBatch([ex([5, 6])], { padId: 99, padTo: 4 });
    expect([...b.inputIds]).toEqual([5, 6, 99, 99]);
    expect([...b.targets]).toEqual([6, M, M, M]);
    expect(() => makeBatch([ex([1, 2, 3])], { padTo: 2 })).toThrow(/cannot pad a batch whose longest row has 3 tokens to 2/);
    expect(() => makeBatch([])).toThrow(ConfigError);
  });

  it('makeBatches chunks in order, keeping or dropping the last partial batch', () => {
    const data = rows(5);
    const bs = makeBatches(data, 2);
    expect(bs.map((b) => b.B)).toEqual([2, 2, 1]);
    expect([...bs[2].inputIds]).toEqual([5, 6]);
    expect(makeBatches(data, 2, { dropLast: true }).map((b) => b.B)).toEqual([2, 2]);
    expect(batchesPerEpoch(5, 2)).toBe(3);
    expect(batchesPerEpoch(5, 2, true)).toBe(2);
    expect(() => makeBatches(data, 0)).toThrow(/--batch must be a positive integer/);
  });
});

describe('iterateEpochs', () => {
  const data = rows(7);
  const opts = { batchSize: 3, seed: 11, epochs: 3 };
  const all = [...iterateEpochs(data, opts)];
  const key = (b: EpochBatch) => `${b.epoch}:${b.index}:${b.rows.join(',')}`;

  it('covers every row once per epoch, reshuffling each epoch', () => {
    expect(all).toHaveLength(9);
    for (let e = 0; e < 3; e++) {
      const seen = all.filter((b) => b.epoch === e).flatMap((b) => b.rows);
      expect([...seen].sort((a, b) => a - b), `e ${e}`).toEqual([0, 1, 2, 3, 4, 5, 6]);
    }
    expect(all[0].rows).not.toEqual(all[3].rows);
    expect(all.map((b) => b.next)).toEqual([
      ...[0, 1, 2].flatMap((e) => [
        { epoch: e, index: 1 },
        { epoch: e, index: 2 },
        { epoch: e + 1, index: 0 },
      ]),
    ]);
    // batch contents follow the row indices
    expect([...all[0].inputIds.slice(0, 2)]).toEqual(data[all[0].rows[0]].inputIds);
  });

  it('resumes at (epoch, index) with exactly the remaining batches', () => {
    for (const cut of [1, 4, 6]) {
      const resumed = [...iterateEpochs(data, { ...opts, start: all[cut - 1].next })];
      expect(resumed.map(key), `cut ${cut}`).toEqual(all.slice(cut).map(key));
    }
  });

  it('keeps file order without shuffle and streams without an epoch limit', () => {
    const plain = [...iterateEpochs(data, { ...opts, epochs: 1, shuffle: false })];
    expect(plain.flatMap((b) => b.rows)).toEqual([0, 1, 2, 3, 4, 5, 6]);
    const it = iterateEpochs(data, { ...opts, epochs: Infinity });
    for (let i = 0; i < 20; i++) expect(it.next().done, `i ${i}`).toBe(false);
  });

  it('rejects bad cursors and sizes', () => {
    expect(() => [...iterateEpochs(data, { ...opts, start: { epoch: 0, index: 3 } })]).toThrow(/cannot resume at epoch 0, batch 3: an epoch has 3 batches/);
    expect(() => [...iterateEpochs(data, { ...opts, batchSize: 8, dropLast: true })]).toThrow(/--batch 8 is larger than the 7 training rows/);
    expect(() => [...iterateEpochs(data, { ...opts, epochs: 0 })]).toThrow(/--epochs must be a positive integer/);
    expect(() => [...iterateEpochs(data, { ...opts, seed: 0.5 })]).toThrow(/--seed must be an integer/);
  });
});

// `mesp bench`'s request: the paper's memory table on a real Qwen2.5 shape. Its settings are the TrainSpec's fields
// (core/api/train.ts) with the paper's setup as defaults where they differ (int4 weights, SGD, one step, seed 0,
// lr 1e-4). Pure TS.
import { z } from 'zod';
import { described, FIELDS } from './fields';
import { METHODS, MethodSchema } from './names';
import { TrainSpecSchema } from './train';

/** The metadata of a TrainSpec field, for the same field with the paper's default. */
const metaOf = (key: 'quant' | 'lr' | 'seed') => FIELDS.get(TrainSpecSchema.shape[key])!;

export const BenchRequestSchema = TrainSpecSchema.pick({ seqLen: true, batch: true, rank: true, alpha: true, targets: true, storeH: true, chunkedHead: true, headChunk: true, precision: true })
  .extend({
    shape: described(z.string().min(1), { label: 'Shape', arg: 'ID|CONFIG.json', group: 'inputs', help: 'qwen2.5-0.5b | qwen2.5-1.5b | qwen2.5-3b, or a config.json' }),
    methods: described(z.array(MethodSchema).min(1).default([...METHODS]), { label: 'Methods', arg: 'LIST', group: 'method', help: `any of ${METHODS.join(',')}` }),
    quant: described(TrainSpecSchema.shape.quant.unwrap().default('int4'), metaOf('quant')),
    steps: described(z.number().int().min(1).max(1000).default(1), { label: 'Steps', arg: 'N', group: 'run', help: 'SGD steps per method' }),
    seed: described(TrainSpecSchema.shape.seed.unwrap().default(0), metaOf('seed')),
    lr: described(TrainSpecSchema.shape.lr.unwrap().default(1e-4), metaOf('lr')),
    profile: described(z.boolean().default(false), {
      label: 'Per-kernel profile', group: 'options',
      help: 'one more step per method with every dispatch timed (GPU timestamps where the adapter has them, else queue completion): calls, ms, share, FLOPs, bytes, GFLOP/s, GB/s per kernel',
    }),
    planOnly: described(z.boolean().default(false), {
      label: 'Plan only', group: 'options',
      help: 'only the dry run of each method\'s schedule: planned peak, working set by category and projected phone step times (no GPU; seconds)',
    }),
    json: described(z.string().min(1).optional(), { label: 'JSON', arg: 'FILE', group: 'options', help: 'also write the result as JSON' }),
  });
export type BenchRequest = z.output<typeof BenchRequestSchema>;

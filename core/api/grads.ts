// `mesp grads`'s request: one row's LoRA gradients for one method (written as safetensors) or a comparison of methods
// with MeZO's cosine. The shared settings are the TrainSpec's and the run inputs' fields (core/api/train.ts), so each
// flag means what it means for `mesp train`. Pure TS.
import { z } from 'zod';
import { described } from './fields';
import { METHODS, MethodSchema } from './names';
import { TrainInputsSchema, TrainSpecSchema } from './train';

export const GradsRequestSchema = TrainInputsSchema.pick({ modelDir: true, dataPath: true, profile: true })
  .extend(TrainSpecSchema.pick({ quant: true, seqLen: true, mezoEps: true, seed: true }).shape)
  .extend({
    adapterDir: described(z.string().min(1), { label: 'Adapter', flag: 'adapter', arg: 'DIR', group: 'inputs', help: 'the PEFT adapter whose gradients to take' }),
    method: described(MethodSchema.optional(), { label: 'Method', arg: 'M', group: 'method', help: `the method whose gradients --out gets: ${METHODS.join(' | ')}` }),
    compare: described(z.array(MethodSchema).min(1).optional(), {
      label: 'Compare', arg: 'LIST', group: 'method', help: `instead of --method: a table of these methods (e.g. ${METHODS.join(',')})`,
    }),
    row: described(z.number().int().min(0).default(0), { label: 'Row', arg: 'N', group: 'run', help: 'the dataset row (0-based)' }),
    samples: described(z.number().int().min(1).max(100_000).optional(), {
      label: 'MeZO samples', arg: 'K', group: 'run', help: 'MeZO directions to average and compare (default 1, or 16 with --compare)',
    }),
    out: described(z.string().min(1).optional(), { label: 'Output', arg: 'FILE.safetensors', group: 'output', help: 'write the gradients under PEFT keys (with --method)' }),
    force: described(z.boolean().default(false), { label: 'Replace', group: 'output', help: 'replace an existing --out file' }),
  })
  .superRefine((r, ctx) => {
    if (r.method !== undefined && r.compare !== undefined) ctx.addIssue({ code: 'custom', path: ['compare'], message: 'give method or compare', params: { conflictsWith: 'method' } });
    if (r.method === undefined && r.compare === undefined) ctx.addIssue({ code: 'invalid_type', expected: 'string', input: undefined, path: ['method'], message: 'give --method or --compare' });
    if (r.method !== undefined && r.out === undefined) ctx.addIssue({ code: 'invalid_type', expected: 'string', input: undefined, path: ['out'], message: '--out is required with --method' });
  });
export type GradsRequest = z.output<typeof GradsRequestSchema>;

// What the adapter formats share (PEFT core/export/peft.ts, mlx-lm core/export/mlx.ts, GGUF LoRA core/export/gguf.ts):
// the layers a host adapter covers, the safetensors dtype of an export dtype, reading a config file's JSON, and the
// reader's last check that every lora_A has its lora_B and back. Each format keeps its own names in the messages.
// Pure TS.
import { FormatError } from '../common/errors';
import { checkFinite } from '../common/finite';
import type { Projection } from '../model/weights';
import type { HostAdapter } from '../train/lora';

/** The float dtypes an adapter is written in (PEFT's safetensors, mlx-lm's, GGUF's --outtype). */
export type AdapterDType = 'f32' | 'f16' | 'bf16';

/** The safetensors dtype of an adapter dtype. */
export function safetensorsDType(dtype: AdapterDType): 'F32' | 'F16' | 'BF16' {
  return dtype === 'f32' ? 'F32' : dtype === 'f16' ? 'F16' : 'BF16';
}

/** The layers an adapter has tensors on, ascending (keys are "layer.proj", e.g. "3.q"). */
export function adapterLayerIndices(a: Pick<HostAdapter, 'A'>): number[] {
  return [...new Set([...a.A.keys()].map((k) => Number(k.split('.')[0])))].sort((x, y) => x - y);
}

/** A config file's JSON; a parse failure is a FormatError naming the file. */
export function parseConfigJson(configText: string, file: string): Record<string, unknown> {
  try {
    return JSON.parse(configText) as Record<string, unknown>;
  } catch (e) {
    throw new FormatError(file, `is not valid JSON (${(e as Error).message})`);
  }
}

/**
 * A reader's last check: every "layer.proj" key of A has one in B and back, and there is at least one. `names` gives
 * the format's own words: its names of the two halves and of a projection.
 */
export function checkLoraPairs(
  A: Map<string, Float32Array>,
  B: Map<string, Float32Array>,
  file: string,
  names: { a: string; b: string; proj: (p: Projection) => string },
): void {
  const where = (key: string): string => `layer ${key.split('.')[0]} ${names.proj(key.split('.')[1] as Projection)}`;
  for (const key of A.keys()) if (!B.has(key)) throw new FormatError(file, `${where(key)} has ${names.a} but no ${names.b}`);
  for (const key of B.keys()) if (!A.has(key)) throw new FormatError(file, `${where(key)} has ${names.b} but no ${names.a}`);
  if (!A.size) throw new FormatError(file, 'holds no LoRA tensors');
  // A NaN or ±Infinity in an adapter would make every output NaN: named here, for every format's reader.
  for (const [half, m] of [[names.a, A], [names.b, B]] as const) {
    for (const [key, values] of m) checkFinite(values, file, `${where(key)} ${half}`, [values.length], 'The adapter is damaged or came from a run that diverged: use another copy.');
  }
}


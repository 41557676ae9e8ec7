// Finding NaN and ±Infinity in tensor values: base weights, adapters, optimizer moments and what export writes are
// checked once, in the pass that reads or produces them, so that a damaged value is an error naming the tensor and
// its position, never a silent NaN loss or a `"lora_alpha": null`. Pure TS.
import { FormatError } from './errors';

/** Index of the first NaN or ±Infinity in `a`, or -1 (one pass over the bits: exponent all ones). */
export function firstNonFinite(a: Float32Array): number {
  const u = new Uint32Array(a.buffer, a.byteOffset, a.length);
  for (let i = 0; i < u.length; i++) if ((u[i] & 0x7f800000) === 0x7f800000) return i;
  return -1;
}

/** "NaN", "+Infinity" or "-Infinity". */
export function nonFiniteName(v: number): string {
  return Number.isNaN(v) ? 'NaN' : v > 0 ? '+Infinity' : '-Infinity';
}

/** Where flat index i is in a tensor of `shape` ("[3, 17]"), row-major. */
export function indexText(i: number, shape: readonly number[]): string {
  if (shape.length <= 1) return `[${i}]`;
  const at: number[] = [];
  let r = i;
  for (let d = shape.length - 1; d >= 0; d--) {
    at.unshift(r % shape[d]);
    r = Math.floor(r / shape[d]);
  }
  return `[${at.join(', ')}]`;
}

/**
 * Throw a FormatError naming `file` and tensor `name` when `values` hold a NaN or ±Infinity. `shape` places it;
 * `todo` says what to do (default: the file is damaged).
 */
export function checkFinite(values: Float32Array, file: string, name: string, shape: readonly number[] = [values.length], todo?: string): void {
  const i = firstNonFinite(values);
  if (i < 0) return;
  throw new FormatError(
    file,
    `tensor "${name}" holds ${nonFiniteName(values[i])} at ${indexText(i, shape)}: every value must be a finite number. ` +
      (todo ?? 'The file is damaged or came from a run that diverged: use another copy, or retrain with a lower learning rate.'),
  );
}

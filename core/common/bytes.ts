// Typed arrays as little-endian bytes, for the file formats that store numbers little-endian (safetensors, GGUF,
// ONNX's raw_data). Pure TS.

/** True on little-endian hosts (all real ones); the big-endian path goes through DataView. */
export const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * A typed array's elements as little-endian bytes: a view of the same memory on a little-endian host (no copy: write
 * it out before changing the array), a byte-swapped copy on a big-endian one.
 */
export function littleEndianBytes(a: Float32Array | Uint16Array | Int32Array | BigInt64Array): Uint8Array {
  if (LITTLE_ENDIAN) return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  const out = new Uint8Array(a.byteLength);
  const dv = new DataView(out.buffer);
  for (let i = 0; i < a.length; i++) {
    if (a instanceof Float32Array) dv.setFloat32(i * 4, a[i], true);
    else if (a instanceof Uint16Array) dv.setUint16(i * 2, a[i], true);
    else if (a instanceof Int32Array) dv.setInt32(i * 4, a[i], true);
    else dv.setBigInt64(i * 8, a[i], true);
  }
  return out;
}

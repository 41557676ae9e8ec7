// Uniform parameter blocks for kernels: a sequence of 4-byte words matching a WGSL `struct Params` field by field.
// Shapes and scalars go here; compile-time choices go in the pipeline key (DESIGN.md §9.4).

export class Params {
  private readonly words: number[] = [];
  private readonly kinds: ('u' | 'i' | 'f')[] = [];
  u(v: number): this {
    if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new RangeError(`Params.u: ${v} is not a u32`);
    this.words.push(v);
    this.kinds.push('u');
    return this;
  }
  i(v: number): this {
    if (!Number.isInteger(v) || v < -0x80000000 || v > 0x7fffffff) throw new RangeError(`Params.i: ${v} is not an i32`);
    this.words.push(v);
    this.kinds.push('i');
    return this;
  }
  f(v: number): this {
    this.words.push(v);
    this.kinds.push('f');
    return this;
  }
  get byteLength(): number {
    return this.words.length * 4;
  }
  /** Little-endian bytes, padded to 16 (uniform struct size rounds up to 16). */
  toBytes(): Uint8Array {
    const n = Math.max(16, Math.ceil((this.words.length * 4) / 16) * 16);
    const buf = new ArrayBuffer(n);
    const dv = new DataView(buf);
    this.words.forEach((w, k) => {
      const kind = this.kinds[k];
      if (kind === 'f') dv.setFloat32(k * 4, w, true);
      else if (kind === 'i') dv.setInt32(k * 4, w, true);
      else dv.setUint32(k * 4, w, true);
    });
    return new Uint8Array(buf);
  }
}

// embedding.wgsl: token embedding lookup (HF nn.Embedding) over one row tile of a frozen table, dequantized on the fly:
//   out[n, :] = table[ids[n], :]   for the tokens whose id is in this tile's rows [row0, row0 + rows),
//   out[n, :] = 0                  for ids outside [0, V) (only the dispatch with ZERO_OOR = 1, the first tile's).
// Other tokens are left alone: each output row is written by exactly one of the per-tile dispatches.
// Table formats (core/kernels/weight.ts), by BITS: 32 = f32 words; 8 = int8, 4 bytes per u32; 4 = int4, 8 nibbles per
// u32, lowest bits first; sb word per 64 columns = f16 scale (low) | f16 bias (high), value = scale·q + bias.
// One invocation per (token, data word): 1, 4 or 8 outputs.
// Bindings: 0 out (N, C) rw f32, 1 ids (N) i32, 2 data (rows, C·BITS/32) u32, 3 sb (rows, C/64) u32 (dummy for f32),
// 4 params. Dispatch: workgroup 256; grid core/kernels/grid.ts grid1d(N·C·BITS/32, 256), i = gid.x + gid.y·nwg.x·256.
override BITS: u32 = 32u;

struct Params { count: u32, W: u32, C: u32, row0: u32, rows: u32, V: u32, zeroOOR: u32, SBW: u32 }

@group(0) @binding(0) var<storage, read_write> out: array<f32>;
@group(0) @binding(1) var<storage, read> ids: array<i32>;
@group(0) @binding(2) var<storage, read> data: array<u32>;
@group(0) @binding(3) var<storage, read> sb: array<u32>;
@group(0) @binding(4) var<uniform> p: Params;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * 256u;
  if (i >= p.count) { return; }
  let n = i / p.W;
  let w = i % p.W;
  let pack = 32u / BITS; // values per data word
  let col0 = w * pack;
  let o = n * p.C + col0;
  let id = ids[n];
  let inTile = id >= 0 && u32(id) >= p.row0 && u32(id) - p.row0 < p.rows;
  if (inTile) {
    let r = u32(id) - p.row0;
    let word = data[r * p.W + w];
    if (BITS == 32u) {
      out[o] = bitcast<f32>(word);
    } else {
      let ab = unpack2x16float(sb[r * p.SBW + col0 / 64u]); // (scale, bias)
      let mask = 0xffffffffu >> (32u - BITS);
      for (var j = 0u; j < pack; j++) {
        let q = (word >> (j * BITS)) & mask;
        out[o + j] = ab.x * f32(q) + ab.y;
      }
    }
  } else if (p.zeroOOR != 0u && (id < 0 || u32(id) >= p.V)) {
    for (var j = 0u; j < pack; j++) { out[o + j] = 0.0; }
  }
}

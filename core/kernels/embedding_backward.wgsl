// embedding_backward.wgsl: the gradient of an embedding table (for completeness; LoRA training keeps it frozen):
//   forward: out[n, :] = table[ids[n], :]   so   dtable[v, c] (=|+=) Σ_{n : ids[n] = v} dout[n, c], n ascending.
// Deterministic without atomics: the invocation of (n, c) whose token n is the first with its id sums, in token order,
// the dout rows of every token with that id and writes dtable[id, c]; the others exit. Rows no token uses are left
// as they are (the TS side zeroes dtable first unless accumulating). Ids outside this binding's vocabulary rows
// [row0, row0 + rows) are skipped (out-of-range ids get no gradient).
// Bindings: 0 dtable rows [row0, row0 + rows) (rows, C) rw f32, 1 dout (N, C), 2 ids (N) i32, 3 params.
// Dispatch: workgroup 256; grid core/kernels/grid.ts grid1d(N·C, 256), i = gid.x + gid.y·nwg.x·256.
override ACCUM: bool = false;

struct Params { count: u32, N: u32, C: u32, row0: u32, rows: u32 }

@group(0) @binding(0) var<storage, read_write> dtable: array<f32>;
@group(0) @binding(1) var<storage, read> dout: array<f32>;
@group(0) @binding(2) var<storage, read> ids: array<i32>;
@group(0) @binding(3) var<uniform> p: Params;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * 256u;
  if (i >= p.count) { return; }
  let n = i / p.C;
  let c = i % p.C;
  let id = ids[n];
  if (id < 0 || u32(id) < p.row0 || u32(id) - p.row0 >= p.rows) { return; }
  for (var m = 0u; m < n; m++) {
    if (ids[m] == id) { return; } // an earlier token owns this row
  }
  var s = 0.0;
  for (var m = n; m < p.N; m++) {
    if (ids[m] == id) { s += dout[m * p.C + c]; }
  }
  let idx = (u32(id) - p.row0) * p.C + c;
  if (ACCUM) { s = dtable[idx] + s; }
  dtable[idx] = s;
}

// swiglu_f16.wgsl: swiglu.wgsl over f16 storage (`--precision f16`): gate and up are read as f16 (two a u32 word,
// core/kernels/f16.wgsl's packing) and m = silu(g)·u is computed and written in f32 exactly as swiglu.wgsl does,
// for the down projection, which reads f32. (m is not rounded: MeSP makes it again in its backward with this same
// kernel on the same halves, which gives the same bits; swiglu.wgsl on those values may differ in the last bit.)
// One invocation per word of gate (elements 2i, 2i+1).
// Bindings: 0 out (N f32) rw, 1 gate (ceil(N/2) u32), 2 up (ceil(N/2) u32), 3 params.
// Dispatch: workgroup 256; grid core/kernels/grid.ts grid1d(ceil(N/2), 256), i = gid.x + gid.y·nwg.x·256.
struct Params { N: u32 }

@group(0) @binding(0) var<storage, read_write> out: array<f32>;
@group(0) @binding(1) var<storage, read> gate: array<u32>;
@group(0) @binding(2) var<storage, read> up: array<u32>;
@group(0) @binding(3) var<uniform> p: Params;

fn silu_mul(g: f32, u: f32) -> f32 {
  return (g / (1.0 + exp(-g))) * u;
}

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * 256u;
  let e = 2u * i;
  if (e >= p.N) { return; }
  let g = unpack2x16float(gate[i]);
  let u = unpack2x16float(up[i]);
  out[e] = silu_mul(g.x, u.x);
  if (e + 1u < p.N) { out[e + 1u] = silu_mul(g.y, u.y); }
}

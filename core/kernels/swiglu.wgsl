// swiglu.wgsl: the Qwen2 MLP activation (HF Qwen2MLP: act_fn(gate_proj(x)) * up_proj(x), act_fn = SiLU), forward:
//   out[i] = silu(g)·u,  silu(g) = g / (1 + exp(−g))   (= g·sigmoid(g), written as ATen's CPU silu kernel does)
// One invocation per element; exp(−g) overflowing to +inf gives silu = −0, never NaN.
// Bindings: 0 out (N) rw, 1 gate (N), 2 up (N), 3 params.
// Dispatch: workgroup 256; grid core/kernels/grid.ts grid1d(N, 256), i = gid.x + gid.y·nwg.x·256.
struct Params { N: u32 }

@group(0) @binding(0) var<storage, read_write> out: array<f32>;
@group(0) @binding(1) var<storage, read> gate: array<f32>;
@group(0) @binding(2) var<storage, read> up: array<f32>;
@group(0) @binding(3) var<uniform> p: Params;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * 256u;
  if (i >= p.N) { return; }
  let g = gate[i];
  out[i] = (g / (1.0 + exp(-g))) * up[i];
}

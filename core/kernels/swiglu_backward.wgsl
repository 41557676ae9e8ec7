// swiglu_backward.wgsl: gradients of m = silu(g)·u (Qwen2 MLP activation) given dm = ∂L/∂m:
//   forward: m = silu(g)·u, silu(g) = g·σ(g), σ(g) = 1 / (1 + exp(−g))
//   dup   = dm·silu(g)
//   dgate = dm·u·σ(g)·(1 + g·(1 − σ(g)))       (ATen silu_backward: grad·σ·(1 + x·(1 − σ)))
// One invocation per element. IN_PLACE: the gate buffer holds g on entry and dgate on exit, the up buffer u then
// dup; they are bound once each (read_write, bindings 0 and 1) and bindings 3, 4 are dummies. The arithmetic is
// the same in both variants, so in place and out of place give the same bits.
// Bindings: 0 dgate (N) rw, 1 dup (N) rw, 2 dout (N), 3 gate (N), 4 up (N), 5 params.
// Dispatch: workgroup 256; grid core/kernels/grid.ts grid1d(N, 256), i = gid.x + gid.y·nwg.x·256.
override IN_PLACE: bool = false;

struct Params { N: u32 }

@group(0) @binding(0) var<storage, read_write> dgate: array<f32>;
@group(0) @binding(1) var<storage, read_write> dup: array<f32>;
@group(0) @binding(2) var<storage, read> dout: array<f32>;
@group(0) @binding(3) var<storage, read> gate: array<f32>;
@group(0) @binding(4) var<storage, read> up: array<f32>;
@group(0) @binding(5) var<uniform> p: Params;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * 256u;
  if (i >= p.N) { return; }
  var g: f32;
  var u: f32;
  if (IN_PLACE) {
    g = dgate[i];
    u = dup[i];
  } else {
    g = gate[i];
    u = up[i];
  }
  let d = dout[i];
  let s = 1.0 / (1.0 + exp(-g));
  dgate[i] = d * u * (s * (1.0 + g * (1.0 - s)));
  dup[i] = d * (g / (1.0 + exp(-g)));
}

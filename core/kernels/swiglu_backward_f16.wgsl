// swiglu_backward_f16.wgsl: swiglu_backward.wgsl over f16 storage (`--precision f16`): gate and up are read as f16
// (two a u32 word, core/kernels/f16.wgsl's packing), dm = ∂L/∂m in f32; dgate and dup are computed in f32 exactly as
// swiglu_backward.wgsl does and stored rounded to a nearest f16:
//   dup   = dm·silu(g)
//   dgate = dm·u·σ(g)·(1 + g·(1 − σ(g)))
// IN_PLACE: the gate buffer holds g on entry and dgate on exit, up holds u then dup (bindings 0, 1; 3, 4 are dummies).
// The arithmetic is the same in both variants, so in place and out of place give the same bits.
// One invocation per word (elements 2i, 2i+1; an odd N's last high halves are written 0).
// Bindings: 0 dgate (ceil(N/2) u32) rw, 1 dup (ceil(N/2) u32) rw, 2 dout (N f32), 3 gate (ceil(N/2) u32),
// 4 up (ceil(N/2) u32), 5 params.
// Dispatch: workgroup 256; grid core/kernels/grid.ts grid1d(ceil(N/2), 256), i = gid.x + gid.y·nwg.x·256.
override IN_PLACE: bool = false;

struct Params { N: u32 }

@group(0) @binding(0) var<storage, read_write> dgate: array<u32>;
@group(0) @binding(1) var<storage, read_write> dup: array<u32>;
@group(0) @binding(2) var<storage, read> dout: array<f32>;
@group(0) @binding(3) var<storage, read> gate: array<u32>;
@group(0) @binding(4) var<storage, read> up: array<u32>;
@group(0) @binding(5) var<uniform> p: Params;

fn d_gate(d: f32, g: f32, u: f32) -> f32 {
  let s = 1.0 / (1.0 + exp(-g));
  return d * u * (s * (1.0 + g * (1.0 - s)));
}

fn d_up(d: f32, g: f32) -> f32 {
  return d * (g / (1.0 + exp(-g)));
}

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * 256u;
  let e = 2u * i;
  if (e >= p.N) { return; }
  var gw: u32;
  var uw: u32;
  if (IN_PLACE) {
    gw = dgate[i];
    uw = dup[i];
  } else {
    gw = gate[i];
    uw = up[i];
  }
  let g = unpack2x16float(gw);
  let u = unpack2x16float(uw);
  let d0 = dout[e];
  var dg = vec2<f32>(d_gate(d0, g.x, u.x), 0.0);
  var du = vec2<f32>(d_up(d0, g.x), 0.0);
  if (e + 1u < p.N) {
    let d1 = dout[e + 1u];
    dg.y = d_gate(d1, g.y, u.y);
    du.y = d_up(d1, g.y);
  }
  dgate[i] = pack2x16float(dg);
  dup[i] = pack2x16float(du);
}

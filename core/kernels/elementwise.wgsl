// elementwise.wgsl: element-wise f32 ops on flat tensors of N values (the residual adds of the Qwen2 block, gradient
// accumulation and scaling). OP (compile-time):
//   0 add:   y[i] = A[i] + B[i]
//   1 axpy:  y[i] = y[i] + alpha·A[i]
//   2 scale: y[i] = alpha·y[i]
// A is binding 1, or y's own buffer when A_IS_Y; B is binding 2, or y's buffer when B_IS_Y (an operand that is the
// output is bound once, read_write; the unused bindings are then dummies). One invocation per element.
// Bindings: 0 y (N) rw, 1 a (N), 2 b (N), 3 params.
// Dispatch: workgroup 256; grid core/kernels/grid.ts grid1d(N, 256), i = gid.x + gid.y·nwg.x·256.
override OP: u32 = 0u;
override A_IS_Y: bool = false;
override B_IS_Y: bool = false;

struct Params { N: u32, alpha: f32 }

@group(0) @binding(0) var<storage, read_write> y: array<f32>;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<uniform> p: Params;

fn loadA(i: u32) -> f32 {
  if (A_IS_Y) { return y[i]; }
  return a[i];
}

fn loadB(i: u32) -> f32 {
  if (B_IS_Y) { return y[i]; }
  return b[i];
}

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * 256u;
  if (i >= p.N) { return; }
  if (OP == 0u) {
    y[i] = loadA(i) + loadB(i);
  } else if (OP == 1u) {
    y[i] = y[i] + p.alpha * loadA(i);
  } else {
    y[i] = p.alpha * y[i];
  }
}

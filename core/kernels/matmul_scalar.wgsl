// matmul_scalar.wgsl (after matmul_common.wgsl): the same contract as matmul.wgsl (C = alpha·op(A)·op(B) (+C)
// (+bias)), with scalar loads, for shapes whose contiguous dimension is not a multiple of 4 (e.g. LoRA rank 1, 2 or
// 3). 4×4 outputs per invocation.
// Bindings: 0 C (rw), 1 A, 2 B, 3 bias (dummy when !BIAS), 4 params. Dispatch: workgroup 8×8; grid (ceil(N/32), ceil(M/32)).
override TRANS_A: bool = false;
override TRANS_B: bool = false;
override ACCUM: bool = false;
override BIAS: bool = false;

@group(0) @binding(0) var<storage, read_write> C: array<f32>;
@group(0) @binding(1) var<storage, read> A: array<f32>;
@group(0) @binding(2) var<storage, read> B: array<f32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<uniform> p: Params;

fn opA(m: u32, k: u32) -> f32 {
  if (TRANS_A) { return A[k * p.M + m]; }
  return A[m * p.K + k];
}

fn opB(k: u32, n: u32) -> f32 {
  if (TRANS_B) { return B[n * p.K + k]; }
  return B[k * p.N + n];
}

@compute @workgroup_size(8, 8)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let n0 = gid.x * 4u;
  let m0 = gid.y * 4u;
  if (m0 >= p.M || n0 >= p.N) { return; }
  var acc: array<vec4<f32>, 4>;
  for (var k = 0u; k < p.K; k++) {
    var b: vec4<f32>;
    for (var j = 0u; j < 4u; j++) { b[j] = opB(k, min(n0 + j, p.N - 1u)); }
    for (var i = 0u; i < 4u; i++) { acc[i] += opA(min(m0 + i, p.M - 1u), k) * b; }
  }
  storeBlock(m0, n0, mat4x4<f32>(acc[0], acc[1], acc[2], acc[3]));
}

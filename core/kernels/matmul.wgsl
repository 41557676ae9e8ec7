// matmul.wgsl (after matmul_common.wgsl): C[M,N] = alpha · op(A)[M,K] · op(B)[K,N]  (+ C if ACCUM)  (+ bias[N] if
// BIAS), f32.
// op(A) = A stored [M,K], or Aᵀ with A stored [K,M] (TRANS_A). op(B) = B stored [K,N], or Bᵀ with B stored [N,K]
// (TRANS_B). A linear layer y = x·Wᵀ is TRANS_B; dx = g·W is plain; dA = uᵀ·x is TRANS_A.
// Register-blocked: each invocation computes a 4×4 block of C from vec4 loads, with no workgroup memory and no
// barrier (barriers are very costly on CPU adapters). The contiguous dimension of each operand must be a multiple
// of 4 (the TS side falls back to matmul_scalar.wgsl otherwise); the other dimensions may have any size.
// Bindings: 0 C (rw, f32), 1 A (vec4), 2 B (vec4), 3 bias (f32, a dummy when !BIAS), 4 params.
// Dispatch: workgroup 8×8; grid (ceil(N/32), ceil(M/32)).
override TRANS_A: bool = false;
override TRANS_B: bool = false;
override ACCUM: bool = false;
override BIAS: bool = false;

@group(0) @binding(0) var<storage, read_write> C: array<f32>;
@group(0) @binding(1) var<storage, read> A: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> B: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<uniform> p: Params;

// Row i of the 4×4 block of op(A): op(A)[m0+i, k0..k0+3].
fn loadA(m0: u32, k0: u32) -> mat4x4<f32> {
  var r: mat4x4<f32>;
  if (TRANS_A) {
    // A is [K, M]: vec4 along m. Load 4 k-rows, then transpose. Rows past K are zero (the K tail).
    let mb = min(m0, p.M - 4u);
    for (var j = 0u; j < 4u; j++) {
      let k = min(k0 + j, p.K - 1u);
      let v = A[(k * p.M + mb) / 4u];
      r[j] = select(vec4<f32>(0.0), v, k0 + j < p.K);
    }
    r = transpose(r);
  } else {
    for (var i = 0u; i < 4u; i++) {
      let m = min(m0 + i, p.M - 1u);
      r[i] = A[(m * p.K + k0) / 4u];
    }
  }
  return r;
}

// Row j of the 4×4 block of op(B): op(B)[k0+j, n0..n0+3].
fn loadB(k0: u32, n0: u32) -> mat4x4<f32> {
  var r: mat4x4<f32>;
  if (TRANS_B) {
    // B is [N, K]: vec4 along k.
    for (var i = 0u; i < 4u; i++) {
      let n = min(n0 + i, p.N - 1u);
      r[i] = B[(n * p.K + k0) / 4u];
    }
    r = transpose(r);
  } else {
    let nb = min(n0, p.N - 4u);
    for (var j = 0u; j < 4u; j++) {
      let k = min(k0 + j, p.K - 1u);
      r[j] = B[(k * p.N + nb) / 4u];
    }
  }
  return r;
}

@compute @workgroup_size(8, 8)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let n0 = gid.x * 4u;
  let m0 = gid.y * 4u;
  if (m0 >= p.M || n0 >= p.N) { return; }
  var acc = mat4x4<f32>(vec4<f32>(0.0), vec4<f32>(0.0), vec4<f32>(0.0), vec4<f32>(0.0));
  for (var k0 = 0u; k0 < p.K; k0 += 4u) {
    let a = loadA(m0, k0); // a[i] = op(A)[m0+i, k0..k0+3]
    let b = loadB(k0, n0); // b[j] = op(B)[k0+j, n0..n0+3]
    // acc[i] += Σ_j a[i][j] · b[j]  (fixed order: deterministic)
    acc[0] += a[0].x * b[0] + a[0].y * b[1] + a[0].z * b[2] + a[0].w * b[3];
    acc[1] += a[1].x * b[0] + a[1].y * b[1] + a[1].z * b[2] + a[1].w * b[3];
    acc[2] += a[2].x * b[0] + a[2].y * b[1] + a[2].z * b[2] + a[2].w * b[3];
    acc[3] += a[3].x * b[0] + a[3].y * b[1] + a[3].z * b[2] + a[3].w * b[3];
  }
  storeBlock(m0, n0, acc);
}

// rmsnorm_backward.wgsl: the input gradient of RMSNorm (HF Qwen2RMSNorm; the weight is frozen, so no dw).
//   forward: r = (Σ_j x_j²/C + eps)^(-1/2),  y_k = w_k·(x_k·r)
//   ∂r/∂x_i = −r³·x_i/C, so  dx_i = Σ_k dy_k·∂y_k/∂x_i = r·w_i·dy_i − x_i·(r³/C)·Σ_k dy_k·w_k·x_k
// r is the rstd the forward saved (bit-identical to the one it used). One invocation per row; the dot product runs
// over k in order (deterministic). dx = or (ACCUM) += the result. IN_PLACE: dx is dy's buffer (dx overwrites dy;
// safe because each row's dot is complete before its first write), bound once, read_write.
// Bindings: 0 dx (N, C) rw, 1 dy (N, C) (a dummy when IN_PLACE), 2 x (N, C), 3 w (C), 4 rstd (N), 5 params.
// Dispatch: workgroup 64; grid core/kernels/grid.ts grid1d(N, 64), row n = gid.x + gid.y·nwg.x·64.
override ACCUM: bool = false;
override IN_PLACE: bool = false;

struct Params { N: u32, C: u32 }

@group(0) @binding(0) var<storage, read_write> dx: array<f32>;
@group(0) @binding(1) var<storage, read> dy: array<f32>;
@group(0) @binding(2) var<storage, read> x: array<f32>;
@group(0) @binding(3) var<storage, read> w: array<f32>;
@group(0) @binding(4) var<storage, read> rstd: array<f32>;
@group(0) @binding(5) var<uniform> p: Params;

fn loadDy(i: u32) -> f32 {
  if (IN_PLACE) { return dx[i]; }
  return dy[i];
}

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let n = gid.x + gid.y * nwg.x * 64u;
  if (n >= p.N) { return; }
  let base = n * p.C;
  let r = rstd[n];
  var dot = 0.0; // Σ_k dy_k·w_k·x_k
  for (var c = 0u; c < p.C; c++) {
    dot += loadDy(base + c) * w[c] * x[base + c];
  }
  let k = dot * (r * r * r) / f32(p.C); // (r³/C)·Σ_k dy_k·w_k·x_k
  for (var c = 0u; c < p.C; c++) {
    let i = base + c;
    var v = r * w[c] * loadDy(i) - x[i] * k;
    if (ACCUM) { v += dx[i]; }
    dx[i] = v;
  }
}

// rmsnorm.wgsl: RMSNorm forward as HF Qwen2RMSNorm, in f32:
//   rstd[n] = 1 / sqrt(mean_c x[n,c]² + eps)        (inverseSqrt, the `torch.rsqrt` of HF)
//   out[n,c] = w[c] · (x[n,c] · rstd[n])             (HF order: normalize, then scale by the weight)
// One invocation per row; the sum of squares runs over c in order (deterministic: a recomputed forward gives the
// same bits, and the backward reads back exactly the rstd used here). No workgroup memory, no barrier.
// Bindings: 0 out (N, C) rw, 1 rstd (N) rw (a dummy when !WRITE_RSTD), 2 x (N, C), 3 w (C), 4 params.
// Dispatch: workgroup 64; grid core/kernels/grid.ts grid1d(N, 64), row n = gid.x + gid.y·nwg.x·64.
override WRITE_RSTD: bool = true;

struct Params { N: u32, C: u32, eps: f32 }

@group(0) @binding(0) var<storage, read_write> out: array<f32>;
@group(0) @binding(1) var<storage, read_write> rstd: array<f32>;
@group(0) @binding(2) var<storage, read> x: array<f32>;
@group(0) @binding(3) var<storage, read> w: array<f32>;
@group(0) @binding(4) var<uniform> p: Params;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let n = gid.x + gid.y * nwg.x * 64u;
  if (n >= p.N) { return; }
  let base = n * p.C;
  var ss = 0.0;
  for (var c = 0u; c < p.C; c++) {
    let v = x[base + c];
    ss += v * v;
  }
  let r = inverseSqrt(ss / f32(p.C) + p.eps);
  if (WRITE_RSTD) { rstd[n] = r; }
  for (var c = 0u; c < p.C; c++) {
    out[base + c] = w[c] * (x[base + c] * r);
  }
}

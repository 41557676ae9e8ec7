// mezo.wgsl: θ[i] ← θ[i] + c·z[i], z[i] ~ N(0, 1) regenerated from (seed, stream, i) by a counter-based generator,
// never stored (MeZO, Malladi et al. 2023; DESIGN.md §5). The same (seed, stream) gives the same z on every call, so
// MeZO perturbs by +εz, −2εz, +εz and updates by −lr·ĝ·z without keeping z.
//   h(x) = PCG-style integer hash; u1 = (h(2i) >> 8 + 1)/2^24 ∈ (0, 1], u2 = (h(2i+1) >> 8)/2^24
//   z = sqrt(−2 ln u1)·cos(2π u2)   (Box–Muller)
// Bindings: 0 θ (rw), 1 params. Dispatch: workgroup 64; grid1d over n.
struct Params { n: u32, key: u32, c: f32 }

@group(0) @binding(0) var<storage, read_write> theta: array<f32>;
@group(0) @binding(1) var<uniform> p: Params;

fn pcg(v: u32) -> u32 {
  let s = v * 747796405u + 2891336453u;
  let w = ((s >> ((s >> 28u) + 4u)) ^ s) * 277803737u;
  return (w >> 22u) ^ w;
}

fn gauss(key: u32, i: u32) -> f32 {
  let h1 = pcg(key ^ pcg(2u * i));
  let h2 = pcg(key ^ pcg(2u * i + 1u));
  let u1 = f32((h1 >> 8u) + 1u) / 16777216.0;
  let u2 = f32(h2 >> 8u) / 16777216.0;
  return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * 64u;
  if (i >= p.n) { return; }
  theta[i] = theta[i] + p.c * gauss(p.key, i);
}

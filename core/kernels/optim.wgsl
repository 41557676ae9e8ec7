// optim.wgsl: in-place AdamW update of one parameter tensor from its gradient (PyTorch semantics; SGD is sgd.wgsl).
//   AdamW:  θ ← θ·(1 − lr·wd);  m ← β1·m + (1−β1)·g;  v ← β2·v + (1−β2)·g²;
//           θ ← θ − (lr/bc1)·m / (sqrt(v)/sqrt(bc2) + eps),  bc1 = 1−β1^t, bc2 = 1−β2^t   (torch.optim.AdamW)
// Bindings: 0 θ (rw), 1 g, 2 m (rw), 3 v (rw), 4 params.
// Dispatch: workgroup 64; grid (min(ceil(n/64), 65535), ceil(ceil(n/64)/65535)); one element per invocation.
struct Params { n: u32, lr: f32, beta1: f32, beta2: f32, eps: f32, wd: f32, bc1: f32, bc2: f32 }

@group(0) @binding(0) var<storage, read_write> theta: array<f32>;
@group(0) @binding(1) var<storage, read> g: array<f32>;
@group(0) @binding(2) var<storage, read_write> m: array<f32>;
@group(0) @binding(3) var<storage, read_write> v: array<f32>;
@group(0) @binding(4) var<uniform> p: Params;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * 64u;
  if (i >= p.n) { return; }
  let gi = g[i];
  var t = theta[i] * (1.0 - p.lr * p.wd);
  let mi = p.beta1 * m[i] + (1.0 - p.beta1) * gi;
  let vi = p.beta2 * v[i] + (1.0 - p.beta2) * gi * gi;
  m[i] = mi;
  v[i] = vi;
  let denom = sqrt(vi) / sqrt(p.bc2) + p.eps;
  t = t - (p.lr / p.bc1) * (mi / denom);
  theta[i] = t;
}

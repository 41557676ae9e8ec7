// sgd.wgsl: in-place SGD update θ ← θ − lr·g (torch.optim.SGD without momentum: the MeSP paper's setting).
// Bindings: 0 θ (rw), 1 g, 2 params. Dispatch: workgroup 64; grid1d over n.
struct Params { n: u32, lr: f32 }

@group(0) @binding(0) var<storage, read_write> theta: array<f32>;
@group(0) @binding(1) var<storage, read> g: array<f32>;
@group(0) @binding(2) var<uniform> p: Params;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * 64u;
  if (i >= p.n) { return; }
  theta[i] = theta[i] - p.lr * g[i];
}

// head_grad.wgsl: the cross-entropy backward on one vocabulary tile of logits, in place:
//   forward  nll[t] = lse[t] − L[t, target[t]],  lse[t] = log Σ_c exp(L[t, c]);  loss = scale · Σ_t nll[t]
//   so       dL[t, c] = scale · (exp(L[t, c] − lse[t]) − [col0 + c == target[t]]),   0 for a masked row.
// Element-wise, so a row's values are the same bits in any chunk of tokens.
// Bindings: 0 L (rw f32: logits in, dlogits out; row stride ld, first row lrow0), 1 lse (f32, (T)),
//           2 targets (i32, (T)), 3 params. Row r is token trow0 + r; column c is vocabulary entry col0 + c.
// Dispatch: workgroup 64, 4 columns per invocation; grid (ceil(N/256), R).
struct Params {
  R: u32, N: u32, ld: u32, lrow0: u32,
  trow0: u32, col0: u32, V: u32, scale: f32,
}

@group(0) @binding(0) var<storage, read_write> L: array<f32>;
@group(0) @binding(1) var<storage, read> lse: array<f32>;
@group(0) @binding(2) var<storage, read> targets: array<i32>;
@group(0) @binding(3) var<uniform> p: Params;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let c0 = gid.x * 4u;
  let r = gid.y;
  if (c0 >= p.N || r >= p.R) { return; }
  let t = p.trow0 + r;
  let tg = targets[t];
  let masked = tg < 0 || u32(tg) >= p.V;
  let l = lse[t];
  let base = (p.lrow0 + r) * p.ld;
  for (var j = 0u; j < 4u; j++) {
    let c = c0 + j;
    if (c >= p.N) { break; }
    let onehot = select(0.0, 1.0, !masked && p.col0 + c == u32(tg));
    L[base + c] = select(p.scale * (exp(L[base + c] - l) - onehot), 0.0, masked);
  }
}

// head_merge.wgsl: fold one vocabulary tile's segment statistics (head_stats.wgsl) into each row's running softmax
// state, pick the target logit when the target falls in this tile, and, after the last tile, write
//   lse[t] = mx + log(se),   nll[t] = lse[t] − logit[t, target[t]]   (0 when target[t] is masked: not in [0, V)).
// Running state per row r (token t = trow0 + r): (mx, se, target logit). Merging (m1, s1) with a segment (m2, s2):
//   M = max(m1, m2),  S = s1·exp(m1 − M) + s2·exp(m2 − M), segments in ascending order, tiles in ascending order:
// a fixed order, so the result is the same bits whatever the chunk of tokens.
// Bindings: 0 state (rw vec4 f32, (R): mx, se, target logit, unused), 1 part (vec2 f32, (R, nseg)), 2 L (f32 logits,
//           row stride ld, first row lrow0), 3 targets (i32, (T)), 4 nll (rw f32, (T)), 5 lse (rw f32, (T)), 6 params.
// Dispatch: workgroup 64; grid (ceil(R/64)).
struct Params {
  R: u32, N: u32, ld: u32, nseg: u32,
  lrow0: u32, trow0: u32, col0: u32, V: u32,
  first: u32, last: u32,
}

@group(0) @binding(0) var<storage, read_write> state: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read> part: array<vec2<f32>>;
@group(0) @binding(2) var<storage, read> L: array<f32>;
@group(0) @binding(3) var<storage, read> targets: array<i32>;
@group(0) @binding(4) var<storage, read_write> nll: array<f32>;
@group(0) @binding(5) var<storage, read_write> lse: array<f32>;
@group(0) @binding(6) var<uniform> p: Params;

const LOWEST: f32 = -3.40282346e38; // exp(LOWEST − finite) = 0

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let r = gid.x;
  if (r >= p.R) { return; }
  let t = p.trow0 + r;
  var st = vec4<f32>(LOWEST, 0.0, 0.0, 0.0);
  if (p.first == 0u) { st = state[r]; }
  var mx = st.x;
  var se = st.y;
  for (var s = 0u; s < p.nseg; s++) {
    let q = part[r * p.nseg + s];
    let m = max(mx, q.x);
    se = se * exp(mx - m) + q.y * exp(q.x - m);
    mx = m;
  }
  let tg = targets[t];
  let masked = tg < 0 || u32(tg) >= p.V;
  var tl = st.z;
  if (!masked && u32(tg) >= p.col0 && u32(tg) < p.col0 + p.N) {
    tl = L[(p.lrow0 + r) * p.ld + u32(tg) - p.col0];
  }
  state[r] = vec4<f32>(mx, se, tl, 0.0);
  if (p.last != 0u) {
    let l = mx + log(se);
    lse[t] = l;
    nll[t] = select(l - tl, 0.0, masked);
  }
}

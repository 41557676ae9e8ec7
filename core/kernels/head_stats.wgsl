// head_stats.wgsl: softmax statistics of one vocabulary tile of logits, per row and segment of SEG columns
// (online softmax / log-sum-exp, as in HF's cross_entropy = logsumexp − logit[target]):
//   part[r·nseg + s] = (mx, se),  mx = max_{c in seg s} L[lrow0 + r, c],  se = Σ_{c in seg s, ascending} exp(L − mx)
// for r < R rows, s < nseg = ceil(N / SEG) segments of the tile's N columns; L has row stride ld. The segments are
// fixed by N alone (never by the number of rows), so a row's statistics are the same bits in any chunk of tokens.
// head_merge.wgsl folds the segments in order. No atomics, fixed order: deterministic.
// Bindings: 0 part (rw vec2 f32, (R, nseg)), 1 L (f32 logits), 2 params.
// Dispatch: workgroup 64; grid (ceil(nseg/64), R).
const SEG: u32 = 256u; // = HEAD_SEG in head.ts

struct Params { R: u32, N: u32, ld: u32, nseg: u32, lrow0: u32 }

@group(0) @binding(0) var<storage, read_write> part: array<vec2<f32>>;
@group(0) @binding(1) var<storage, read> L: array<f32>;
@group(0) @binding(2) var<uniform> p: Params;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let s = gid.x;
  let r = gid.y;
  if (s >= p.nseg || r >= p.R) { return; }
  let c0 = s * SEG;
  let c1 = min(c0 + SEG, p.N);
  let base = (p.lrow0 + r) * p.ld;
  var mx = L[base + c0];
  for (var c = c0 + 1u; c < c1; c++) { mx = max(mx, L[base + c]); }
  var se = 0.0;
  for (var c = c0; c < c1; c++) { se += exp(L[base + c] - mx); }
  part[r * p.nseg + s] = vec2<f32>(mx, se);
}

// attention_decode.wgsl: the grouped-query attention of ONE new token over a KV cache (HF Qwen2Attention with
// past_key_values, eager path, after RoPE). For query head h (kv head h / G) and the cached keys and values s < len
// (the new token's own row included: the caller writes it into the cache before this dispatch):
//   score[s] = (Σ_i q[h, i]·k[s, i] over vec4 chunks i, in order)·scale     (pass 1; m = max_s score[s])
//   e[s] = exp(score[s] − m);   l = Σ_s e[s]                                 (pass 2)
//   out[h] = (Σ_s e[s]·v[s]) / l                                            (pass 3)
// One workgroup of 64 lanes per query head. Pass 1: lane i scores keys s ≡ i (mod 64) into row h of the scratch and
// keeps its max; a tree reduction gives m. Pass 2: lane i turns its scores into e and sums them; a tree reduction gives
// l. Pass 3: lane i = (group g, vec4 column d) with NG = 64 / HS4 groups; group g sums e[s]·v[s, d] over
// s ≡ g (mod NG) in increasing s, then lanes d < HS4 add the groups in order g = 0, 1, ... and divide by l.
// Fixed order everywhere: deterministic. Workgroup memory: 64 f32 + 64 vec4 (1.25 KiB).
// Bindings: 0 out (rw, vec4, (NH*HS)), 1 scores (rw, f32, (NH, ld) scratch), 2 q (vec4, (NH*HS)),
//           3 k (vec4, (≥ len, NKV*HS)), 4 v (vec4, (≥ len, NKV*HS)), 5 params.
// Dispatch: workgroup 64; grid (NH).

struct Params {
  len: u32,   // cached positions attended (the new token's included)
  NKV: u32,   // key/value heads
  HS4: u32,   // head size / 4 (at most 64 / 2: two groups at least)
  G: u32,     // NH / NKV: query heads per kv head
  scale: f32, // 1 / sqrt(HS)
  ld: u32,    // row stride of the scratch (≥ len)
}

@group(0) @binding(0) var<storage, read_write> outp: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read_write> scores: array<f32>;
@group(0) @binding(2) var<storage, read> q: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> k: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read> v: array<vec4<f32>>;
@group(0) @binding(5) var<uniform> p: Params;

const WG: u32 = 64u;
var<workgroup> red: array<f32, 64>;
var<workgroup> part: array<vec4<f32>, 64>;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let h = wid.x;
  let i = lid.x;
  let kvRow = p.NKV * p.HS4; // vec4 per cached position
  let kvOff = (h / p.G) * p.HS4;
  let qBase = h * p.HS4;
  let sBase = h * p.ld;

  // Pass 1: scores of this lane's keys, and their max.
  var m = -3.0e38;
  for (var s = i; s < p.len; s += WG) {
    var a = 0.0;
    let kb = s * kvRow + kvOff;
    for (var d = 0u; d < p.HS4; d++) { a += dot(q[qBase + d], k[kb + d]); }
    let sc = a * p.scale;
    scores[sBase + s] = sc;
    m = max(m, sc);
  }
  red[i] = m;
  workgroupBarrier();
  for (var w = WG / 2u; w > 0u; w >>= 1u) {
    if (i < w) { red[i] = max(red[i], red[i + w]); }
    workgroupBarrier();
  }
  let M = red[0];
  workgroupBarrier(); // every lane has read the max before red is reused

  // Pass 2: e = exp(score − m) in place, and the sum.
  var l = 0.0;
  for (var s = i; s < p.len; s += WG) {
    let e = exp(scores[sBase + s] - M);
    scores[sBase + s] = e;
    l += e;
  }
  red[i] = l;
  storageBarrier(); // the e written by one lane are read by others in pass 3
  workgroupBarrier();
  for (var w = WG / 2u; w > 0u; w >>= 1u) {
    if (i < w) { red[i] = red[i] + red[i + w]; }
    workgroupBarrier();
  }
  let L = red[0];

  // Pass 3: Σ_s e[s]·v[s] by groups of keys, then the groups in order.
  let NG = WG / p.HS4;
  let g = i / p.HS4;
  let d = i % p.HS4;
  var o = vec4<f32>(0.0);
  if (g < NG) {
    for (var s = g; s < p.len; s += NG) { o += scores[sBase + s] * v[s * kvRow + kvOff + d]; }
  }
  part[i] = o;
  workgroupBarrier();
  if (i < p.HS4) {
    var t = vec4<f32>(0.0);
    for (var gg = 0u; gg < NG; gg++) { t += part[gg * p.HS4 + i]; }
    outp[qBase + i] = t / L;
  }
}

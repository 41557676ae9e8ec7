// attention_fwd.wgsl (after attention_common.wgsl): causal GQA attention forward, HF Qwen2Attention semantics.
// For query token t of row b and query head h (kv head h / G):
//   score[t,s] = q[t]·k[s]·scale, s ≤ t;   lse[t] = log Σ_{s≤t} exp(score[t,s])   (online max/sum, pass 1)
//   P[t,s] = exp(score[t,s] − lse[t]);     out[t] = Σ_{s≤t} P[t,s]·v[s]          (pass 2, keys in order)
// One invocation per query row (q row and out accumulator in private arrays), keys 4 per step (one load of the
// private rows serves 4 keys); the key loop bound is uniform over the workgroup so k/v loads are uniform (broadcast on
// CPU adapters); keys past a lane's t are masked. No workgroup memory.
// Bindings: 0 out (rw, vec4, (B*T, NH*HS)), 1 lse (rw, f32, (B*T, NH)), 2 probs (rw, f32, (B, NH, T, T); a dummy
// unless PROBS), 3 q (vec4, (B*T, NH*HS)), 4 k (vec4, (B*T, NKV*HS)), 5 v (vec4, (B*T, NKV*HS)), 6 params.
// Dispatch: workgroup 32; grid (ceil(T/32), NH, B).
override PROBS: bool = false;

@group(0) @binding(0) var<storage, read_write> outp: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read_write> lse: array<f32>;
@group(0) @binding(2) var<storage, read_write> probs: array<f32>;
@group(0) @binding(3) var<storage, read> q: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read> k: array<vec4<f32>>;
@group(0) @binding(5) var<storage, read> v: array<vec4<f32>>;
@group(0) @binding(6) var<uniform> p: Params;

const WG: u32 = 32u;

@compute @workgroup_size(32)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let h = wid.y;
  let b = wid.z;
  let t0 = wid.x * WG;
  let t = t0 + lid.x;
  let tq = min(t, p.T - 1u); // lanes past T compute row T-1 and write nothing
  let tEnd = min(t0 + WG, p.T); // uniform key bound (exclusive)
  let kvh = h / p.G;
  let qRow = p.NH * p.HS4; // vec4 per token of q/out
  let kvRow = p.NKV * p.HS4; // vec4 per token of k/v
  let qBase = (b * p.T + tq) * qRow + h * p.HS4;
  let kvBase = b * p.T * kvRow + kvh * p.HS4;

  var qr: array<vec4<f32>, MAX_HS4>; // (HS) this lane's query
  for (var i = 0u; i < p.HS4; i++) { qr[i] = q[qBase + i]; }

  // Pass 1: running max m and Σ exp(score − m), starting from key 0 (every row has it), then keys 1.. in blocks
  // of 4 (one q load serves 4 keys), each key's update applied in increasing key order.
  var a0 = 0.0;
  for (var i = 0u; i < p.HS4; i++) { a0 = qkStep(a0, qr[i], k[kvBase + i]); }
  var m = scoreOf(a0);
  var l = 1.0;
  let last = p.T - 1u;
  for (var s = 1u; s < tEnd; s += 4u) {
    let kb0 = kvBase + s * kvRow;
    let kb1 = kvBase + min(s + 1u, last) * kvRow; // keys past T are clamped here and masked below
    let kb2 = kvBase + min(s + 2u, last) * kvRow;
    let kb3 = kvBase + min(s + 3u, last) * kvRow;
    var a = vec4<f32>(0.0);
    for (var i = 0u; i < p.HS4; i++) {
      let qv = qr[i];
      a.x = qkStep(a.x, qv, k[kb0 + i]);
      a.y = qkStep(a.y, qv, k[kb1 + i]);
      a.z = qkStep(a.z, qv, k[kb2 + i]);
      a.w = qkStep(a.w, qv, k[kb3 + i]);
    }
    for (var j = 0u; j < 4u; j++) {
      let sc = scoreOf(a[j]);
      if (s + j <= tq) {
        let mn = max(m, sc);
        l = l * exp(m - mn) + exp(sc - mn);
        m = mn;
      }
    }
  }
  let L = m + log(l);

  // Pass 2: out = Σ_s P[t,s]·v[s] with P recomputed from the same score expression, keys in blocks of 4, added to
  // out in increasing key order.
  var o: array<vec4<f32>, MAX_HS4>; // (HS) zero-initialized
  let pBase = ((b * p.NH + h) * p.T + tq) * p.T;
  let writes = t < p.T;
  for (var s = 0u; s < tEnd; s += 4u) {
    let kb0 = kvBase + s * kvRow;
    let kb1 = kvBase + min(s + 1u, last) * kvRow;
    let kb2 = kvBase + min(s + 2u, last) * kvRow;
    let kb3 = kvBase + min(s + 3u, last) * kvRow;
    var a = vec4<f32>(0.0);
    for (var i = 0u; i < p.HS4; i++) {
      let qv = qr[i];
      a.x = qkStep(a.x, qv, k[kb0 + i]);
      a.y = qkStep(a.y, qv, k[kb1 + i]);
      a.z = qkStep(a.z, qv, k[kb2 + i]);
      a.w = qkStep(a.w, qv, k[kb3 + i]);
    }
    var pr: vec4<f32>;
    for (var j = 0u; j < 4u; j++) {
      pr[j] = select(0.0, probOf(scoreOf(a[j]), L), s + j <= tq);
      if (PROBS && writes && s + j < p.T) { probs[pBase + s + j] = pr[j]; }
    }
    for (var i = 0u; i < p.HS4; i++) {
      var ov = o[i];
      ov += pr.x * v[kb0 + i];
      ov += pr.y * v[kb1 + i];
      ov += pr.z * v[kb2 + i];
      ov += pr.w * v[kb3 + i];
      o[i] = ov;
    }
  }
  if (!writes) { return; }
  if (PROBS) {
    for (var s = tEnd; s < p.T; s++) { probs[pBase + s] = 0.0; }
  }
  for (var i = 0u; i < p.HS4; i++) { outp[qBase + i] = o[i]; }
  lse[(b * p.T + t) * p.NH + h] = L;
}

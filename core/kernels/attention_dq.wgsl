// attention_dq.wgsl (after attention_common.wgsl): dq of causal GQA attention. The forward being differentiated:
//   score[t,s] = q[t]·k[s]·scale (s ≤ t),  P = softmax_s(score),  out[t] = Σ_s P[t,s]·v[s]
// so, per query head h (kv head h / G):
//   dP[t,s] = dout[t]·v[s];  dS[t,s] = P[t,s]·(dP[t,s] − D[t]);  dq[t] = scale·Σ_{s≤t} dS[t,s]·k[s]
// with D[t] = dout[t]·out[t] and lse taken from stats (attention_stats.wgsl). P is read from probs (PROBS) or
// recomputed as exp(score − lse) with the shared functions of attention_common.wgsl (the same bits as the forward).
// One invocation per query row; keys in increasing order, 4 per step (deterministic); the key loop bound is uniform
// over the workgroup and keys past a lane's t are masked. No workgroup memory. dq is overwritten.
// Bindings: 0 dq (rw, vec4, (B*T, NH*HS)), 1 stats (vec2 (lse, D), (B*T, NH)), 2 dout (vec4, (B*T, NH*HS)),
// 3 q (vec4, (B*T, NH*HS)), 4 k (vec4, (B*T, NKV*HS)), 5 v (vec4, (B*T, NKV*HS)), 6 probs (f32, (B, NH, T, T); a
// dummy unless PROBS), 7 params.
// Dispatch: workgroup 32; grid (ceil(T/32), NH, B).
override PROBS: bool = false;

@group(0) @binding(0) var<storage, read_write> dq: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read> stats: array<vec2<f32>>;
@group(0) @binding(2) var<storage, read> dout: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> q: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read> k: array<vec4<f32>>;
@group(0) @binding(5) var<storage, read> v: array<vec4<f32>>;
@group(0) @binding(6) var<storage, read> probs: array<f32>;
@group(0) @binding(7) var<uniform> p: Params;

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
  let qRow = p.NH * p.HS4;
  let kvRow = p.NKV * p.HS4;
  let qBase = (b * p.T + tq) * qRow + h * p.HS4;
  let kvBase = b * p.T * kvRow + kvh * p.HS4;
  let st = stats[(b * p.T + tq) * p.NH + h]; // (lse, D)
  let pBase = ((b * p.NH + h) * p.T + tq) * p.T;

  var qr: array<vec4<f32>, MAX_HS4>; // (HS) q[t]
  var dor: array<vec4<f32>, MAX_HS4>; // (HS) dout[t]
  for (var i = 0u; i < p.HS4; i++) {
    qr[i] = q[qBase + i];
    dor[i] = dout[qBase + i];
  }
  var acc: array<vec4<f32>, MAX_HS4>; // (HS) Σ dS·k, zero-initialized
  let last = p.T - 1u;
  // Keys in blocks of 4 (one load of q/dout/acc serves 4 keys), added to acc in increasing key order.
  for (var s = 0u; s < tEnd; s += 4u) {
    let kb0 = kvBase + s * kvRow;
    let kb1 = kvBase + min(s + 1u, last) * kvRow; // keys past T are clamped here and masked below
    let kb2 = kvBase + min(s + 2u, last) * kvRow;
    let kb3 = kvBase + min(s + 3u, last) * kvRow;
    var pr: vec4<f32>; // P[t, s..s+3]
    if (PROBS) {
      for (var j = 0u; j < 4u; j++) { pr[j] = probs[pBase + min(s + j, last)]; }
    } else {
      var a = vec4<f32>(0.0);
      for (var i = 0u; i < p.HS4; i++) {
        let qv = qr[i];
        a.x = qkStep(a.x, qv, k[kb0 + i]);
        a.y = qkStep(a.y, qv, k[kb1 + i]);
        a.z = qkStep(a.z, qv, k[kb2 + i]);
        a.w = qkStep(a.w, qv, k[kb3 + i]);
      }
      for (var j = 0u; j < 4u; j++) { pr[j] = probOf(scoreOf(a[j]), st.x); }
    }
    for (var j = 0u; j < 4u; j++) { pr[j] = select(0.0, pr[j], s + j <= tq); }
    var dp = vec4<f32>(0.0); // dout[t]·v[s..s+3]
    for (var i = 0u; i < p.HS4; i++) {
      let dv = dor[i];
      dp.x += dot(dv, v[kb0 + i]);
      dp.y += dot(dv, v[kb1 + i]);
      dp.z += dot(dv, v[kb2 + i]);
      dp.w += dot(dv, v[kb3 + i]);
    }
    let ds = pr * (dp - st.y); // dS[t, s..s+3]
    for (var i = 0u; i < p.HS4; i++) {
      var x = acc[i];
      x += ds.x * k[kb0 + i];
      x += ds.y * k[kb1 + i];
      x += ds.z * k[kb2 + i];
      x += ds.w * k[kb3 + i];
      acc[i] = x;
    }
  }
  if (t >= p.T) { return; }
  for (var i = 0u; i < p.HS4; i++) { dq[qBase + i] = acc[i] * p.scale; }
}

// attention_dkdv.wgsl (after attention_common.wgsl): dk and dv of causal GQA attention. The forward being
// differentiated: score[t,s] = q[t,h]·k[s,j]·scale (s ≤ t), P = softmax_s(score), out[t,h] = Σ_s P[t,s]·v[s,j] for
// every query head h of kv head j (h / G = j), so
//   dv[s,j] = Σ_{h of j} Σ_{t≥s} P[t,s]·dout[t,h]
//   dk[s,j] = scale·Σ_{h of j} Σ_{t≥s} dS[t,s]·q[t,h],  dS = P·(dout[t,h]·v[s,j] − D[t,h]),  D = dout·out
// with (lse, D) from stats. P is read from probs (PROBS) or recomputed as exp(score − lse) with the shared functions
// of attention_common.wgsl (the same bits as the forward). One invocation owns a (row b, kv head j, key s) and loops
// over its group heads h = j*G .. j*G+G-1, then queries t in increasing order, 4 per step (one load of the private
// k/v rows and dk/dv accumulators serves 4 queries): a fixed order, no atomics. The query loop start is uniform over
// the workgroup (so q/dout loads are uniform) and queries before a lane's s are masked. No workgroup memory. dk and
// dv are overwritten.
// Bindings: 0 dk (rw, vec4, (B*T, NKV*HS)), 1 dv (rw, vec4, (B*T, NKV*HS)), 2 stats (vec2 (lse, D), (B*T, NH)),
// 3 dout (vec4, (B*T, NH*HS)), 4 q (vec4, (B*T, NH*HS)), 5 k (vec4, (B*T, NKV*HS)), 6 v (vec4, (B*T, NKV*HS)),
// 7 probs (f32, (B, NH, T, T); a dummy unless PROBS), 8 params.
// Dispatch: workgroup 32; grid (ceil(T/32), NKV, B).
override PROBS: bool = false;

@group(0) @binding(0) var<storage, read_write> dk: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read_write> dv: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> stats: array<vec2<f32>>;
@group(0) @binding(3) var<storage, read> dout: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read> q: array<vec4<f32>>;
@group(0) @binding(5) var<storage, read> k: array<vec4<f32>>;
@group(0) @binding(6) var<storage, read> v: array<vec4<f32>>;
@group(0) @binding(7) var<storage, read> probs: array<f32>;
@group(0) @binding(8) var<uniform> p: Params;

const WG: u32 = 32u;

@compute @workgroup_size(32)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let j = wid.y;
  let b = wid.z;
  let s0 = wid.x * WG;
  let s = s0 + lid.x;
  let sk = min(s, p.T - 1u); // lanes past T compute key T-1 and write nothing
  let qRow = p.NH * p.HS4;
  let kvRow = p.NKV * p.HS4;
  let kvBase = (b * p.T + sk) * kvRow + j * p.HS4;

  var kr: array<vec4<f32>, MAX_HS4>; // (HS) k[s]
  var vr: array<vec4<f32>, MAX_HS4>; // (HS) v[s]
  for (var i = 0u; i < p.HS4; i++) {
    kr[i] = k[kvBase + i];
    vr[i] = v[kvBase + i];
  }
  var dka: array<vec4<f32>, MAX_HS4>; // (HS) Σ dS·q, zero-initialized
  var dva: array<vec4<f32>, MAX_HS4>; // (HS) Σ P·dout, zero-initialized
  let last = p.T - 1u;
  for (var g = 0u; g < p.G; g++) {
    let h = j * p.G + g;
    let pBase = (b * p.NH + h) * p.T * p.T + sk;
    // Queries in blocks of 4 (one load of k/v/dk/dv serves 4 queries), added in increasing query order.
    for (var t = s0; t < p.T; t += 4u) {
      let t1 = min(t + 1u, last); // queries past T are clamped here and masked below
      let t2 = min(t + 2u, last);
      let t3 = min(t + 3u, last);
      let qb0 = (b * p.T + t) * qRow + h * p.HS4;
      let qb1 = (b * p.T + t1) * qRow + h * p.HS4;
      let qb2 = (b * p.T + t2) * qRow + h * p.HS4;
      let qb3 = (b * p.T + t3) * qRow + h * p.HS4;
      let st0 = stats[(b * p.T + t) * p.NH + h]; // (lse, D)
      let st1 = stats[(b * p.T + t1) * p.NH + h];
      let st2 = stats[(b * p.T + t2) * p.NH + h];
      let st3 = stats[(b * p.T + t3) * p.NH + h];
      var pr: vec4<f32>; // P[t..t+3, s]
      if (PROBS) {
        pr = vec4<f32>(probs[pBase + t * p.T], probs[pBase + t1 * p.T], probs[pBase + t2 * p.T], probs[pBase + t3 * p.T]);
      } else {
        var a = vec4<f32>(0.0);
        for (var i = 0u; i < p.HS4; i++) {
          let kv = kr[i];
          a.x = qkStep(a.x, q[qb0 + i], kv);
          a.y = qkStep(a.y, q[qb1 + i], kv);
          a.z = qkStep(a.z, q[qb2 + i], kv);
          a.w = qkStep(a.w, q[qb3 + i], kv);
        }
        pr = vec4<f32>(probOf(scoreOf(a.x), st0.x), probOf(scoreOf(a.y), st1.x), probOf(scoreOf(a.z), st2.x), probOf(scoreOf(a.w), st3.x));
      }
      for (var u = 0u; u < 4u; u++) { pr[u] = select(0.0, pr[u], t + u >= sk && t + u < p.T); }
      var dp = vec4<f32>(0.0); // dout[t..t+3]·v[s]
      for (var i = 0u; i < p.HS4; i++) {
        let vv = vr[i];
        dp.x += dot(dout[qb0 + i], vv);
        dp.y += dot(dout[qb1 + i], vv);
        dp.z += dot(dout[qb2 + i], vv);
        dp.w += dot(dout[qb3 + i], vv);
      }
      let ds = pr * (dp - vec4<f32>(st0.y, st1.y, st2.y, st3.y)); // dS[t..t+3, s]
      for (var i = 0u; i < p.HS4; i++) {
        var x = dka[i];
        x += ds.x * q[qb0 + i];
        x += ds.y * q[qb1 + i];
        x += ds.z * q[qb2 + i];
        x += ds.w * q[qb3 + i];
        dka[i] = x;
        var y = dva[i];
        y += pr.x * dout[qb0 + i];
        y += pr.y * dout[qb1 + i];
        y += pr.z * dout[qb2 + i];
        y += pr.w * dout[qb3 + i];
        dva[i] = y;
      }
    }
  }
  if (s >= p.T) { return; }
  for (var i = 0u; i < p.HS4; i++) {
    dk[kvBase + i] = dka[i] * p.scale;
    dv[kvBase + i] = dva[i];
  }
}

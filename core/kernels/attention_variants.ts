// Subgroup forms of the causal-attention kernels (attention_fwd.wgsl, attention_dq.wgsl, attention_dkdv.wgsl), for
// adapters with `subgroups` of one fixed size S. The originals give each invocation one row (a query, or a key), keep
// it in private arrays indexed in loops, and make every invocation load the other side's rows (each key's k and v, or
// each query's q and dout) itself: on CPU adapters, where each lane's load and each indexed private access is a loop
// over the lanes, that is most of their time. Here the head size is a constant of the generated code (so every
// private array is indexed by constants and lives in registers), and the S lanes of a subgroup load a shared row
// together, lane l the vec4 chunks l, l + S, ..., reading the others' with subgroupShuffle. They take one key (or
// query) per step where the originals take 4; every sum, its order, its masking and the shared score and probability
// functions of attention_common.wgsl are the originals', so they give the same bits (tests/gpu/attention.test.ts
// checks it) and the P that MeSP recomputes stays the bits the forward wrote.
import commonCode from './attention_common.wgsl';

function prelude(HS4: number, S: number): string {
  return `enable subgroups;\n${commonCode}\nconst HSC: u32 = ${HS4}u; // = p.HS4: the head size / 4 this pipeline is generated for\n`
    + `const NCH: u32 = ${Math.ceil(HS4 / S)}u; // chunks a lane holds of a shared row\n`;
}

/** WGSL: `var <h>` = this lane's chunks (l, l + S, ...) of the row starting at vec4 index `base` of `buf`. */
function loadRow(h: string, buf: string, base: string, S: number): string {
  return `var ${h}: array<vec4<f32>, NCH>;\n    for (var c = 0u; c < NCH; c++) { ${h}[c] = ${buf}[${base} + min(sl + ${S}u * c, HSC - 1u)]; }`;
}

/** WGSL: chunk i (a loop variable) of a row held by the subgroup in `h`. */
function chunk(h: string, i: string, S: number): string {
  return `subgroupShuffle(${h}[${i} / ${S}u], ${i} % ${S}u)`;
}

export function attentionFwdSgSource(HS4: number, S: number): string {
  return `${prelude(HS4, S)}
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
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>, @builtin(subgroup_invocation_id) sl: u32) {
  let h = wid.y;
  let b = wid.z;
  let t0 = wid.x * WG;
  let t = t0 + lid.x;
  let tq = min(t, p.T - 1u); // lanes past T compute row T-1 and write nothing
  let tEnd = min(t0 + WG, p.T); // uniform key bound (exclusive)
  let kvh = h / p.G;
  let qRow = p.NH * HSC;
  let kvRow = p.NKV * HSC;
  let qBase = (b * p.T + tq) * qRow + h * HSC;
  let kvBase = b * p.T * kvRow + kvh * HSC;
  var qr: array<vec4<f32>, HSC>;
  for (var i = 0u; i < HSC; i++) { qr[i] = q[qBase + i]; }

  // Pass 1: running max and sum, key 0 first, then keys 1.. in order.
  var m = 0.0;
  var l = 1.0;
  for (var s = 0u; s < tEnd; s++) {
    ${loadRow('kh', 'k', 'kvBase + s * kvRow', S)}
    var a = 0.0;
    for (var i = 0u; i < HSC; i++) { a = qkStep(a, qr[i], ${chunk('kh', 'i', S)}); }
    let sc = scoreOf(a);
    if (s == 0u) {
      m = sc;
    } else if (s <= tq) {
      let mn = max(m, sc);
      l = l * exp(m - mn) + exp(sc - mn);
      m = mn;
    }
  }
  let L = m + log(l);

  // Pass 2: out = Σ_s P[t,s]·v[s], keys in order.
  var o: array<vec4<f32>, HSC>;
  let pBase = ((b * p.NH + h) * p.T + tq) * p.T;
  let writes = t < p.T;
  for (var s = 0u; s < tEnd; s++) {
    let kb = kvBase + s * kvRow;
    ${loadRow('kh', 'k', 'kb', S)}
    ${loadRow('vh', 'v', 'kb', S)}
    var a = 0.0;
    for (var i = 0u; i < HSC; i++) { a = qkStep(a, qr[i], ${chunk('kh', 'i', S)}); }
    let pr = select(0.0, probOf(scoreOf(a), L), s <= tq);
    if (PROBS && writes) { probs[pBase + s] = pr; }
    for (var i = 0u; i < HSC; i++) { o[i] += pr * ${chunk('vh', 'i', S)}; }
  }
  if (!writes) { return; }
  if (PROBS) {
    for (var s = tEnd; s < p.T; s++) { probs[pBase + s] = 0.0; }
  }
  for (var i = 0u; i < HSC; i++) { outp[qBase + i] = o[i]; }
  lse[(b * p.T + t) * p.NH + h] = L;
}
`;
}

export function attentionDqSgSource(HS4: number, S: number): string {
  return `${prelude(HS4, S)}
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
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>, @builtin(subgroup_invocation_id) sl: u32) {
  let h = wid.y;
  let b = wid.z;
  let t0 = wid.x * WG;
  let t = t0 + lid.x;
  let tq = min(t, p.T - 1u);
  let tEnd = min(t0 + WG, p.T);
  let kvh = h / p.G;
  let qRow = p.NH * HSC;
  let kvRow = p.NKV * HSC;
  let qBase = (b * p.T + tq) * qRow + h * HSC;
  let kvBase = b * p.T * kvRow + kvh * HSC;
  let st = stats[(b * p.T + tq) * p.NH + h]; // (lse, D)
  let pBase = ((b * p.NH + h) * p.T + tq) * p.T;
  var qr: array<vec4<f32>, HSC>;
  var dor: array<vec4<f32>, HSC>;
  for (var i = 0u; i < HSC; i++) {
    qr[i] = q[qBase + i];
    dor[i] = dout[qBase + i];
  }
  var acc: array<vec4<f32>, HSC>;
  for (var s = 0u; s < tEnd; s++) {
    let kb = kvBase + s * kvRow;
    ${loadRow('kh', 'k', 'kb', S)}
    ${loadRow('vh', 'v', 'kb', S)}
    var pr: f32;
    if (PROBS) {
      pr = probs[pBase + s];
    } else {
      var a = 0.0;
      for (var i = 0u; i < HSC; i++) { a = qkStep(a, qr[i], ${chunk('kh', 'i', S)}); }
      pr = probOf(scoreOf(a), st.x);
    }
    pr = select(0.0, pr, s <= tq);
    var dp = 0.0; // dout[t]·v[s]
    for (var i = 0u; i < HSC; i++) { dp += dot(dor[i], ${chunk('vh', 'i', S)}); }
    let ds = pr * (dp - st.y);
    for (var i = 0u; i < HSC; i++) { acc[i] += ds * ${chunk('kh', 'i', S)}; }
  }
  if (t >= p.T) { return; }
  for (var i = 0u; i < HSC; i++) { dq[qBase + i] = acc[i] * p.scale; }
}
`;
}

export function attentionDkdvSgSource(HS4: number, S: number): string {
  return `${prelude(HS4, S)}
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
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>, @builtin(subgroup_invocation_id) sl: u32) {
  let j = wid.y;
  let b = wid.z;
  let s0 = wid.x * WG;
  let s = s0 + lid.x;
  let sk = min(s, p.T - 1u);
  let qRow = p.NH * HSC;
  let kvRow = p.NKV * HSC;
  let kvBase = (b * p.T + sk) * kvRow + j * HSC;
  var kr: array<vec4<f32>, HSC>;
  var vr: array<vec4<f32>, HSC>;
  for (var i = 0u; i < HSC; i++) {
    kr[i] = k[kvBase + i];
    vr[i] = v[kvBase + i];
  }
  var dka: array<vec4<f32>, HSC>;
  var dva: array<vec4<f32>, HSC>;
  for (var g = 0u; g < p.G; g++) {
    let h = j * p.G + g;
    let pBase = (b * p.NH + h) * p.T * p.T + sk;
    for (var t = s0; t < p.T; t++) {
      let qb = (b * p.T + t) * qRow + h * HSC;
      let st = stats[(b * p.T + t) * p.NH + h]; // (lse, D)
      ${loadRow('qh', 'q', 'qb', S)}
      ${loadRow('dh', 'dout', 'qb', S)}
      var pr: f32;
      if (PROBS) {
        pr = probs[pBase + t * p.T];
      } else {
        var a = 0.0;
        for (var i = 0u; i < HSC; i++) { a = qkStep(a, ${chunk('qh', 'i', S)}, kr[i]); }
        pr = probOf(scoreOf(a), st.x);
      }
      pr = select(0.0, pr, t >= sk);
      var dp = 0.0; // dout[t]·v[s]
      for (var i = 0u; i < HSC; i++) { dp += dot(${chunk('dh', 'i', S)}, vr[i]); }
      let ds = pr * (dp - st.y);
      for (var i = 0u; i < HSC; i++) {
        dka[i] += ds * ${chunk('qh', 'i', S)};
        dva[i] += pr * ${chunk('dh', 'i', S)};
      }
    }
  }
  if (s >= p.T) { return; }
  for (var i = 0u; i < HSC; i++) {
    dk[kvBase + i] = dka[i] * p.scale;
    dv[kvBase + i] = dva[i];
  }
}
`;
}

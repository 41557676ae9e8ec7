// attention_stats.wgsl (after attention_common.wgsl): the per-(token, head) statistics the attention backward needs,
// packed so the backward kernels stay within 8 storage bindings:
//   stats[r] = (lse[r], D[r]) with D[t,h] = Σ_d dout[t,h,d]·out[t,h,d]   (vec4 chunks in order)
// where r = (b*T + t)*NH + h indexes a (token, query head). lse is copied bit for bit.
// Bindings: 0 stats (rw, vec2, (B*T, NH)), 1 dout (vec4, (B*T, NH*HS)), 2 out (vec4, (B*T, NH*HS)),
// 3 lse (f32, (B*T, NH)), 4 params.
// Dispatch: workgroup 64; grid grid1d(R, 64) (kernels/grid.ts: 1-D, folded into 2-D past 65535), one invocation per
// row r < R = B*T*NH.

@group(0) @binding(0) var<storage, read_write> stats: array<vec2<f32>>;
@group(0) @binding(1) var<storage, read> dout: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> outp: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> lse: array<f32>;
@group(0) @binding(4) var<uniform> p: Params;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let r = gid.x + gid.y * nwg.x * 64u;
  if (r >= p.R) { return; }
  let base = r * p.HS4;
  var d = 0.0;
  for (var i = 0u; i < p.HS4; i++) { d += dot(dout[base + i], outp[base + i]); }
  stats[r] = vec2<f32>(lse[r], d);
}

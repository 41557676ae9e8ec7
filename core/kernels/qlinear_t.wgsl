// qlinear_t.wgsl (after qlinear_common.wgsl): the frozen path of a linear layer's backward against one row tile of
// its weight (core/kernels/weight.ts), reading the packed weights directly (no dequantized copy):
//   forward  Y[:, n] = X·W[n, :]ᵀ over the tile's rows n,   so   dX = G·W_tile:
//   DX[dxrow0 + m, c] = alpha · Σ_k G[grow0 + m, gcol + k] · W[k, c]  (+ DX[...] if ACCUM)
// for m < M (tokens), c < N (input features), k < K (the tile's rows). G has row stride ldg; DX has row stride N.
// W[k, c] is the tile's f32 value (BITS 32) or f32(f32(scale·q) + bias) (BITS 8 / 4), exactly dequantizeRows
// (lo4, hi4, q8 of qlinear_common.wgsl).
// Each DX element sums k in ascending order, one k at a time: the order depends only on K, never on M or the row, so
// a row's result is the same bits in any chunk of tokens.
// Register-blocked, no workgroup memory, no barrier: an invocation computes 4 rows m × 32 columns c. The invocations
// of a workgroup run along m and share one block of 32 columns, so their weight loads and dequantization are uniform.
// N must be a multiple of 4 (f32) or of 64 (int8 / int4).
// Bindings: 0 DX (rw f32), 1 G (f32), 2 Wd (the tile's data as vec4<u32>; f32 bits for BITS 32),
//           3 SB (the tile's u32 scale|bias words; a dummy for BITS 32), 4 params.
// Dispatch: workgroup 8; grid (ceil(M/32), number of 32-column blocks in this dispatch); p.nb0 = first block.
override BITS: u32 = 4u;
override ACCUM: bool = false;

struct Params {
  M: u32, N: u32, K: u32, alpha: f32,
  ldg: u32, gcol: u32, grow0: u32, dxrow0: u32,
  nb0: u32,
}

@group(0) @binding(0) var<storage, read_write> DX: array<f32>;
@group(0) @binding(1) var<storage, read> Gm: array<f32>;
@group(0) @binding(2) var<storage, read> Wd: array<vec4<u32>>;
@group(0) @binding(3) var<storage, read> SB: array<u32>;
@group(0) @binding(4) var<uniform> p: Params;

// DX[m, c..c+3] = alpha·a (+ DX), for the row and columns in range.
fn store(m: u32, c: u32, a: vec4<f32>) {
  if (m >= p.M) { return; }
  for (var j = 0u; j < 4u; j++) {
    if (c + j >= p.N) { return; }
    var v = p.alpha * a[j];
    let idx = (p.dxrow0 + m) * p.N + c + j;
    if (ACCUM) { v += DX[idx]; }
    DX[idx] = v;
  }
}

@compute @workgroup_size(8)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>) {
  let m0 = gid.x * 4u;
  let n0 = (wid.y + p.nb0) * 32u;
  if (m0 >= p.M || n0 >= p.N) { return; }
  // The 4 G rows of the block (clamped into range; out-of-range results are not stored).
  let g0row = (p.grow0 + min(m0 + 0u, p.M - 1u)) * p.ldg + p.gcol;
  let g1row = (p.grow0 + min(m0 + 1u, p.M - 1u)) * p.ldg + p.gcol;
  let g2row = (p.grow0 + min(m0 + 2u, p.M - 1u)) * p.ldg + p.gcol;
  let g3row = (p.grow0 + min(m0 + 3u, p.M - 1u)) * p.ldg + p.gcol;
  // a{i}_{j} = DX[m0+i, n0+4j .. n0+4j+3]
  var a0_0 = vec4<f32>(0.0); var a0_1 = vec4<f32>(0.0); var a0_2 = vec4<f32>(0.0); var a0_3 = vec4<f32>(0.0); var a0_4 = vec4<f32>(0.0); var a0_5 = vec4<f32>(0.0); var a0_6 = vec4<f32>(0.0); var a0_7 = vec4<f32>(0.0);
  var a1_0 = vec4<f32>(0.0); var a1_1 = vec4<f32>(0.0); var a1_2 = vec4<f32>(0.0); var a1_3 = vec4<f32>(0.0); var a1_4 = vec4<f32>(0.0); var a1_5 = vec4<f32>(0.0); var a1_6 = vec4<f32>(0.0); var a1_7 = vec4<f32>(0.0);
  var a2_0 = vec4<f32>(0.0); var a2_1 = vec4<f32>(0.0); var a2_2 = vec4<f32>(0.0); var a2_3 = vec4<f32>(0.0); var a2_4 = vec4<f32>(0.0); var a2_5 = vec4<f32>(0.0); var a2_6 = vec4<f32>(0.0); var a2_7 = vec4<f32>(0.0);
  var a3_0 = vec4<f32>(0.0); var a3_1 = vec4<f32>(0.0); var a3_2 = vec4<f32>(0.0); var a3_3 = vec4<f32>(0.0); var a3_4 = vec4<f32>(0.0); var a3_5 = vec4<f32>(0.0); var a3_6 = vec4<f32>(0.0); var a3_7 = vec4<f32>(0.0);
  let N4 = p.N / 4u; // vec4 per W row for BITS 32
  let G = p.N / 64u; // groups per W row (int)
  let V32 = p.N / (128u / max(BITS, 4u)); // vec4<u32> per W row (int)
  for (var k = 0u; k < p.K; k++) {
    var d0: vec4<f32>;
    var d1: vec4<f32>;
    var d2: vec4<f32>;
    var d3: vec4<f32>;
    var d4: vec4<f32>;
    var d5: vec4<f32>;
    var d6: vec4<f32>;
    var d7: vec4<f32>;
    if (BITS == 32u) {
      let last = k * N4 + N4 - 1u; // columns past N (the tail block) read the row's last vec4, never stored
      d0 = bitcast<vec4<f32>>(Wd[min(k * N4 + n0 / 4u + 0u, last)]);
      d1 = bitcast<vec4<f32>>(Wd[min(k * N4 + n0 / 4u + 1u, last)]);
      d2 = bitcast<vec4<f32>>(Wd[min(k * N4 + n0 / 4u + 2u, last)]);
      d3 = bitcast<vec4<f32>>(Wd[min(k * N4 + n0 / 4u + 3u, last)]);
      d4 = bitcast<vec4<f32>>(Wd[min(k * N4 + n0 / 4u + 4u, last)]);
      d5 = bitcast<vec4<f32>>(Wd[min(k * N4 + n0 / 4u + 5u, last)]);
      d6 = bitcast<vec4<f32>>(Wd[min(k * N4 + n0 / 4u + 6u, last)]);
      d7 = bitcast<vec4<f32>>(Wd[min(k * N4 + n0 / 4u + 7u, last)]);
    } else {
      let sb = unpack2x16float(SB[k * G + n0 / 64u]);
      if (BITS == 4u) {
        let v = Wd[k * V32 + n0 / 32u];
        d0 = lo4(v.x, sb); d1 = hi4(v.x, sb); d2 = lo4(v.y, sb); d3 = hi4(v.y, sb);
        d4 = lo4(v.z, sb); d5 = hi4(v.z, sb); d6 = lo4(v.w, sb); d7 = hi4(v.w, sb);
      } else {
        let v = Wd[k * V32 + n0 / 16u];
        let u = Wd[k * V32 + n0 / 16u + 1u];
        d0 = q8(v.x, sb); d1 = q8(v.y, sb); d2 = q8(v.z, sb); d3 = q8(v.w, sb);
        d4 = q8(u.x, sb); d5 = q8(u.y, sb); d6 = q8(u.z, sb); d7 = q8(u.w, sb);
      }
    }
    let g0 = Gm[g0row + k];
    a0_0 += g0 * d0; a0_1 += g0 * d1; a0_2 += g0 * d2; a0_3 += g0 * d3; a0_4 += g0 * d4; a0_5 += g0 * d5; a0_6 += g0 * d6; a0_7 += g0 * d7;
    let g1 = Gm[g1row + k];
    a1_0 += g1 * d0; a1_1 += g1 * d1; a1_2 += g1 * d2; a1_3 += g1 * d3; a1_4 += g1 * d4; a1_5 += g1 * d5; a1_6 += g1 * d6; a1_7 += g1 * d7;
    let g2 = Gm[g2row + k];
    a2_0 += g2 * d0; a2_1 += g2 * d1; a2_2 += g2 * d2; a2_3 += g2 * d3; a2_4 += g2 * d4; a2_5 += g2 * d5; a2_6 += g2 * d6; a2_7 += g2 * d7;
    let g3 = Gm[g3row + k];
    a3_0 += g3 * d0; a3_1 += g3 * d1; a3_2 += g3 * d2; a3_3 += g3 * d3; a3_4 += g3 * d4; a3_5 += g3 * d5; a3_6 += g3 * d6; a3_7 += g3 * d7;
  }
  store(m0 + 0u, n0 + 0u, a0_0);
  store(m0 + 0u, n0 + 4u, a0_1);
  store(m0 + 0u, n0 + 8u, a0_2);
  store(m0 + 0u, n0 + 12u, a0_3);
  store(m0 + 0u, n0 + 16u, a0_4);
  store(m0 + 0u, n0 + 20u, a0_5);
  store(m0 + 0u, n0 + 24u, a0_6);
  store(m0 + 0u, n0 + 28u, a0_7);
  store(m0 + 1u, n0 + 0u, a1_0);
  store(m0 + 1u, n0 + 4u, a1_1);
  store(m0 + 1u, n0 + 8u, a1_2);
  store(m0 + 1u, n0 + 12u, a1_3);
  store(m0 + 1u, n0 + 16u, a1_4);
  store(m0 + 1u, n0 + 20u, a1_5);
  store(m0 + 1u, n0 + 24u, a1_6);
  store(m0 + 1u, n0 + 28u, a1_7);
  store(m0 + 2u, n0 + 0u, a2_0);
  store(m0 + 2u, n0 + 4u, a2_1);
  store(m0 + 2u, n0 + 8u, a2_2);
  store(m0 + 2u, n0 + 12u, a2_3);
  store(m0 + 2u, n0 + 16u, a2_4);
  store(m0 + 2u, n0 + 20u, a2_5);
  store(m0 + 2u, n0 + 24u, a2_6);
  store(m0 + 2u, n0 + 28u, a2_7);
  store(m0 + 3u, n0 + 0u, a3_0);
  store(m0 + 3u, n0 + 4u, a3_1);
  store(m0 + 3u, n0 + 8u, a3_2);
  store(m0 + 3u, n0 + 12u, a3_3);
  store(m0 + 3u, n0 + 16u, a3_4);
  store(m0 + 3u, n0 + 20u, a3_5);
  store(m0 + 3u, n0 + 24u, a3_6);
  store(m0 + 3u, n0 + 28u, a3_7);
}

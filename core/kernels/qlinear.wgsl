// qlinear.wgsl (after qlinear_common.wgsl): the forward of a frozen linear layer (HF nn.Linear, W [out, in]) against
// one row tile of its weight (core/kernels/weight.ts), dequantizing in the kernel (no dequantized copy):
//   Y[yrow0 + m, ycol + n] = alpha · Σ_k X[xrow0 + m, k] · W[n, k]  (+ bias[ycol + n] if BIAS)  (+ Y[...] if ACCUM)
// for m < M, n < N (the tile's rows), k < K (input features). Y has row stride ldy; X has row stride K.
// W[n, k] is the tile's f32 value (BITS 32) or, for int8 / int4 (BITS 8 / 4), f32(f32(scale·q) + bias) with the f16
// scale|bias of group k/64 of row n: exactly core/common/quant.ts dequantizeRows (lo4, hi4, q8 of
// qlinear_common.wgsl).
// Each Y element sums k in ascending steps of 8: acc += X[k..k+3]·W[k..k+3] + X[k+4..k+7]·W[k+4..k+7]. The order
// depends only on K, never on M, the tile or the position of the row, so a row's result is the same bits in any
// chunk of tokens (what makes the chunked and unchunked LM head agree exactly).
// Register-blocked, no workgroup memory, no barrier: an invocation computes 4 rows m × 8 outputs n. The invocations
// of a workgroup run along m and share one block of 8 n, so their weight loads and dequantization are uniform.
// K must be a multiple of 4 (f32) or of 64 (int8 / int4).
// Bindings: 0 Y (rw f32), 1 X (vec4 f32), 2 Wd (the tile's data as vec4<u32>; f32 bits for BITS 32),
//           3 SB (the tile's u32 scale|bias words; a dummy for BITS 32), 4 bias (f32, a dummy when !BIAS), 5 params.
// Dispatch: workgroup 8; grid (ceil(M/32), number of 8-row blocks of n in this dispatch); p.nb0 = first block.
override BITS: u32 = 4u;
override ACCUM: bool = false;
override BIAS: bool = false;

struct Params {
  M: u32, N: u32, K: u32, alpha: f32,
  ldy: u32, ycol: u32, yrow0: u32, xrow0: u32,
  nb0: u32,
}

@group(0) @binding(0) var<storage, read_write> Y: array<f32>;
@group(0) @binding(1) var<storage, read> X: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> Wd: array<vec4<u32>>;
@group(0) @binding(3) var<storage, read> SB: array<u32>;
@group(0) @binding(4) var<storage, read> bias: array<f32>;
@group(0) @binding(5) var<uniform> p: Params;

// One row of X (8 inputs: xa, xb) against 4 weight rows: (xa·wa_j + xb·wb_j)_j, in this order.
fn dot8x4(xa: vec4<f32>, xb: vec4<f32>, wa0: vec4<f32>, wa1: vec4<f32>, wa2: vec4<f32>, wa3: vec4<f32>,
          wb0: vec4<f32>, wb1: vec4<f32>, wb2: vec4<f32>, wb3: vec4<f32>) -> vec4<f32> {
  return vec4<f32>(dot(xa, wa0) + dot(xb, wb0), dot(xa, wa1) + dot(xb, wb1),
                   dot(xa, wa2) + dot(xb, wb2), dot(xa, wa3) + dot(xb, wb3));
}

// Y[m, n..n+7] = alpha·acc (+ bias) (+ Y), for the rows and columns in range.
fn store(m: u32, n: u32, a: vec4<f32>, b: vec4<f32>) {
  if (m >= p.M) { return; }
  for (var j = 0u; j < 8u; j++) {
    if (n + j >= p.N) { return; }
    var v = p.alpha * select(b[j % 4u], a[j % 4u], j < 4u);
    if (BIAS) { v += bias[p.ycol + n + j]; }
    let idx = (p.yrow0 + m) * p.ldy + p.ycol + n + j;
    if (ACCUM) { v += Y[idx]; }
    Y[idx] = v;
  }
}

@compute @workgroup_size(8)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>) {
  let m0 = gid.x * 4u;
  let n0 = (wid.y + p.nb0) * 8u;
  if (m0 >= p.M || n0 >= p.N) { return; }
  let K4 = p.K / 4u; // vec4 per X row (and per W row for BITS 32)
  // First vec4 of the 4 X rows and the 8 W rows of the block, clamped into range (those results are not stored).
  let xr0 = (p.xrow0 + min(m0 + 0u, p.M - 1u)) * K4;
  let xr1 = (p.xrow0 + min(m0 + 1u, p.M - 1u)) * K4;
  let xr2 = (p.xrow0 + min(m0 + 2u, p.M - 1u)) * K4;
  let xr3 = (p.xrow0 + min(m0 + 3u, p.M - 1u)) * K4;
  let r0 = min(n0 + 0u, p.N - 1u);
  let r1 = min(n0 + 1u, p.N - 1u);
  let r2 = min(n0 + 2u, p.N - 1u);
  let r3 = min(n0 + 3u, p.N - 1u);
  let r4 = min(n0 + 4u, p.N - 1u);
  let r5 = min(n0 + 5u, p.N - 1u);
  let r6 = min(n0 + 6u, p.N - 1u);
  let r7 = min(n0 + 7u, p.N - 1u);
  // acc{i}a = Y[m0+i, n0..n0+3], acc{i}b = Y[m0+i, n0+4..n0+7]
  var acc0a = vec4<f32>(0.0);
  var acc0b = vec4<f32>(0.0);
  var acc1a = vec4<f32>(0.0);
  var acc1b = vec4<f32>(0.0);
  var acc2a = vec4<f32>(0.0);
  var acc2b = vec4<f32>(0.0);
  var acc3a = vec4<f32>(0.0);
  var acc3b = vec4<f32>(0.0);
  if (BITS == 32u) {
    for (var k4 = 0u; k4 < K4; k4 += 2u) { // inputs 4·k4 .. 4·k4 + 7
      let hasB = k4 + 1u < K4; // K % 8 == 4: the last step has no second half
      let kb = select(k4, k4 + 1u, hasB);
      let wa0 = bitcast<vec4<f32>>(Wd[r0 * K4 + k4]);
      let wb0 = select(vec4<f32>(0.0), bitcast<vec4<f32>>(Wd[r0 * K4 + kb]), hasB);
      let wa1 = bitcast<vec4<f32>>(Wd[r1 * K4 + k4]);
      let wb1 = select(vec4<f32>(0.0), bitcast<vec4<f32>>(Wd[r1 * K4 + kb]), hasB);
      let wa2 = bitcast<vec4<f32>>(Wd[r2 * K4 + k4]);
      let wb2 = select(vec4<f32>(0.0), bitcast<vec4<f32>>(Wd[r2 * K4 + kb]), hasB);
      let wa3 = bitcast<vec4<f32>>(Wd[r3 * K4 + k4]);
      let wb3 = select(vec4<f32>(0.0), bitcast<vec4<f32>>(Wd[r3 * K4 + kb]), hasB);
      let wa4 = bitcast<vec4<f32>>(Wd[r4 * K4 + k4]);
      let wb4 = select(vec4<f32>(0.0), bitcast<vec4<f32>>(Wd[r4 * K4 + kb]), hasB);
      let wa5 = bitcast<vec4<f32>>(Wd[r5 * K4 + k4]);
      let wb5 = select(vec4<f32>(0.0), bitcast<vec4<f32>>(Wd[r5 * K4 + kb]), hasB);
      let wa6 = bitcast<vec4<f32>>(Wd[r6 * K4 + k4]);
      let wb6 = select(vec4<f32>(0.0), bitcast<vec4<f32>>(Wd[r6 * K4 + kb]), hasB);
      let wa7 = bitcast<vec4<f32>>(Wd[r7 * K4 + k4]);
      let wb7 = select(vec4<f32>(0.0), bitcast<vec4<f32>>(Wd[r7 * K4 + kb]), hasB);
      let xa0 = X[xr0 + k4];
      let xb0 = select(vec4<f32>(0.0), X[xr0 + kb], hasB);
      let xa1 = X[xr1 + k4];
      let xb1 = select(vec4<f32>(0.0), X[xr1 + kb], hasB);
      let xa2 = X[xr2 + k4];
      let xb2 = select(vec4<f32>(0.0), X[xr2 + kb], hasB);
      let xa3 = X[xr3 + k4];
      let xb3 = select(vec4<f32>(0.0), X[xr3 + kb], hasB);
      acc0a += dot8x4(xa0, xb0, wa0, wa1, wa2, wa3, wb0, wb1, wb2, wb3);
      acc0b += dot8x4(xa0, xb0, wa4, wa5, wa6, wa7, wb4, wb5, wb6, wb7);
      acc1a += dot8x4(xa1, xb1, wa0, wa1, wa2, wa3, wb0, wb1, wb2, wb3);
      acc1b += dot8x4(xa1, xb1, wa4, wa5, wa6, wa7, wb4, wb5, wb6, wb7);
      acc2a += dot8x4(xa2, xb2, wa0, wa1, wa2, wa3, wb0, wb1, wb2, wb3);
      acc2b += dot8x4(xa2, xb2, wa4, wa5, wa6, wa7, wb4, wb5, wb6, wb7);
      acc3a += dot8x4(xa3, xb3, wa0, wa1, wa2, wa3, wb0, wb1, wb2, wb3);
      acc3b += dot8x4(xa3, xb3, wa4, wa5, wa6, wa7, wb4, wb5, wb6, wb7);
    }
  } else {
    let G = p.K / 64u; // groups per row
    let V32 = p.K / (128u / BITS); // vec4<u32> per W row (32 / BITS values per u32)
    for (var g = 0u; g < G; g++) {
      let sb0 = unpack2x16float(SB[r0 * G + g]);
      let sb1 = unpack2x16float(SB[r1 * G + g]);
      let sb2 = unpack2x16float(SB[r2 * G + g]);
      let sb3 = unpack2x16float(SB[r3 * G + g]);
      let sb4 = unpack2x16float(SB[r4 * G + g]);
      let sb5 = unpack2x16float(SB[r5 * G + g]);
      let sb6 = unpack2x16float(SB[r6 * G + g]);
      let sb7 = unpack2x16float(SB[r7 * G + g]);
      for (var h = 0u; h < 2u; h++) { // inputs 64g + 32h .. + 31
        if (BITS == 4u) {
          let v0 = Wd[r0 * V32 + g * 2u + h];
          let v1 = Wd[r1 * V32 + g * 2u + h];
          let v2 = Wd[r2 * V32 + g * 2u + h];
          let v3 = Wd[r3 * V32 + g * 2u + h];
          let v4 = Wd[r4 * V32 + g * 2u + h];
          let v5 = Wd[r5 * V32 + g * 2u + h];
          let v6 = Wd[r6 * V32 + g * 2u + h];
          let v7 = Wd[r7 * V32 + g * 2u + h];
          for (var c = 0u; c < 4u; c++) { // inputs 64g + 32h + 8c .. + 7
            let wa0 = lo4(v0[c], sb0);
            let wb0 = hi4(v0[c], sb0);
            let wa1 = lo4(v1[c], sb1);
            let wb1 = hi4(v1[c], sb1);
            let wa2 = lo4(v2[c], sb2);
            let wb2 = hi4(v2[c], sb2);
            let wa3 = lo4(v3[c], sb3);
            let wb3 = hi4(v3[c], sb3);
            let wa4 = lo4(v4[c], sb4);
            let wb4 = hi4(v4[c], sb4);
            let wa5 = lo4(v5[c], sb5);
            let wb5 = hi4(v5[c], sb5);
            let wa6 = lo4(v6[c], sb6);
            let wb6 = hi4(v6[c], sb6);
            let wa7 = lo4(v7[c], sb7);
            let wb7 = hi4(v7[c], sb7);
            let k4 = g * 16u + h * 8u + c * 2u;
            let xa0 = X[xr0 + k4];
            let xb0 = X[xr0 + k4 + 1u];
            let xa1 = X[xr1 + k4];
            let xb1 = X[xr1 + k4 + 1u];
            let xa2 = X[xr2 + k4];
            let xb2 = X[xr2 + k4 + 1u];
            let xa3 = X[xr3 + k4];
            let xb3 = X[xr3 + k4 + 1u];
            acc0a += dot8x4(xa0, xb0, wa0, wa1, wa2, wa3, wb0, wb1, wb2, wb3);
            acc0b += dot8x4(xa0, xb0, wa4, wa5, wa6, wa7, wb4, wb5, wb6, wb7);
            acc1a += dot8x4(xa1, xb1, wa0, wa1, wa2, wa3, wb0, wb1, wb2, wb3);
            acc1b += dot8x4(xa1, xb1, wa4, wa5, wa6, wa7, wb4, wb5, wb6, wb7);
            acc2a += dot8x4(xa2, xb2, wa0, wa1, wa2, wa3, wb0, wb1, wb2, wb3);
            acc2b += dot8x4(xa2, xb2, wa4, wa5, wa6, wa7, wb4, wb5, wb6, wb7);
            acc3a += dot8x4(xa3, xb3, wa0, wa1, wa2, wa3, wb0, wb1, wb2, wb3);
            acc3b += dot8x4(xa3, xb3, wa4, wa5, wa6, wa7, wb4, wb5, wb6, wb7);
          }
        } else {
          for (var e = 0u; e < 2u; e++) { // inputs 64g + 32h + 16e .. + 15
            let v0 = Wd[r0 * V32 + g * 4u + h * 2u + e];
            let v1 = Wd[r1 * V32 + g * 4u + h * 2u + e];
            let v2 = Wd[r2 * V32 + g * 4u + h * 2u + e];
            let v3 = Wd[r3 * V32 + g * 4u + h * 2u + e];
            let v4 = Wd[r4 * V32 + g * 4u + h * 2u + e];
            let v5 = Wd[r5 * V32 + g * 4u + h * 2u + e];
            let v6 = Wd[r6 * V32 + g * 4u + h * 2u + e];
            let v7 = Wd[r7 * V32 + g * 4u + h * 2u + e];
            for (var c = 0u; c < 2u; c++) { // inputs 64g + 32h + 16e + 8c .. + 7
              let wa0 = q8(v0[2u * c], sb0);
              let wb0 = q8(v0[2u * c + 1u], sb0);
              let wa1 = q8(v1[2u * c], sb1);
              let wb1 = q8(v1[2u * c + 1u], sb1);
              let wa2 = q8(v2[2u * c], sb2);
              let wb2 = q8(v2[2u * c + 1u], sb2);
              let wa3 = q8(v3[2u * c], sb3);
              let wb3 = q8(v3[2u * c + 1u], sb3);
              let wa4 = q8(v4[2u * c], sb4);
              let wb4 = q8(v4[2u * c + 1u], sb4);
              let wa5 = q8(v5[2u * c], sb5);
              let wb5 = q8(v5[2u * c + 1u], sb5);
              let wa6 = q8(v6[2u * c], sb6);
              let wb6 = q8(v6[2u * c + 1u], sb6);
              let wa7 = q8(v7[2u * c], sb7);
              let wb7 = q8(v7[2u * c + 1u], sb7);
              let k4 = g * 16u + h * 8u + e * 4u + c * 2u;
              let xa0 = X[xr0 + k4];
              let xb0 = X[xr0 + k4 + 1u];
              let xa1 = X[xr1 + k4];
              let xb1 = X[xr1 + k4 + 1u];
              let xa2 = X[xr2 + k4];
              let xb2 = X[xr2 + k4 + 1u];
              let xa3 = X[xr3 + k4];
              let xb3 = X[xr3 + k4 + 1u];
              acc0a += dot8x4(xa0, xb0, wa0, wa1, wa2, wa3, wb0, wb1, wb2, wb3);
              acc0b += dot8x4(xa0, xb0, wa4, wa5, wa6, wa7, wb4, wb5, wb6, wb7);
              acc1a += dot8x4(xa1, xb1, wa0, wa1, wa2, wa3, wb0, wb1, wb2, wb3);
              acc1b += dot8x4(xa1, xb1, wa4, wa5, wa6, wa7, wb4, wb5, wb6, wb7);
              acc2a += dot8x4(xa2, xb2, wa0, wa1, wa2, wa3, wb0, wb1, wb2, wb3);
              acc2b += dot8x4(xa2, xb2, wa4, wa5, wa6, wa7, wb4, wb5, wb6, wb7);
              acc3a += dot8x4(xa3, xb3, wa0, wa1, wa2, wa3, wb0, wb1, wb2, wb3);
              acc3b += dot8x4(xa3, xb3, wa4, wa5, wa6, wa7, wb4, wb5, wb6, wb7);
            }
          }
        }
      }
    }
  }
  store(m0 + 0u, n0, acc0a, acc0b);
  store(m0 + 1u, n0, acc1a, acc1b);
  store(m0 + 2u, n0, acc2a, acc2b);
  store(m0 + 3u, n0, acc3a, acc3b);
}

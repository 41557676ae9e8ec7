// WGSL of the generated variants of the frozen-linear kernels (core/kernels/variants.ts): the subgroup-broadcast and
// workgroup-tiled forms of qlinear.wgsl (Y = alpha·X·W_tileᵀ) and qlinear_t.wgsl (DX = alpha·G·W_tile). They take
// the same bindings and Params as their register-blocked originals, dequantize with the same qlinear_common.wgsl,
// and sum each output in the same order, so they give the same bits:
//   forward: k ascending in steps of 8, acc += dot(x[k..k+3], w[k..k+3]) + dot(x[k+4..k+7], w[k+4..k+7]);
//   backward: k ascending one at a time, acc += g[k] · w[k, c].
// Generated per format (BITS 4 / 8, and 32 for the tiled forms), tile sizes and storage type.
import commonCode from './qlinear_common.wgsl';
import { storagePrelude, type StorageType } from './variants';

export type QBits = 4 | 8 | 32;

function head(st: StorageType, subgroups: boolean): string {
  return `${subgroups ? 'enable subgroups;\n' : ''}${storagePrelude(st)}${commonCode}
override ACCUM: bool = false;
`;
}

const FWD_PARAMS = `struct Params {
  M: u32, N: u32, K: u32, alpha: f32,
  ldy: u32, ycol: u32, yrow0: u32, xrow0: u32,
  nb0: u32,
}`;

const BWD_PARAMS = `struct Params {
  M: u32, N: u32, K: u32, alpha: f32,
  ldg: u32, gcol: u32, grow0: u32, dxrow0: u32,
  nb0: u32,
}`;

const FWD_STORE = `// Y[m, n] = alpha·a (+ bias) (+ Y), for m < M, n < N.
fn store(m: u32, n: u32, a: f32) {
  if (m >= p.M || n >= p.N) { return; }
  var v = p.alpha * a;
  if (BIAS) { v += bias[p.ycol + n]; }
  let idx = (p.yrow0 + m) * p.ldy + p.ycol + n;
  if (ACCUM) { v += f32(Y[idx]); }
  Y[idx] = SF(v);
}`;

const BWD_STORE = `// DX[m, c] = alpha·a (+ DX), for m < M, c < N.
fn store(m: u32, c: u32, a: f32) {
  if (m >= p.M || c >= p.N) { return; }
  var v = p.alpha * a;
  let idx = (p.dxrow0 + m) * p.N + c;
  if (ACCUM) { v += f32(DX[idx]); }
  DX[idx] = SF(v);
}`;

/**
 * Forward, subgroup broadcast. A workgroup is one subgroup of S lanes; lane l owns the NR output rows n0 + j·S + l;
 * the workgroup's MR token rows are shared: per chunk of S inputs, lane l loads X[m, kc + l] and every lane reads the
 * others' with subgroupBroadcast. Per lane and 8 inputs: MR/8·S... one X value per row per S inputs and one weight word
 * per row: far fewer loads per product than reg on adapters where each lane's load is costly (lavapipe).
 * Bindings as qlinear.wgsl but X and Wd scalar: 0 Y, 1 X (SF), 2 Wd (u32), 3 SB (u32), 4 bias, 5 params.
 * Grid (ceil(M/MR), blocks of S·NR rows). int4 / int8 only (K % 64 == 0).
 */
export function qlinearSgSource(bits: 4 | 8, MR: number, NR: number, S: number, st: StorageType): string {
  const L: string[] = [head(st, true), 'override BIAS: bool = false;', FWD_PARAMS, `
@group(0) @binding(0) var<storage, read_write> Y: array<SF>;
@group(0) @binding(1) var<storage, read> X: array<SF>;
@group(0) @binding(2) var<storage, read> Wd: array<u32>;
@group(0) @binding(3) var<storage, read> SB: array<u32>;
@group(0) @binding(4) var<storage, read> bias: array<f32>;
@group(0) @binding(5) var<uniform> p: Params;
`, FWD_STORE, `
@compute @workgroup_size(${S})
fn main(@builtin(subgroup_invocation_id) l: u32, @builtin(workgroup_id) wid: vec3<u32>) {
  let m0 = wid.x * ${MR}u;
  let n0 = (wid.y + p.nb0) * ${S * NR}u;
  let G = p.K / 64u; // groups of 64 inputs
  let W32 = p.K / ${32 / bits}u; // weight words per row`];
  for (let i = 0; i < MR; i++) L.push(`  let xr${i} = (p.xrow0 + min(m0 + ${i}u, p.M - 1u)) * p.K + l;`);
  for (let j = 0; j < NR; j++) L.push(`  let r${j} = min(n0 + ${j * S}u + l, p.N - 1u);`);
  for (let i = 0; i < MR; i++) L.push(`  ${Array.from({ length: NR }, (_, j) => `var a${i}_${j} = 0.0;`).join(' ')}`);
  L.push('  for (var g = 0u; g < G; g++) {');
  for (let j = 0; j < NR; j++) L.push(`    let sb${j} = unpack2x16float(SB[r${j} * G + g]);`);
  L.push(`    for (var c = 0u; c < ${64 / S}u; c++) {`, `      let kc = g * 64u + c * ${S}u;`);
  for (let i = 0; i < MR; i++) L.push(`      let x${i} = f32(X[xr${i} + kc]);`);
  const bc = (v: string, lane: number): string => `subgroupBroadcast(${v}, ${lane}u)`;
  for (let t = 0; t < S / 8; t++) {
    L.push('      {', `        let k8 = kc + ${8 * t}u;`);
    for (let j = 0; j < NR; j++) {
      if (bits === 4) L.push(`        { let q = Wd[r${j} * W32 + k8 / 8u]; let wa = lo4(q, sb${j}); let wb = hi4(q, sb${j});`);
      else L.push(`        { let wa = q8(Wd[r${j} * W32 + k8 / 4u], sb${j}); let wb = q8(Wd[r${j} * W32 + k8 / 4u + 1u], sb${j});`);
      for (let i = 0; i < MR; i++) {
        const xa = `vec4<f32>(${[0, 1, 2, 3].map((q) => bc(`x${i}`, 8 * t + q)).join(', ')})`;
        const xb = `vec4<f32>(${[4, 5, 6, 7].map((q) => bc(`x${i}`, 8 * t + q)).join(', ')})`;
        L.push(`          a${i}_${j} += dot(${xa}, wa) + dot(${xb}, wb);`);
      }
      L.push('        }');
    }
    L.push('      }');
  }
  L.push('    }', '  }');
  for (let i = 0; i < MR; i++) for (let j = 0; j < NR; j++) L.push(`  store(m0 + ${i}u, n0 + ${j * S}u + l, a${i}_${j});`);
  L.push('}');
  return L.join('\n') + '\n';
}

/**
 * Forward, workgroup-tiled: a 16×16 workgroup computes a 64×64 block of Y, 4×4 per invocation; per 32 inputs it
 * stages the X block and the dequantized weight block in workgroup memory (8 KiB each) between two barriers.
 * Bindings as qlinear.wgsl: 0 Y, 1 X (SF4), 2 Wd (u32; vec4<u32> f32 bits for BITS 32), 3 SB, 4 bias, 5 params.
 * Grid (ceil(M/64), blocks of 64 rows). K % 32 == 0.
 */
export function qlinearTiledSource(bits: QBits, st: StorageType): string {
  const wdType = bits === 32 ? 'array<vec4<u32>>' : 'array<u32>';
  const L: string[] = [head(st, false), 'override BIAS: bool = false;', FWD_PARAMS, `
@group(0) @binding(0) var<storage, read_write> Y: array<SF>;
@group(0) @binding(1) var<storage, read> X: array<SF4>;
@group(0) @binding(2) var<storage, read> Wd: ${wdType};
@group(0) @binding(3) var<storage, read> SB: array<u32>;
@group(0) @binding(4) var<storage, read> bias: array<f32>;
@group(0) @binding(5) var<uniform> p: Params;
var<workgroup> xs: array<vec4<f32>, 512>; // [64 rows][8 vec4]: X[m0 + row, k0 + 4q ..]
var<workgroup> ws: array<vec4<f32>, 512>; // [64 rows][8 vec4]: W[n0 + row, k0 + 4q ..]
`, FWD_STORE, `
@compute @workgroup_size(16, 16)
fn main(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(local_invocation_index) li: u32, @builtin(workgroup_id) wid: vec3<u32>) {
  let m0 = wid.x * 64u;
  let n0 = (wid.y + p.nb0) * 64u;
  let K4 = p.K / 4u;
  let G = p.K / 64u;
  let W32 = p.K / ${bits === 32 ? 4 : 32 / bits}u; // weight words (vec4 for BITS 32) per row`];
  for (let i = 0; i < 4; i++) L.push(`  ${Array.from({ length: 4 }, (_, j) => `var a${i}_${j} = 0.0;`).join(' ')}`);
  if (bits === 32) L.push('  _ = arrayLength(&SB); // bound as qlinear.wgsl binds it, unused for f32');
  L.push('  for (var k0 = 0u; k0 < p.K; k0 += 32u) {');
  L.push('    for (var r = 0u; r < 2u; r++) {', '      let idx = li + 256u * r;', '      let row = idx / 8u;', '      let q = idx % 8u;',
    '      xs[idx] = vec4<f32>(X[(p.xrow0 + min(m0 + row, p.M - 1u)) * K4 + k0 / 4u + q]);');
  if (bits === 32) L.push('      ws[idx] = bitcast<vec4<f32>>(Wd[min(n0 + row, p.N - 1u) * W32 + k0 / 4u + q]);');
  if (bits === 8) L.push('      let n = min(n0 + row, p.N - 1u);', '      ws[idx] = q8(Wd[n * W32 + k0 / 4u + q], unpack2x16float(SB[n * G + (k0 + 4u * q) / 64u]));');
  L.push('    }');
  if (bits === 4) {
    L.push('    {', '      let row = li / 4u;', '      let w = li % 4u;', '      let n = min(n0 + row, p.N - 1u);',
      '      let q = Wd[n * W32 + k0 / 8u + w];', '      let sb = unpack2x16float(SB[n * G + (k0 + 8u * w) / 64u]);',
      '      ws[row * 8u + 2u * w] = lo4(q, sb);', '      ws[row * 8u + 2u * w + 1u] = hi4(q, sb);', '    }');
  }
  L.push('    workgroupBarrier();', '    for (var kq = 0u; kq < 4u; kq++) {');
  for (let i = 0; i < 4; i++) L.push(`      let xa${i} = xs[(lid.y * 4u + ${i}u) * 8u + 2u * kq]; let xb${i} = xs[(lid.y * 4u + ${i}u) * 8u + 2u * kq + 1u];`);
  for (let j = 0; j < 4; j++) {
    L.push(`      { let wa = ws[(lid.x * 4u + ${j}u) * 8u + 2u * kq]; let wb = ws[(lid.x * 4u + ${j}u) * 8u + 2u * kq + 1u];`);
    for (let i = 0; i < 4; i++) L.push(`        a${i}_${j} += dot(xa${i}, wa) + dot(xb${i}, wb);`);
    L.push('      }');
  }
  L.push('    }', '    workgroupBarrier();', '  }');
  for (let i = 0; i < 4; i++) for (let j = 0; j < 4; j++) L.push(`  store(m0 + lid.y * 4u + ${i}u, n0 + lid.x * 4u + ${j}u, a${i}_${j});`);
  L.push('}');
  return L.join('\n') + '\n';
}

/**
 * Transposed product, subgroup broadcast. A workgroup is one subgroup; lane l owns the 8-column groups
 * cg = g0 + j·S + l (j < NC) of DX; the MR token rows are shared: per chunk of S weight rows, lane l loads
 * G[m, kc + l] (and, for S = 8, the chunk's scale|bias word of the subgroup's 64 columns), read by every lane with
 * subgroupShuffle. Bindings as qlinear_t.wgsl but G and Wd scalar: 0 DX, 1 G (SF), 2 Wd (u32), 3 SB, 4 params.
 * Grid (ceil(M/MR), blocks of S·NC·8 columns). int4 / int8 only (N % 64 == 0).
 */
export function qlinearTSgSource(bits: 4 | 8, MR: number, NC: number, S: number, st: StorageType): string {
  const shared = S === 8; // the subgroup's 64 columns are one scale group
  const L: string[] = [head(st, true), BWD_PARAMS, `
@group(0) @binding(0) var<storage, read_write> DX: array<SF>;
@group(0) @binding(1) var<storage, read> Gm: array<SF>;
@group(0) @binding(2) var<storage, read> Wd: array<u32>;
@group(0) @binding(3) var<storage, read> SB: array<u32>;
@group(0) @binding(4) var<uniform> p: Params;
`, BWD_STORE, `
@compute @workgroup_size(${S})
fn main(@builtin(subgroup_invocation_id) l: u32, @builtin(workgroup_id) wid: vec3<u32>) {
  let m0 = wid.x * ${MR}u;
  let g0 = (wid.y + p.nb0) * ${S * NC}u; // first 8-column group of the workgroup
  let NG = p.N / 8u; // 8-column groups per row
  let W32 = p.N / ${32 / bits}u; // weight words per row
  let Gs = p.N / 64u; // scale words per row`];
  for (let i = 0; i < MR; i++) L.push(`  let gr${i} = (p.grow0 + min(m0 + ${i}u, p.M - 1u)) * p.ldg + p.gcol;`);
  for (let j = 0; j < NC; j++) L.push(`  let cg${j} = min(g0 + ${j * S}u + l, NG - 1u);`);
  for (let i = 0; i < MR; i++) L.push(`  ${Array.from({ length: NC }, (_, j) => `var a${i}_${j}a = vec4<f32>(0.0); var a${i}_${j}b = vec4<f32>(0.0);`).join(' ')}`);
  L.push(`  for (var kc = 0u; kc < p.K; kc += ${S}u) {`, '    let kl = min(kc + l, p.K - 1u);');
  for (let i = 0; i < MR; i++) L.push(`    let gv${i} = select(0.0, f32(Gm[gr${i} + kl]), kc + l < p.K);`);
  if (shared) for (let j = 0; j < NC; j++) L.push(`    let sv${j} = SB[kl * Gs + min(g0 + ${j * S}u, NG - 1u) / 8u];`);
  L.push(`    for (var kk = 0u; kk < ${S}u; kk++) {`, '      let k = kc + kk;', '      if (k >= p.K) { break; }');
  for (let j = 0; j < NC; j++) {
    const sb = shared ? `subgroupShuffle(sv${j}, kk)` : `SB[k * Gs + cg${j} / 8u]`;
    if (bits === 4) L.push(`      { let sb = unpack2x16float(${sb}); let q = Wd[k * W32 + cg${j}]; let d0 = lo4(q, sb); let d1 = hi4(q, sb);`);
    else L.push(`      { let sb = unpack2x16float(${sb}); let d0 = q8(Wd[k * W32 + 2u * cg${j}], sb); let d1 = q8(Wd[k * W32 + 2u * cg${j} + 1u], sb);`);
    for (let i = 0; i < MR; i++) L.push(`        { let g = subgroupShuffle(gv${i}, kk); a${i}_${j}a += g * d0; a${i}_${j}b += g * d1; }`);
    L.push('      }');
  }
  L.push('    }', '  }');
  for (let i = 0; i < MR; i++) {
    for (let j = 0; j < NC; j++) {
      L.push(`  if (g0 + ${j * S}u + l < NG) { let c = (g0 + ${j * S}u + l) * 8u; for (var t = 0u; t < 4u; t++) { store(m0 + ${i}u, c + t, a${i}_${j}a[t]); store(m0 + ${i}u, c + 4u + t, a${i}_${j}b[t]); } }`);
    }
  }
  L.push('}');
  return L.join('\n') + '\n';
}

/**
 * Transposed product, workgroup-tiled: a 16×16 workgroup computes a 64×64 block of DX (4 rows × 4 columns per
 * invocation); per 32 weight rows it stages G's block (8 KiB) and the dequantized weight block (8 KiB) between two
 * barriers. Bindings as qlinear_t.wgsl: 0 DX, 1 G (SF), 2 Wd (u32; vec4<u32> f32 bits for BITS 32), 3 SB, 4 params.
 * Grid (ceil(M/64), blocks of 64 columns). N % 4 == 0 (f32) or 64 (int8 / int4).
 */
export function qlinearTTiledSource(bits: QBits, st: StorageType): string {
  const wdType = bits === 32 ? 'array<vec4<u32>>' : 'array<u32>';
  const L: string[] = [head(st, false), BWD_PARAMS, `
@group(0) @binding(0) var<storage, read_write> DX: array<SF>;
@group(0) @binding(1) var<storage, read> Gm: array<SF>;
@group(0) @binding(2) var<storage, read> Wd: ${wdType};
@group(0) @binding(3) var<storage, read> SB: array<u32>;
@group(0) @binding(4) var<uniform> p: Params;
var<workgroup> gs: array<f32, 2048>; // [64 rows m][32 k]
var<workgroup> ws: array<vec4<f32>, 512>; // [32 k][16 vec4 of columns]
`, BWD_STORE, `
@compute @workgroup_size(16, 16)
fn main(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(local_invocation_index) li: u32, @builtin(workgroup_id) wid: vec3<u32>) {
  let m0 = wid.x * 64u;
  let c0 = (wid.y + p.nb0) * 64u;
  let W32 = p.N / ${bits === 32 ? 4 : 32 / bits}u; // weight words (vec4 for BITS 32) per row
  let Gs = max(p.N / 64u, 1u);
  var a0 = vec4<f32>(0.0); var a1 = vec4<f32>(0.0); var a2 = vec4<f32>(0.0); var a3 = vec4<f32>(0.0);
  _ = arrayLength(&SB); // bound as qlinear_t.wgsl binds it (unused for f32)
  for (var k0 = 0u; k0 < p.K; k0 += 32u) {
    for (var r = 0u; r < 8u; r++) {
      let idx = li + 256u * r;
      let row = idx / 32u;
      let kk = idx % 32u;
      let k = min(k0 + kk, p.K - 1u);
      gs[idx] = select(0.0, f32(Gm[(p.grow0 + min(m0 + row, p.M - 1u)) * p.ldg + p.gcol + k]), k0 + kk < p.K);
    }`];
  if (bits === 4) {
    L.push('    {', '      let row = li / 8u;', '      let w = li % 8u;', '      let k = min(k0 + row, p.K - 1u);',
      '      let c = min(c0 + 8u * w, p.N - 8u);', '      let q = Wd[k * W32 + c / 8u];', '      let sb = unpack2x16float(SB[k * Gs + c / 64u]);',
      '      ws[row * 16u + 2u * w] = lo4(q, sb);', '      ws[row * 16u + 2u * w + 1u] = hi4(q, sb);', '    }');
  } else {
    L.push('    for (var r = 0u; r < 2u; r++) {', '      let idx = li + 256u * r;', '      let row = idx / 16u;', '      let w = idx % 16u;',
      '      let k = min(k0 + row, p.K - 1u);', '      let c = min(c0 + 4u * w, p.N - 4u);');
    if (bits === 8) L.push('      ws[idx] = q8(Wd[k * W32 + c / 4u], unpack2x16float(SB[k * Gs + c / 64u]));');
    else L.push('      ws[idx] = bitcast<vec4<f32>>(Wd[k * W32 + c / 4u]);');
    L.push('    }');
  }
  L.push(`    workgroupBarrier();
    for (var kk = 0u; kk < 32u; kk++) {
      if (k0 + kk >= p.K) { break; }
      let d = ws[kk * 16u + lid.x];
      a0 += gs[(lid.y * 4u + 0u) * 32u + kk] * d;
      a1 += gs[(lid.y * 4u + 1u) * 32u + kk] * d;
      a2 += gs[(lid.y * 4u + 2u) * 32u + kk] * d;
      a3 += gs[(lid.y * 4u + 3u) * 32u + kk] * d;
    }
    workgroupBarrier();
  }
  let c = c0 + lid.x * 4u;
  for (var t = 0u; t < 4u; t++) {
    store(m0 + lid.y * 4u + 0u, c + t, a0[t]);
    store(m0 + lid.y * 4u + 1u, c + t, a1[t]);
    store(m0 + lid.y * 4u + 2u, c + t, a2[t]);
    store(m0 + lid.y * 4u + 3u, c + t, a3[t]);
  }
}`);
  return L.join('\n') + '\n';
}

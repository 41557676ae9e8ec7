// WGSL of the workgroup-tiled variant of the f32 matmul (core/kernels/variants.ts), the classic GPU GEMM: a 16×16
// workgroup computes a 64×64 block of C, 4×4 per invocation; per 32 steps of k it stages op(A)'s and op(B)'s blocks in
// workgroup memory (8 KiB each) between two barriers. Same bindings, Params and store contract as matmul.wgsl (after
// matmul_common.wgsl), and the same per-output order: k ascending in groups of 4,
//   acc[m, n] += a[m, k]·b[k, n] + a[m, k+1]·b[k+1, n] + a[m, k+2]·b[k+2, n] + a[m, k+3]·b[k+3, n],
// with zeros past K, so it gives matmul.wgsl's bits. Only where the vec4 kernel applies (contiguous dims % 4 == 0).
// Grid (ceil(N/64), ceil(M/64)).
import commonCode from './matmul_common.wgsl';
import { storagePrelude, type StorageType } from './variants';

export function matmulTiledSource(st: StorageType): string {
  return `${storagePrelude(st)}${commonCode}
override TRANS_A: bool = false;
override TRANS_B: bool = false;
override ACCUM: bool = false;
override BIAS: bool = false;

@group(0) @binding(0) var<storage, read_write> C: array<f32>;
@group(0) @binding(1) var<storage, read> A: array<SF4>;
@group(0) @binding(2) var<storage, read> B: array<SF4>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<uniform> p: Params;
var<workgroup> As: array<vec4<f32>, 512>; // [64 rows m][8 groups of 4 k]: op(A)[m0 + row, k0 + 4q ..]
var<workgroup> Bs: array<vec4<f32>, 512>; // [32 k][16 groups of 4 n]: op(B)[k0 + kk, n0 + 4q ..]

@compute @workgroup_size(16, 16)
fn main(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(local_invocation_index) li: u32, @builtin(workgroup_id) wid: vec3<u32>) {
  let n0 = wid.x * 64u;
  let m0 = wid.y * 64u;
  var acc = mat4x4<f32>(vec4<f32>(0.0), vec4<f32>(0.0), vec4<f32>(0.0), vec4<f32>(0.0));
  for (var k0 = 0u; k0 < p.K; k0 += 32u) {
    for (var r = 0u; r < 2u; r++) {
      let idx = li + 256u * r;
      if (TRANS_A) {
        // A is [K, M]: a vec4 along m holds op(A)[m..m+3, k]
        let kk = idx / 16u;
        let mq = idx % 16u;
        let k = k0 + kk;
        let v = select(vec4<f32>(0.0), vec4<f32>(A[(min(k, p.K - 1u) * p.M + min(m0 + 4u * mq, p.M - 4u)) / 4u]), k < p.K);
        for (var t = 0u; t < 4u; t++) { As[(4u * mq + t) * 8u + kk / 4u][kk % 4u] = v[t]; }
      } else {
        let row = idx / 8u;
        let q = idx % 8u;
        let k = k0 + 4u * q;
        As[idx] = select(vec4<f32>(0.0), vec4<f32>(A[(min(m0 + row, p.M - 1u) * p.K + min(k, p.K - 4u)) / 4u]), k < p.K);
      }
      if (TRANS_B) {
        // B is [N, K]: a vec4 along k holds op(B)[k..k+3, n]
        let nn = idx / 8u;
        let q = idx % 8u;
        let k = k0 + 4u * q;
        let v = select(vec4<f32>(0.0), vec4<f32>(B[(min(n0 + nn, p.N - 1u) * p.K + min(k, p.K - 4u)) / 4u]), k < p.K);
        for (var t = 0u; t < 4u; t++) { Bs[(4u * q + t) * 16u + nn / 4u][nn % 4u] = v[t]; }
      } else {
        let kk = idx / 16u;
        let q = idx % 16u;
        let k = k0 + kk;
        Bs[idx] = select(vec4<f32>(0.0), vec4<f32>(B[(min(k, p.K - 1u) * p.N + min(n0 + 4u * q, p.N - 4u)) / 4u]), k < p.K);
      }
    }
    workgroupBarrier();
    for (var q = 0u; q < 8u; q++) {
      if (k0 + 4u * q >= p.K) { break; }
      let b0 = Bs[(4u * q + 0u) * 16u + lid.x];
      let b1 = Bs[(4u * q + 1u) * 16u + lid.x];
      let b2 = Bs[(4u * q + 2u) * 16u + lid.x];
      let b3 = Bs[(4u * q + 3u) * 16u + lid.x];
      for (var i = 0u; i < 4u; i++) {
        let a = As[(lid.y * 4u + i) * 8u + q];
        acc[i] += a.x * b0 + a.y * b1 + a.z * b2 + a.w * b3;
      }
    }
    workgroupBarrier();
  }
  storeBlock(m0 + lid.y * 4u, n0 + lid.x * 4u, acc);
}
`;
}

// matmul_common.wgsl: the prelude shared by the f32 GEMM kernels (matmul.ts prepends it to matmul.wgsl and
// matmul_scalar.wgsl): their Params block and the ONE store of a finished 4×4 block, so both honour the same
// contract C[m, n] = alpha·acc[m, n] (+ bias[n] if BIAS) (+ C[m, n] if ACCUM), in this order, for m < M, n < N.
// No bindings and no entry point here; each kernel declares C, bias and p (this Params) and the overrides ACCUM and
// BIAS.

struct Params { M: u32, N: u32, K: u32, alpha: f32 }

// C[m0+i, n0+j] from acc[i][j], for the rows and columns in range.
fn storeBlock(m0: u32, n0: u32, acc: mat4x4<f32>) {
  for (var i = 0u; i < 4u; i++) {
    let m = m0 + i;
    if (m >= p.M) { break; }
    for (var j = 0u; j < 4u; j++) {
      let n = n0 + j;
      if (n >= p.N) { break; }
      var v = p.alpha * acc[i][j];
      if (BIAS) { v += bias[n]; }
      let idx = m * p.N + n;
      if (ACCUM) { v += C[idx]; }
      C[idx] = v;
    }
  }
}

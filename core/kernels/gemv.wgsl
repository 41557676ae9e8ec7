// gemv.wgsl (after qlinear_common.wgsl): the forward of a frozen linear layer for ONE token, as decoding runs it
// (a matrix-vector product; qlinear.wgsl's register blocks of 4 tokens would be 3/4 idle):
//   y[ycol + n] = alpha · Σ_k x[xoff + k] · W[n, k]  (+ bias[ycol + n] if BIAS)  (+ y[...] if ACCUM)
// for n < N (the tile's rows), k < K. W[n, k] is the tile's f32 value (BITS 32) or, for int8 / int4 (BITS 8 / 4),
// the ONE dequantization of qlinear_common.wgsl (exactly core/common/quant.ts dequantizeRows).
// A workgroup of 64 lanes computes 8 rows, 8 lanes a row: lane j of a row sums the vec4 chunks c ≡ j (mod 8) of the
// row's data in increasing c (a chunk is 4 f32 values, or 16 int8 or 32 int4 values), then the row's 8 partial sums
// are added in order j = 0..7 through workgroup memory. Fixed order: deterministic.
// K must be a multiple of 4 (f32) or of 64 (int8 / int4).
// Bindings: 0 y (rw f32), 1 x (vec4 f32), 2 Wd (the tile's data as vec4<u32>; f32 bits for BITS 32),
//           3 SB (the tile's u32 scale|bias words; a dummy for BITS 32), 4 bias (f32, a dummy when !BIAS), 5 params.
// Dispatch: workgroup 64; grid (number of 8-row blocks in this dispatch); p.nb0 = first block.
override BITS: u32 = 4u;
override ACCUM: bool = false;
override BIAS: bool = false;

struct Params { N: u32, K: u32, alpha: f32, ycol: u32, xoff4: u32, nb0: u32 }

@group(0) @binding(0) var<storage, read_write> Y: array<f32>;
@group(0) @binding(1) var<storage, read> X: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> Wd: array<vec4<u32>>;
@group(0) @binding(3) var<storage, read> SB: array<u32>;
@group(0) @binding(4) var<storage, read> bias: array<f32>;
@group(0) @binding(5) var<uniform> p: Params;

var<workgroup> part: array<f32, 64>;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let r = lid.x / 8u;
  let j = lid.x % 8u;
  let n = (wid.x + p.nb0) * 8u + r;
  let nr = min(n, p.N - 1u); // rows past N compute row N-1 and store nothing
  var acc = 0.0;
  if (BITS == 32u) {
    let C = p.K / 4u; // vec4 chunks per row
    for (var c = j; c < C; c += 8u) {
      acc += dot(X[p.xoff4 + c], bitcast<vec4<f32>>(Wd[nr * C + c]));
    }
  } else if (BITS == 4u) {
    let C = p.K / 32u; // vec4<u32> chunks per row: 32 values each, two per group of 64
    let G = p.K / 64u;
    for (var c = j; c < C; c += 8u) {
      let sb = unpack2x16float(SB[nr * G + c / 2u]);
      let w = Wd[nr * C + c];
      let x0 = p.xoff4 + c * 8u;
      var a = 0.0;
      for (var q = 0u; q < 4u; q++) { // values 32c + 8q .. + 7
        a += dot(X[x0 + 2u * q], lo4(w[q], sb)) + dot(X[x0 + 2u * q + 1u], hi4(w[q], sb));
      }
      acc += a;
    }
  } else {
    let C = p.K / 16u; // vec4<u32> chunks per row: 16 values each, four per group of 64
    let G = p.K / 64u;
    for (var c = j; c < C; c += 8u) {
      let sb = unpack2x16float(SB[nr * G + c / 4u]);
      let w = Wd[nr * C + c];
      let x0 = p.xoff4 + c * 4u;
      acc += dot(X[x0], q8(w[0], sb)) + dot(X[x0 + 1u], q8(w[1], sb)) + dot(X[x0 + 2u], q8(w[2], sb)) + dot(X[x0 + 3u], q8(w[3], sb));
    }
  }
  part[lid.x] = acc;
  workgroupBarrier();
  if (j != 0u || n >= p.N) { return; }
  var s = 0.0;
  for (var i = 0u; i < 8u; i++) { s += part[r * 8u + i]; }
  var v = p.alpha * s;
  if (BIAS) { v += bias[p.ycol + n]; }
  let idx = p.ycol + n;
  if (ACCUM) { v += Y[idx]; }
  Y[idx] = v;
}

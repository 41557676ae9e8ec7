// sumsq.wgsl: out[slot] = Σ_i x[i]² over one tensor (for gradient-norm clipping), in a fixed order: 64 invocations
// each sum a strided share, then a tree reduction in workgroup memory (6 barriers, once per tensor).
// Bindings: 0 out (rw, f32 slots), 1 x, 2 params. Dispatch: one workgroup of 64.
struct Params { n: u32, slot: u32 }

@group(0) @binding(0) var<storage, read_write> out: array<f32>;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<uniform> p: Params;

var<workgroup> part: array<f32, 64>;

@compute @workgroup_size(64)
fn main(@builtin(local_invocation_index) li: u32) {
  var s = 0.0;
  for (var i = li; i < p.n; i += 64u) { s += x[i] * x[i]; }
  part[li] = s;
  workgroupBarrier();
  for (var w = 32u; w > 0u; w >>= 1u) {
    if (li < w) { part[li] += part[li + w]; }
    workgroupBarrier();
  }
  if (li == 0u) { out[p.slot] = part[0]; }
}

// f16.wgsl: f16 storage of f32 values (the `--precision f16` storage of activations, checkpoints and LoRA weights),
// two halves a u32 word, element 2i in the low 16 bits and 2i+1 in the high (little-endian, as an f16 array on the
// host: core/common/half.ts). MODE (compile-time):
//   0  H[i] = pack2x16float(F[2i], F[2i+1])   (an odd N's last word has 0 in its high half)
//   1  F[2i], F[2i+1] = unpack2x16float(H[i]) (F[2i+1] only when 2i+1 < N)
// pack2x16float rounds to a nearest f16 (WGSL leaves ties to the implementation); f16 → f32 is exact. One invocation
// per word; no f16 arithmetic (so `shader-f16` is not needed to store; the f16 kernels that compute need it).
// Bindings: 0 H (ceil(N/2) u32) rw, 1 F (N f32) rw, 2 params.
// Dispatch: workgroup 256; grid core/kernels/grid.ts grid1d(ceil(N/2), 256), i = gid.x + gid.y·nwg.x·256.
override MODE: u32 = 0u;

struct Params { N: u32 }

@group(0) @binding(0) var<storage, read_write> H: array<u32>;
@group(0) @binding(1) var<storage, read_write> F: array<f32>;
@group(0) @binding(2) var<uniform> p: Params;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * 256u;
  let e = 2u * i;
  if (e >= p.N) { return; }
  let two = e + 1u < p.N;
  if (MODE == 1u) {
    let v = unpack2x16float(H[i]);
    F[e] = v.x;
    if (two) { F[e + 1u] = v.y; }
    return;
  }
  var hi = 0.0;
  if (two) { hi = F[e + 1u]; }
  H[i] = pack2x16float(vec2<f32>(F[e], hi));
}

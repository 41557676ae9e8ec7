// rope.wgsl: rotary position embedding in HF's rotate-half form (Qwen2 `apply_rotary_pos_emb`), forward and its
// transpose. For row r = b·T + t (position t), head h, pair j < HS/2, with x1 = x[r, h·HS + j], x2 = x[r, h·HS + j + HS/2],
// c = table[t, j], s = table[t, HS/2 + j]  (table row = [cos(HS/2) | sin(HS/2)], built on the CPU by rope.ts):
//   forward  (x·cos + rotate_half(x)·sin):  out1 = x1·c − x2·s,  out2 = x2·c + x1·s
//   backward (the transpose rotation):      dx1  = d1·c + d2·s,  dx2  = d2·c − d1·s
// One invocation per (row, head, pair): it reads the two values it writes, so in place is safe (IN_PLACE: x is
// out's buffer, bound once read_write; binding 1 is then a dummy).
// Bindings: 0 out (B·T, H·HS) rw, 1 x (B·T, H·HS) (dummy when IN_PLACE), 2 table (T, HS), 3 params.
// Dispatch: workgroup 256; grid core/kernels/grid.ts grid1d(B·T·H·HS/2, 256), i = gid.x + gid.y·nwg.x·256.
override BACKWARD: bool = false;
override IN_PLACE: bool = false;

struct Params { count: u32, T: u32, H: u32, half: u32 }

@group(0) @binding(0) var<storage, read_write> out: array<f32>;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> table: array<f32>;
@group(0) @binding(3) var<uniform> p: Params;

fn load(i: u32) -> f32 {
  if (IN_PLACE) { return out[i]; }
  return x[i];
}

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * 256u;
  if (i >= p.count) { return; }
  let j = i % p.half;
  let q = i / p.half; // row·H + h
  let h = q % p.H;
  let row = q / p.H;
  let t = row % p.T;
  let i1 = (row * p.H + h) * (2u * p.half) + j;
  let i2 = i1 + p.half;
  let c = table[t * 2u * p.half + j];
  let s = table[t * 2u * p.half + p.half + j];
  let a = load(i1);
  let b = load(i2);
  if (BACKWARD) {
    out[i1] = a * c + b * s;
    out[i2] = b * c - a * s;
  } else {
    out[i1] = a * c - b * s;
    out[i2] = b * c + a * s;
  }
}

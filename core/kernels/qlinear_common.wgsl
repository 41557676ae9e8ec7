// qlinear_common.wgsl: the prelude shared by the frozen-linear kernels (linear.ts prepends it to qlinear.wgsl and
// qlinear_t.wgsl): the ONE in-kernel dequantization of packed int8 / int4 weights, so that the forward and the
// backward read the same weight values, f32(f32(scale·q) + bias) with the f16 scale|bias of the value's group of 64,
// exactly as core/common/quant.ts dequantizeRows. int4 packs 8 values per u32 (value i in bits 4i..4i+3), int8 packs
// 4 (value i in bits 8i..8i+7). No bindings and no entry point here.

const SH4A = vec4<u32>(0u, 4u, 8u, 12u);
const SH4B = vec4<u32>(16u, 20u, 24u, 28u);
const SH8 = vec4<u32>(0u, 8u, 16u, 24u);

// Dequantize 4 packed values: f32(f32(scale·q) + bias), as dequantizeRows.
fn deq(q: vec4<u32>, sb: vec2<f32>) -> vec4<f32> {
  return vec4<f32>(q) * sb.x + sb.y;
}

// int4: the 8 weights of one u32 (values 0..3 and 4..7).
fn lo4(q: u32, sb: vec2<f32>) -> vec4<f32> { return deq((vec4<u32>(q) >> SH4A) & vec4<u32>(15u), sb); }
fn hi4(q: u32, sb: vec2<f32>) -> vec4<f32> { return deq((vec4<u32>(q) >> SH4B) & vec4<u32>(15u), sb); }
// int8: the 4 weights of one u32.
fn q8(q: u32, sb: vec2<f32>) -> vec4<f32> { return deq((vec4<u32>(q) >> SH8) & vec4<u32>(255u), sb); }

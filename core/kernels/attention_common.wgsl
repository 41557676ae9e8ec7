// attention_common.wgsl: the prelude shared by every causal-attention kernel (attention.ts prepends it to
// attention_fwd.wgsl, attention_stats.wgsl, attention_dq.wgsl and attention_dkdv.wgsl). It holds the Params block
// and the ONE definition of a score and of a probability, so that the P the forward writes and the P the backward
// recomputes (MeSP keeps only lse) are the same bits: score[t,s] = (Σ_i q[t]·k[s] over vec4 chunks i, in order)·scale,
// P[t,s] = exp(score[t,s] − lse[t]). Follows HF Qwen2Attention (eager): softmax(q·kᵀ/sqrt(HS) + causal mask) in f32.
// Every kernel keeps one row (HS floats) per invocation in private arrays of MAX_HS4 vec4: HS ≤ 4·MAX_HS4 = 128.
// No bindings and no entry point here; each kernel declares `p` (this Params) at its own binding.

const MAX_HS4: u32 = 32u;

struct Params {
  T: u32,     // tokens per row (sequence)
  NH: u32,    // query heads
  NKV: u32,   // key/value heads
  HS4: u32,   // head size / 4
  G: u32,     // NH / NKV: query heads per kv head
  scale: f32, // 1 / sqrt(HS)
  R: u32,     // B*T*NH: (token, query head) rows, for attention_stats.wgsl
}

// One step of the q·k dot product over a vec4 chunk. Always called as qkStep(acc, q chunk, k chunk).
fn qkStep(acc: f32, qv: vec4<f32>, kv: vec4<f32>) -> f32 {
  return acc + dot(qv, kv);
}

// The score from the finished dot product.
fn scoreOf(qk: f32) -> f32 {
  return qk * p.scale;
}

// The softmax probability from a score and its row's log-sum-exp.
fn probOf(score: f32, lse: f32) -> f32 {
  return exp(score - lse);
}

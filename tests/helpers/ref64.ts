// An independent float64 Qwen2 (HF Qwen2ForCausalLM semantics) with LoRA, for tests: a small reverse-mode tape over
// whole-tensor ops, each with its own vector-Jacobian product. It shares no code with the engine: it reads HF tensors
// by name and computes the mean next-token cross-entropy over unmasked labels, and the gradients of the LoRA A and B.
// Its VJPs are checked against central finite differences in tests/unit/ref64.test.ts.

export type F64 = Float64Array;

export interface Ref64Config {
  hidden: number;
  intermediate: number;
  layers: number;
  heads: number;
  kvHeads: number;
  vocab: number;
  eps: number;
  ropeTheta: number;
  tied: boolean;
}

/** A PEFT-style adapter: A (r, in), B (out, r) per "l.proj" key, e.g. "0.q". */
export interface Ref64Lora {
  rank: number;
  alpha: number;
  A: Map<string, F64>;
  B: Map<string, F64>;
}

class Node {
  grad: F64 | null = null;
  constructor(
    readonly v: F64,
    readonly back: ((g: F64) => void) | null = null,
  ) {}
  addGrad(g: F64): void {
    if (!this.grad) this.grad = new Float64Array(g.length);
    for (let i = 0; i < g.length; i++) this.grad[i] += g[i];
  }
}

class Tape {
  nodes: Node[] = [];
  leaf(v: F64): Node {
    const n = new Node(v);
    this.nodes.push(n);
    return n;
  }
  op(v: F64, back: (g: F64) => void): Node {
    const n = new Node(v, back);
    this.nodes.push(n);
    return n;
  }
  backward(root: Node): void {
    root.grad = Float64Array.of(1);
    for (let i = this.nodes.length - 1; i >= 0; i--) {
      const n = this.nodes[i];
      if (n.back && n.grad) n.back(n.grad);
    }
  }
}

// y (n, out) = x (n, in) · Wᵀ, W (out, in)
function linear(tp: Tape, x: Node, W: Node, n: number, inF: number, outF: number): Node {
  const y = new Float64Array(n * outF);
  for (let i = 0; i < n; i++)
    for (let o = 0; o < outF; o++) {
      let s = 0;
      for (let k = 0; k < inF; k++) s += x.v[i * inF + k] * W.v[o * inF + k];
      y[i * outF + o] = s;
    }
  return tp.op(y, (g) => {
    const gx = new Float64Array(n * inF);
    const gW = new Float64Array(outF * inF);
    for (let i = 0; i < n; i++)
      for (let o = 0; o < outF; o++) {
        const gv = g[i * outF + o];
        if (gv === 0) continue;
        for (let k = 0; k < inF; k++) {
          gx[i * inF + k] += gv * W.v[o * inF + k];
          gW[o * inF + k] += gv * x.v[i * inF + k];
        }
      }
    x.addGrad(gx);
    W.addGrad(gW);
  });
}

function add(tp: Tape, a: Node, b: Node): Node {
  const y = a.v.map((v, i) => v + b.v[i]);
  return tp.op(y, (g) => {
    a.addGrad(g);
    b.addGrad(g);
  });
}

function scale(tp: Tape, a: Node, s: number): Node {
  return tp.op(a.v.map((v) => v * s), (g) => a.addGrad(g.map((v) => v * s)));
}

// y (n, f) = x + bias (f)
function addBias(tp: Tape, x: Node, bias: Node, n: number, f: number): Node {
  const y = x.v.map((v, i) => v + bias.v[i % f]);
  return tp.op(y, (g) => {
    x.addGrad(g);
    const gb = new Float64Array(f);
    for (let i = 0; i < n * f; i++) gb[i % f] += g[i];
    bias.addGrad(gb);
  });
}

// y = w ⊙ x / sqrt(mean(x²) + eps), per row of c
function rmsnorm(tp: Tape, x: Node, w: Node, n: number, c: number, eps: number): Node {
  const y = new Float64Array(n * c);
  const r = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let ss = 0;
    for (let k = 0; k < c; k++) ss += x.v[i * c + k] ** 2;
    r[i] = 1 / Math.sqrt(ss / c + eps);
    for (let k = 0; k < c; k++) y[i * c + k] = w.v[k] * x.v[i * c + k] * r[i];
  }
  return tp.op(y, (g) => {
    const gx = new Float64Array(n * c);
    const gw = new Float64Array(c);
    for (let i = 0; i < n; i++) {
      // y_k = w_k x_k r, r = (Σx²/c + eps)^(-1/2): dr/dx_j = -r³ x_j / c
      let dot = 0;
      for (let k = 0; k < c; k++) dot += g[i * c + k] * w.v[k] * x.v[i * c + k];
      for (let j = 0; j < c; j++) {
        gx[i * c + j] = g[i * c + j] * w.v[j] * r[i] - (r[i] ** 3 * x.v[i * c + j] * dot) / c;
        gw[j] += g[i * c + j] * x.v[i * c + j] * r[i];
      }
    }
    x.addGrad(gx);
    w.addGrad(gw);
  });
}

// HF rotate-half RoPE on (n = b·t, heads·hs); position = index within the row of length t
function rope(tp: Tape, x: Node, b: number, t: number, heads: number, hs: number, theta: number): Node {
  const half = hs / 2;
  const cos = new Float64Array(t * half);
  const sin = new Float64Array(t * half);
  for (let p = 0; p < t; p++)
    for (let i = 0; i < half; i++) {
      const invFreq = Math.fround(1 / Math.pow(theta, (2 * i) / hs));
      const ang = Math.fround(p * invFreq);
      cos[p * half + i] = Math.cos(ang);
      sin[p * half + i] = Math.sin(ang);
    }
  const apply = (src: F64, sign: number): F64 => {
    const out = new Float64Array(src.length);
    for (let r = 0; r < b * t; r++) {
      const p = r % t;
      for (let h = 0; h < heads; h++) {
        const base = r * heads * hs + h * hs;
        for (let i = 0; i < half; i++) {
          const c = cos[p * half + i];
          const s = sign * sin[p * half + i];
          const x1 = src[base + i];
          const x2 = src[base + half + i];
          out[base + i] = x1 * c - x2 * s;
          out[base + half + i] = x2 * c + x1 * s;
        }
      }
    }
    return out;
  };
  return tp.op(apply(x.v, 1), (g) => x.addGrad(apply(g, -1)));
}

// causal GQA attention within each of b rows; q (n, nh·hs), k/v (n, nkv·hs)
function attention(tp: Tape, q: Node, k: Node, v: Node, b: number, t: number, nh: number, nkv: number, hs: number): Node {
  const grp = nh / nkv;
  const sc = 1 / Math.sqrt(hs);
  const P = new Float64Array(b * nh * t * t);
  const out = new Float64Array(b * t * nh * hs);
  const qi = (r: number, h: number, d: number) => (r * nh + h) * hs + d;
  const ki = (r: number, h: number, d: number) => (r * nkv + h) * hs + d;
  for (let bb = 0; bb < b; bb++)
    for (let h = 0; h < nh; h++) {
      const kh = Math.floor(h / grp);
      for (let i = 0; i < t; i++) {
        const row = new Float64Array(i + 1);
        let mx = -Infinity;
        for (let j = 0; j <= i; j++) {
          let s = 0;
          for (let d = 0; d < hs; d++) s += q.v[qi(bb * t + i, h, d)] * k.v[ki(bb * t + j, kh, d)];
          row[j] = s * sc;
          mx = Math.max(mx, row[j]);
        }
        let z = 0;
        for (let j = 0; j <= i; j++) z += Math.exp(row[j] - mx);
        for (let j = 0; j <= i; j++) {
          const p = Math.exp(row[j] - mx) / z;
          P[((bb * nh + h) * t + i) * t + j] = p;
          for (let d = 0; d < hs; d++) out[qi(bb * t + i, h, d)] += p * v.v[ki(bb * t + j, kh, d)];
        }
      }
    }
  return tp.op(out, (g) => {
    const gq = new Float64Array(q.v.length);
    const gk = new Float64Array(k.v.length);
    const gv = new Float64Array(v.v.length);
    for (let bb = 0; bb < b; bb++)
      for (let h = 0; h < nh; h++) {
        const kh = Math.floor(h / grp);
        for (let i = 0; i < t; i++) {
          const dP = new Float64Array(i + 1);
          let dot = 0;
          for (let j = 0; j <= i; j++) {
            const p = P[((bb * nh + h) * t + i) * t + j];
            let s = 0;
            for (let d = 0; d < hs; d++) {
              s += g[qi(bb * t + i, h, d)] * v.v[ki(bb * t + j, kh, d)];
              gv[ki(bb * t + j, kh, d)] += p * g[qi(bb * t + i, h, d)];
            }
            dP[j] = s;
            dot += p * s;
          }
          for (let j = 0; j <= i; j++) {
            const dS = P[((bb * nh + h) * t + i) * t + j] * (dP[j] - dot) * sc;
            for (let d = 0; d < hs; d++) {
              gq[qi(bb * t + i, h, d)] += dS * k.v[ki(bb * t + j, kh, d)];
              gk[ki(bb * t + j, kh, d)] += dS * q.v[qi(bb * t + i, h, d)];
            }
          }
        }
      }
    q.addGrad(gq);
    k.addGrad(gk);
    v.addGrad(gv);
  });
}

// silu(gate) ⊙ up
function swiglu(tp: Tape, gate: Node, up: Node): Node {
  const sig = gate.v.map((x) => 1 / (1 + Math.exp(-x)));
  const y = gate.v.map((x, i) => x * sig[i] * up.v[i]);
  return tp.op(y, (g) => {
    gate.addGrad(g.map((gv, i) => gv * up.v[i] * sig[i] * (1 + gate.v[i] * (1 - sig[i]))));
    up.addGrad(g.map((gv, i) => gv * gate.v[i] * sig[i]));
  });
}

function embedding(tp: Tape, table: Node, ids: ArrayLike<number>, c: number): Node {
  const y = new Float64Array(ids.length * c);
  for (let i = 0; i < ids.length; i++) for (let k = 0; k < c; k++) y[i * c + k] = table.v[ids[i] * c + k];
  return tp.op(y, (g) => {
    const gt = new Float64Array(table.v.length);
    for (let i = 0; i < ids.length; i++) for (let k = 0; k < c; k++) gt[ids[i] * c + k] += g[i * c + k];
    table.addGrad(gt);
  });
}

// mean over unmasked targets of −log softmax(logits)[target]; logits (n, V)
function crossEntropy(tp: Tape, logits: Node, targets: ArrayLike<number>, V: number): Node {
  const n = targets.length;
  let count = 0;
  for (let i = 0; i < n; i++) if (targets[i] !== -100) count++;
  let total = 0;
  const probs = new Float64Array(n * V);
  for (let i = 0; i < n; i++) {
    if (targets[i] === -100) continue;
    let mx = -Infinity;
    for (let j = 0; j < V; j++) mx = Math.max(mx, logits.v[i * V + j]);
    let z = 0;
    for (let j = 0; j < V; j++) z += Math.exp(logits.v[i * V + j] - mx);
    for (let j = 0; j < V; j++) probs[i * V + j] = Math.exp(logits.v[i * V + j] - mx) / z;
    total += Math.log(z) + mx - logits.v[i * V + targets[i]];
  }
  return tp.op(Float64Array.of(total / count), (g) => {
    const gl = new Float64Array(n * V);
    for (let i = 0; i < n; i++) {
      if (targets[i] === -100) continue;
      for (let j = 0; j < V; j++) gl[i * V + j] = (g[0] * (probs[i * V + j] - (j === targets[i] ? 1 : 0))) / count;
    }
    logits.addGrad(gl);
  });
}

export interface Ref64Result {
  loss: number;
  /** dLoss/dA and dLoss/dB per "l.proj" key (only when a LoRA was given). */
  gradA: Map<string, F64>;
  gradB: Map<string, F64>;
  /** The logits (n, V) of the forward. */
  logits: F64;
}

/**
 * Loss (and LoRA gradients) of B rows of T tokens. `targets` are next-token targets aligned with `ids`
 * (targets[t] = label of token t+1, −100 masked).
 */
export function ref64(
  cfg: Ref64Config,
  weights: Map<string, ArrayLike<number>>,
  ids: ArrayLike<number>,
  targets: ArrayLike<number>,
  b: number,
  t: number,
  lora: Ref64Lora | null = null,
  withGrad = false,
): Ref64Result {
  const tp = new Tape();
  const W = (name: string): Node => {
    const w = weights.get(name);
    if (!w) throw new Error(`ref64: missing ${name}`);
    return tp.leaf(Float64Array.from(w));
  };
  const C = cfg.hidden;
  const hs = C / cfg.heads;
  const n = b * t;
  const loraA = new Map<string, Node>();
  const loraB = new Map<string, Node>();
  const proj = (x: Node, l: number, p: string, name: string, inF: number, outF: number): Node => {
    let y = linear(tp, x, W(`${name}.weight`), n, inF, outF);
    const key = `${l}.${p}`;
    if (lora && lora.A.has(key)) {
      const A = tp.leaf(Float64Array.from(lora.A.get(key)!));
      const Bm = tp.leaf(Float64Array.from(lora.B.get(key)!));
      loraA.set(key, A);
      loraB.set(key, Bm);
      const h = linear(tp, x, A, n, inF, lora.rank);
      y = add(tp, y, scale(tp, linear(tp, h, Bm, n, lora.rank, outF), lora.alpha / lora.rank));
    }
    return y;
  };
  const embed = W('model.embed_tokens.weight');
  let x = embedding(tp, embed, ids, C);
  for (let l = 0; l < cfg.layers; l++) {
    const pre = `model.layers.${l}`;
    const a1 = rmsnorm(tp, x, W(`${pre}.input_layernorm.weight`), n, C, cfg.eps);
    const qDim = cfg.heads * hs;
    const kvDim = cfg.kvHeads * hs;
    let q = addBias(tp, proj(a1, l, 'q', `${pre}.self_attn.q_proj`, C, qDim), W(`${pre}.self_attn.q_proj.bias`), n, qDim);
    let k = addBias(tp, proj(a1, l, 'k', `${pre}.self_attn.k_proj`, C, kvDim), W(`${pre}.self_attn.k_proj.bias`), n, kvDim);
    const v = addBias(tp, proj(a1, l, 'v', `${pre}.self_attn.v_proj`, C, kvDim), W(`${pre}.self_attn.v_proj.bias`), n, kvDim);
    q = rope(tp, q, b, t, cfg.heads, hs, cfg.ropeTheta);
    k = rope(tp, k, b, t, cfg.kvHeads, hs, cfg.ropeTheta);
    const att = attention(tp, q, k, v, b, t, cfg.heads, cfg.kvHeads, hs);
    const x2 = add(tp, x, proj(att, l, 'o', `${pre}.self_attn.o_proj`, qDim, C));
    const a2 = rmsnorm(tp, x2, W(`${pre}.post_attention_layernorm.weight`), n, C, cfg.eps);
    const gate = proj(a2, l, 'gate', `${pre}.mlp.gate_proj`, C, cfg.intermediate);
    const up = proj(a2, l, 'up', `${pre}.mlp.up_proj`, C, cfg.intermediate);
    x = add(tp, x2, proj(swiglu(tp, gate, up), l, 'down', `${pre}.mlp.down_proj`, cfg.intermediate, C));
  }
  const xf = rmsnorm(tp, x, W('model.norm.weight'), n, C, cfg.eps);
  const head = cfg.tied ? embed : W('lm_head.weight');
  const logits = linear(tp, xf, head, n, C, cfg.vocab);
  const loss = crossEntropy(tp, logits, targets, cfg.vocab);
  const gradA = new Map<string, F64>();
  const gradB = new Map<string, F64>();
  if (withGrad) {
    tp.backward(loss);
    for (const [key, node] of loraA) gradA.set(key, node.grad ?? new Float64Array(node.v.length));
    for (const [key, node] of loraB) gradB.set(key, node.grad ?? new Float64Array(node.v.length));
  }
  return { loss: loss.v[0], gradA, gradB, logits: logits.v };
}

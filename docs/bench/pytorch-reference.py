#!/usr/bin/python3
"""PyTorch reference timing for one LoRA fine-tuning step, to compare with `mesp bench` on the same CPU.

It builds a Qwen2.5 decoder from shape numbers alone (random frozen float32 weights, seeded; nothing is downloaded),
puts rank-8 LoRA adapters on all seven projections, and times full SGD steps (forward + backward + update) on one
random sequence with per-layer activation checkpointing, as MeSP's step is scheduled. The model follows HF
transformers' Qwen2 modeling (modeling_qwen2.py: RMSNorm, q/k/v with bias, o/gate/up/down without, RoPE with
rotate_half, GQA by repeating KV heads, SwiGLU MLP, causal attention, final norm, tied LM head), read to learn and
written here, not copied. LoRA follows PEFT's form: y = W x + b + (alpha / r) * B (A x).

This file is a measurement tool outside the project, not a dependency: MeSP Studio never imports or runs it.
Needs Python 3 and PyTorch only (Debian bookworm: `apt-get install python3-torch`, 1.13.1). Run from the repo root:

    /usr/bin/python3 docs/bench/pytorch-reference.py --shape qwen2.5-0.5b --seq-len 256 --rank 8 --steps 3 --threads 2 --json /tmp/pytorch-0.5b.json

(`--shape tiny --steps 2` is a quick check. /usr/bin/python3 because Debian's torch is installed for the system Python.)
Peak RSS counts what glibc keeps of freed memory, too (often GBs here); prefix MALLOC_MMAP_THRESHOLD_=65536 to see
closer to the live tensors. Debian's torch calls whichever libblas.so.3 is selected (reference BLAS unless OpenBLAS or
BLIS is installed); the script prints the library it mapped.
"""
import argparse, json, math, os, resource, statistics, sys, time
import torch
import torch.nn.functional as F
from torch.utils.checkpoint import checkpoint

# hidden, intermediate, layers, heads, kv_heads, vocab; all tied (the LM head is the embedding matrix).
SHAPES = {
    'tiny': (64, 128, 2, 4, 2, 512),
    'qwen2.5-0.5b': (896, 4864, 24, 14, 2, 151936),
    'qwen2.5-1.5b': (1536, 8960, 28, 12, 2, 151936),
    'qwen2.5-3b': (2048, 11008, 36, 16, 2, 151936),
}
ROPE_THETA, RMS_EPS, INIT_STD, LORA_ALPHA, LR, SEED = 1e6, 1e-6, 0.02, 16.0, 1e-4, 0
PROJ = ('q', 'k', 'v', 'o', 'gate', 'up', 'down')


def build(shape, rank):
    """Frozen weights and LoRA params of a random Qwen2 model. Batch is 1, so activations are (T, C)."""
    C, I, L, H, KV, V = SHAPES[shape]
    D = C // H
    g = torch.Generator().manual_seed(SEED)
    randn = lambda *s, std=INIT_STD: torch.randn(*s, generator=g) * std
    dims = {'q': (H * D, C), 'k': (KV * D, C), 'v': (KV * D, C), 'o': (C, H * D),
            'gate': (I, C), 'up': (I, C), 'down': (C, I)}  # (out, in) as nn.Linear stores it
    with torch.no_grad():
        embed = randn(V, C)  # (V, C), tied LM head
        layers, lora = [], []
        for _ in range(L):
            w = {p: randn(*dims[p]) for p in PROJ}
            w.update(qb=randn(H * D), kb=randn(KV * D), vb=randn(KV * D))  # (H*D,), (KV*D,), (KV*D,)
            w.update(ln1=torch.ones(C), ln2=torch.ones(C))  # (C,) RMSNorm weights, HF's init
            layers.append(w)
            # A (r, in) and B (out, r) both small and nonzero so every gradient flows from step 0.
            lora.append({p: (randn(rank, dims[p][1], std=0.01).requires_grad_(),
                             randn(dims[p][0], rank, std=0.01).requires_grad_()) for p in PROJ})
        final_norm = torch.ones(C)  # (C,)
    return dict(C=C, I=I, L=L, H=H, KV=KV, V=V, D=D, embed=embed, layers=layers, lora=lora, norm=final_norm)


def rms_norm(x, w):  # x (T, C), w (C,)
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + RMS_EPS) * w


def lora_linear(x, w, bias, ab, scale):  # x (T, in), w (out, in), ab = (A (r, in), B (out, r)) -> (T, out)
    a, b = ab
    return F.linear(x, w, bias) + scale * F.linear(F.linear(x, a), b)  # inner: (T, r)


def rope_tables(T, D):  # -> cos, sin (T, D), HF's layout: frequencies repeated for the two halves
    inv_freq = 1.0 / (ROPE_THETA ** (torch.arange(0, D, 2, dtype=torch.float32) / D))  # (D/2,)
    freqs = torch.outer(torch.arange(T, dtype=torch.float32), inv_freq)  # (T, D/2)
    emb = torch.cat([freqs, freqs], dim=-1)  # (T, D)
    return emb.cos(), emb.sin()


def rotate_half(x):  # x (heads, T, D)
    x1, x2 = x.chunk(2, dim=-1)
    return torch.cat([-x2, x1], dim=-1)


def decoder_layer(x, w, ab, m, cos, sin, mask, scale):  # x (T, C) -> (T, C)
    T, H, KV, D = x.shape[0], m['H'], m['KV'], m['D']
    h = rms_norm(x, w['ln1'])  # (T, C)
    q = lora_linear(h, w['q'], w['qb'], ab['q'], scale).view(T, H, D).transpose(0, 1)  # (H, T, D)
    k = lora_linear(h, w['k'], w['kb'], ab['k'], scale).view(T, KV, D).transpose(0, 1)  # (KV, T, D)
    v = lora_linear(h, w['v'], w['vb'], ab['v'], scale).view(T, KV, D).transpose(0, 1)  # (KV, T, D)
    q, k = q * cos + rotate_half(q) * sin, k * cos + rotate_half(k) * sin
    k, v = k.repeat_interleave(H // KV, dim=0), v.repeat_interleave(H // KV, dim=0)  # (H, T, D), HF's repeat_kv
    s = q @ k.transpose(1, 2) / math.sqrt(D) + mask  # (H, T, T)
    att = (torch.softmax(s, dim=-1) @ v).transpose(0, 1).reshape(T, H * D)  # (T, H*D)
    x = x + lora_linear(att, w['o'], None, ab['o'], scale)  # (T, C)
    h = rms_norm(x, w['ln2'])  # (T, C)
    gate = lora_linear(h, w['gate'], None, ab['gate'], scale)  # (T, I)
    up = lora_linear(h, w['up'], None, ab['up'], scale)  # (T, I)
    return x + lora_linear(F.silu(gate) * up, w['down'], None, ab['down'], scale)  # (T, C)


def loss_fn(m, ids, scale):  # ids (T,) -> scalar next-token cross-entropy over T-1 targets
    T = ids.shape[0]
    cos, sin = rope_tables(T, m['D'])  # (T, D)
    mask = torch.full((T, T), float('-inf')).triu(1)  # (T, T), 0 on and below the diagonal
    x = F.embedding(ids, m['embed'])  # (T, C)
    for w, ab in zip(m['layers'], m['lora']):
        # Only the layer's input is saved; its activations are recomputed in backward (per-layer checkpointing).
        x = checkpoint(decoder_layer, x, w, ab, m, cos, sin, mask, scale, use_reentrant=False)
    logits = rms_norm(x, m['norm']) @ m['embed'].t()  # (T, V)
    return F.cross_entropy(logits[:-1], ids[1:])


def flop_estimate(m, T, r):
    """Matmul FLOPs of one step, counted from shapes (an estimate: elementwise ops are left out). Layers run forward
    twice (checkpoint recompute) plus the input-gradient backward (frozen weights need no weight gradient); attention's
    and LoRA's backward cost two forwards each (both operands need a gradient); the tied head runs forward + dX."""
    C, I, H, KV, D, V = m['C'], m['I'], m['H'], m['KV'], m['D'], m['V']
    proj = [(H * D, C), (KV * D, C), (KV * D, C), (C, H * D), (I, C), (I, C), (C, I)]  # (out, in)
    frozen = 2 * T * sum(o * i for o, i in proj)
    lora = 2 * T * r * sum(o + i for o, i in proj)
    attn = 4 * T * T * D * H
    return m['L'] * (3 * frozen + 4 * lora + 4 * attn) + 2 * (2 * T * V * C)


def blas_library():  # the BLAS shared library this process actually mapped (Debian switches it by alternatives)
    with open('/proc/self/maps') as f:
        libs = {os.path.realpath(l.split()[-1]) for l in f if 'blas' in l.rsplit('/', 1)[-1]}
    return ', '.join(sorted(libs)) or 'none mapped'


def main():
    ap = argparse.ArgumentParser(description='Time LoRA SGD steps of a random Qwen2.5 model in PyTorch (CPU).')
    ap.add_argument('--shape', default='qwen2.5-0.5b', choices=sorted(SHAPES))
    ap.add_argument('--seq-len', type=int, default=256)
    ap.add_argument('--rank', type=int, default=8)
    ap.add_argument('--steps', type=int, default=3)
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--json', metavar='PATH', help='write the results as JSON to PATH')
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(SEED)

    config = [l.strip() for l in torch.__config__.show().splitlines() if l.strip()]
    config_line = '; '.join(l.lstrip('- ') for l in config[1:7])
    blas_info = next((p for p in torch.__config__.show().replace(',', ' ').split() if p.startswith('BLAS_INFO=')), 'BLAS_INFO=?')
    t0 = time.perf_counter()
    m = build(args.shape, args.rank)
    build_s = time.perf_counter() - t0
    mb = lambda kib: kib * 1024 / 1e6  # ru_maxrss is KiB on Linux; MB = 10^6 bytes
    build_rss_mb = mb(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
    scale = LORA_ALPHA / args.rank
    lora_params = [t for ab in m['lora'] for pair in ab.values() for t in pair]
    opt = torch.optim.SGD(lora_params, lr=LR)
    ids = torch.randint(0, m['V'], (args.seq_len,), generator=torch.Generator().manual_seed(SEED + 1))  # (T,)
    print(f'torch {torch.__version__}, python {sys.version.split()[0]}')
    print(f'config: {config_line}')
    print(f'threads: {torch.get_num_threads()} (requested {args.threads}); {blas_info}')
    print(f'shape {args.shape}: hidden {m["C"]}, intermediate {m["I"]}, layers {m["L"]}, heads {m["H"]}, '
          f'kv_heads {m["KV"]}, head_dim {m["D"]}, vocab {m["V"]}, tied; seq {args.seq_len}, batch 1, rank {args.rank}, '
          f'alpha {LORA_ALPHA:g}, targets {",".join(PROJ)}, SGD lr {LR:g}, per-layer checkpointing, float32')
    print(f'LoRA params: {sum(t.numel() for t in lora_params)}; built in {build_s:.1f} s, peak RSS {build_rss_mb:.1f} MB')

    steps = []
    for step in range(args.steps):
        t0 = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(m, ids, scale)
        loss.backward()
        grad_norm = math.sqrt(sum(float(t.grad.pow(2).sum()) for t in lora_params))
        zero_grads = sum(int(not bool(t.grad.abs().max() > 0)) for t in lora_params)
        opt.step()
        dt = time.perf_counter() - t0
        steps.append(dict(step=step, seconds=dt, loss=float(loss), grad_norm=grad_norm, zero_grad_tensors=zero_grads))
        print(f'step {step}: {dt:.3f} s, loss {float(loss):.6f} (ln vocab {math.log(m["V"]):.6f}), '
              f'LoRA grad norm {grad_norm:.3e}, all-zero grad tensors {zero_grads}/{len(lora_params)}', flush=True)

    median = statistics.median(s['seconds'] for s in steps)
    gflop = flop_estimate(m, args.seq_len, args.rank) / 1e9
    rss_mb = mb(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
    blas = blas_library()  # read after the steps: the library is mapped only once a BLAS call has run
    print(f'BLAS library mapped: {blas}')
    print(f'median step: {median:.3f} s, {args.seq_len / median:.1f} tokens/s; '
          f'GFLOP/step (estimate, matmuls only): {gflop:.1f}, {gflop / median:.2f} GFLOP/s; peak RSS {rss_mb:.1f} MB '
          f'({build_rss_mb:.1f} MB after building the weights)')
    if args.json:
        out = dict(tool='docs/bench/pytorch-reference.py', torch=torch.__version__, config=config, blas_info=blas_info,
                   blas_library=blas, threads=torch.get_num_threads(), shape=args.shape, seq_len=args.seq_len, batch=1,
                   rank=args.rank, alpha=LORA_ALPHA, targets=list(PROJ), lr=LR, seed=SEED, build_seconds=build_s,
                   steps=steps, median_step_seconds=median, tokens_per_second=args.seq_len / median,
                   gflop_per_step_estimate=gflop, peak_rss_mb=rss_mb,
                   peak_rss_after_build_mb=build_rss_mb, malloc_mmap_threshold=os.environ.get('MALLOC_MMAP_THRESHOLD_'))
        tmp = args.json + '.tmp'
        with open(tmp, 'w') as f:
            json.dump(out, f, indent=2)
        os.replace(tmp, args.json)  # no half-written file if interrupted
        print(f'wrote {args.json}')


if __name__ == '__main__':
    main()

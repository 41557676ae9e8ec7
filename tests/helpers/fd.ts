// Central finite differences for backward-kernel tests: the derivative of L(x) = Σ_k dout_k·f(x)_k along one
// coordinate of x, with the forward f computed on the CPU in float64, so the check is independent of the
// hand-derived reference derivative.

/** ∂/∂x_i Σ_k dout_k·f(x)_k ≈ (L(x + h·e_i) − L(x − h·e_i)) / 2h. */
export function fdGrad(
  f: (x: Float64Array) => ArrayLike<number>,
  x: ArrayLike<number>,
  dout: ArrayLike<number>,
  i: number,
  h = 1e-5,
): number {
  const xp = Float64Array.from(x);
  const loss = (): number => {
    const y = f(xp);
    let s = 0;
    for (let k = 0; k < dout.length; k++) s += dout[k] * y[k];
    return s;
  };
  const x0 = xp[i];
  xp[i] = x0 + h;
  const lp = loss();
  xp[i] = x0 - h;
  const lm = loss();
  return (lp - lm) / (2 * h);
}

/** A few coordinates spread over [0, n): first, last and some in between (deterministic). */
export function probeIndices(n: number, count = 6): number[] {
  const out = new Set<number>([0, n - 1]);
  for (let k = 1; out.size < Math.min(count, n); k++) out.add(Math.floor((n * k * 0.618034) % n));
  return [...out];
}

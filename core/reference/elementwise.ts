// CPU reference for core/kernels/elementwise (add, y += alpha·x, y *= alpha), in float64.

export function addRef(out: Float64Array | Float32Array, a: ArrayLike<number>, b: ArrayLike<number>, N: number): void {
  for (let i = 0; i < N; i++) out[i] = a[i] + b[i];
}

export function addInPlaceRef(y: Float64Array | Float32Array, x: ArrayLike<number>, N: number, alpha = 1): void {
  for (let i = 0; i < N; i++) y[i] = y[i] + alpha * x[i];
}

export function scaleInPlaceRef(y: Float64Array | Float32Array, N: number, alpha: number): void {
  for (let i = 0; i < N; i++) y[i] = alpha * y[i];
}

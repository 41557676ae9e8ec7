// The variants of the matmul-family kernels and how a call picks one (core/gpu/tuning.ts holds the choices, the
// autotune of core/node/autotune.ts makes them):
//   reg    the register-blocked kernels tuned for CPU adapters (matmul.wgsl, qlinear.wgsl, qlinear_t.wgsl): no
//          workgroup memory, no barrier; every adapter has them and they are the reference each other variant must
//          reproduce bit for bit;
//   sg     subgroup broadcast (qlinear_variants.ts): each lane owns some output columns, the shared operand is loaded
//          once per subgroup, one value per lane, and broadcast; needs `subgroups` with one fixed subgroup size;
//   tiled  workgroup tiles in workgroup memory with barriers (qlinear_variants.ts, matmul_variants.ts), the classic
//          GPU GEMM; needs 16 KiB of workgroup storage and 256 invocations per workgroup.
// Every variant sums each output's products in the very order of its reg kernel, so all give the same bits (the
// autotune checks it before choosing one; tests/gpu/kernel-variants.test.ts checks every variant against the CPU
// reference and against reg).
//
// Storage precision: every generated variant takes the storage type of its activations (`StorageType`); today only
// f32 exists, and the f16 storage of `--precision f16` adds 'f16' here (an alias in the WGSL prelude, f32
// accumulation unchanged).
import type { GpuContext } from '../gpu/context';
import { shapeClass, variantId, type GemmDims, type KernelFamily, type VariantChoice } from '../gpu/tuning';

/** The element type activations (x, y, g, dx; matmul's A, B, C) are stored in. */
export type StorageType = 'f32';

/** WGSL aliases of the storage type: SF (scalar) and SF4 (vec4); loads convert to f32, stores from it. */
export function storagePrelude(st: StorageType): string {
  return `alias SF = ${st};\nalias SF4 = vec4<${st}>;\n`;
}

export const REG: VariantChoice = { kind: 'reg', params: {} };

/** Workgroup storage and invocations a tiled variant needs. */
const TILED_STORAGE = 16384;
const TILED_INVOCATIONS = 256;

export function tiledFits(ctx: GpuContext): boolean {
  return (ctx.limits.maxComputeWorkgroupStorageSize ?? 16384) >= TILED_STORAGE && (ctx.limits.maxComputeInvocationsPerWorkgroup ?? 256) >= TILED_INVOCATIONS;
}

/** Subgroup tile sizes worth trying: (MR rows of the shared operand, NR columns per lane). */
const SG_FWD_TILES: [number, number][] = [[8, 8], [16, 4], [8, 4], [16, 8], [4, 8]];
const SG_BWD_TILES: [number, number][] = [[16, 2], [32, 2], [8, 2], [16, 1], [8, 1]];

/** Formats the generated qlinear variants handle (f32 row tiles of a large f32 head run reg). */
function intBits(layout: string): boolean {
  return layout.startsWith('int4') || layout.startsWith('int8');
}

/**
 * The candidates of a class on this context's adapter, reg first. `layout` is "int4", "int8", "f32" for qlinear and
 * qlinear_t; "f32.<nn|nt|tn|tt>" (+".vec4" when the vec4 kernel applies) for matmul.
 */
export function candidates(ctx: GpuContext, family: KernelFamily, layout: string, d: GemmDims): VariantChoice[] {
  const out: VariantChoice[] = [REG];
  const S = ctx.features.subgroupSize;
  if (family === 'qlinear') {
    if (intBits(layout) && S >= 8 && S <= 64 && 64 % S === 0) {
      for (const [MR, NR] of SG_FWD_TILES) if (MR <= Math.max(4, d.M * 2)) out.push({ kind: 'sg', params: { MR, NR, S } });
    }
    if (tiledFits(ctx) && d.K % 32 === 0) out.push({ kind: 'tiled', params: { T: 64 } });
  } else if (family === 'qlinear_t') {
    if (intBits(layout) && S >= 8 && S <= 64 && d.N % 64 === 0) {
      for (const [MR, NC] of SG_BWD_TILES) if (MR <= Math.max(4, d.M * 2)) out.push({ kind: 'sg', params: { MR, NC, S } });
    }
    if (tiledFits(ctx) && d.N % 4 === 0) out.push({ kind: 'tiled', params: { T: 64 } });
  } else if (layout.endsWith('.vec4') && tiledFits(ctx)) {
    out.push({ kind: 'tiled', params: { T: 64 } });
  }
  return out;
}

/**
 * The variant a call runs: the tuned choice of its shape class when there is one (and it is still a candidate
 * here), else reg. The request is recorded either way, so a dry run lists what to tune.
 */
export function chooseVariant(ctx: GpuContext, family: KernelFamily, layout: string, d: GemmDims): VariantChoice {
  const forced = ctx.forcedVariants.get(family);
  if (forced) return forced;
  const v = ctx.tuning.choose(shapeClass(family, layout, d), d);
  if (!v || v.kind === 'reg') return REG;
  if (!candidates(ctx, family, layout, d).some((c) => variantId(c) === variantId(v))) return REG;
  return v;
}

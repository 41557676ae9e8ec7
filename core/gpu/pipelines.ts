// The pipeline cache: one compute pipeline per (kernel, variant, entry point, compile-time constants). Shapes never
// enter the key (they go in uniforms), so a model compiles each kernel variant once (DESIGN.md §9.4). A variant (the
// matmul family's register-blocked, subgroup or workgroup-tiled code with its tile sizes, core/kernels/variants.ts)
// is its own WGSL source, so it is its own shader module.

export interface KernelSpec {
  /** Stable kernel name, e.g. "matmul". */
  name: string;
  /** The variant of the kernel (e.g. "sg.8x8"), when `code` is generated per variant; part of the pipeline key. */
  variant?: string;
  /** WGSL source. */
  code: string;
  entry?: string;
  /** WGSL `override` constants: the compile-time choices (transposes, tile sizes, flags). */
  constants?: Record<string, number | boolean>;
}

export function pipelineKey(spec: KernelSpec): string {
  const c = spec.constants ?? {};
  const parts = Object.keys(c)
    .sort()
    .map((k) => `${k}=${Number(c[k])}`);
  return `${moduleKey(spec)}#${spec.entry ?? 'main'}(${parts.join(',')})`;
}

/** The shader module a spec compiles: one per kernel name and variant. */
export function moduleKey(spec: KernelSpec): string {
  return spec.variant ? `${spec.name}[${spec.variant}]` : spec.name;
}

export class PipelineCache {
  private readonly pipelines = new Map<string, GPUComputePipeline>();
  private readonly modules = new Map<string, { code: string; module: GPUShaderModule }>();
  compiled = 0;

  constructor(private readonly device: GPUDevice) {}

  get(spec: KernelSpec): GPUComputePipeline {
    const key = pipelineKey(spec);
    const hit = this.pipelines.get(key);
    if (hit) return hit;
    const mkey = moduleKey(spec);
    let entry = this.modules.get(mkey);
    if (entry && entry.code !== spec.code) throw new Error(`pipeline cache: two different WGSL sources named "${mkey}"`);
    if (!entry) {
      entry = { code: spec.code, module: this.device.createShaderModule({ label: mkey, code: spec.code }) };
      this.modules.set(mkey, entry);
    }
    const module = entry.module;
    const constants: Record<string, number> = {};
    for (const [k, v] of Object.entries(spec.constants ?? {})) constants[k] = Number(v);
    const pipeline = this.device.createComputePipeline({
      label: key,
      layout: 'auto',
      compute: { module, entryPoint: spec.entry ?? 'main', constants },
    });
    this.pipelines.set(key, pipeline);
    this.compiled++;
    return pipeline;
  }

  get size(): number {
    return this.pipelines.size;
  }
}

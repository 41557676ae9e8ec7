// The pipeline cache: one compute pipeline per (kernel, entry point, compile-time constants). Shapes never enter
// the key (they go in uniforms), so a model compiles each kernel variant once (DESIGN.md §9.4).

export interface KernelSpec {
  /** Stable kernel name, e.g. "matmul". */
  name: string;
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
  return `${spec.name}#${spec.entry ?? 'main'}(${parts.join(',')})`;
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
    let entry = this.modules.get(spec.name);
    if (entry && entry.code !== spec.code) throw new Error(`pipeline cache: two different WGSL sources named "${spec.name}"`);
    if (!entry) {
      entry = { code: spec.code, module: this.device.createShaderModule({ label: spec.name, code: spec.code }) };
      this.modules.set(spec.name, entry);
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

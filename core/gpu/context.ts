// The GPU context: device acquisition through a provider, the ledger-backed allocator, the pipeline cache, and
// command submission. Every GPU buffer in MeSP Studio is created here and nowhere else (DESIGN.md §1, §3).
//
// A context is either real (a GPUDevice) or dry: a dry context runs the very same schedule with no device, no
// buffers and no kernels, only the ledger. That dry run is the memory plan: it predicts each method's peak from the
// code that allocates, so prediction and measurement cannot drift apart. Every dispatch also carries its kernel
// name, FLOPs and bytes moved (core/gpu/profiler.ts), counted in real and dry contexts alike, and, while a profile
// is on (`startProfile`), timed.
import { f16ArrayToF32 } from '../common/half';
import { GpuUnavailableError } from '../common/errors';
import { MemoryLedger, type Category } from './ledger';
import { Params } from './params';
import { PipelineCache, type KernelSpec } from './pipelines';
import { DispatchTimer, KernelCounter, type DispatchCost, type KernelProfile, type TimingMode } from './profiler';
import { Tensor, bytesOf, type DType } from './tensor';
import { KernelTuning, tuningFor, type KernelFamily, type VariantChoice } from './tuning';

/** Where a device comes from: Dawn in Node (core/node), navigator.gpu in a browser. */
export interface GpuProvider {
  readonly name: string;
  requestAdapter(options?: GPURequestAdapterOptions): Promise<GPUAdapter | null>;
}

/** The WebGPU limits a device profile imposes. The engine requests exactly these. */
export interface DeviceLimits {
  maxStorageBufferBindingSize: number;
  maxBufferSize: number;
  /** Defaults to WebGPU's 16 KiB. */
  maxComputeWorkgroupStorageSize?: number;
  /** Defaults to WebGPU's 256. */
  maxComputeInvocationsPerWorkgroup?: number;
}

/** What phones give (and the WebGPU defaults): 128 MiB per storage binding, 256 MiB per buffer. */
export const PHONE_LIMITS: DeviceLimits = { maxStorageBufferBindingSize: 128 * 1024 * 1024, maxBufferSize: 256 * 1024 * 1024 };

export interface OpenOptions {
  limits?: DeviceLimits;
  capBytes?: number;
  label?: string;
}

export interface AdapterSummary {
  provider: string;
  vendor: string;
  architecture: string;
  device: string;
  description: string;
}

/** The optional WebGPU features the engine uses where the adapter has them (all false in a dry context). */
export interface DeviceFeatures {
  /** `timestamp-query`: the profile times dispatches on the GPU. */
  timestamps: boolean;
  /** `subgroups`: kernel variants may use subgroup operations. */
  subgroups: boolean;
  /** `shader-f16`. */
  f16: boolean;
  /** The subgroup size when the adapter has one fixed size (subgroupMinSize = subgroupMaxSize), else 0. */
  subgroupSize: number;
}

const NO_FEATURES: DeviceFeatures = { timestamps: false, subgroups: false, f16: false, subgroupSize: 0 };

const OPTIONAL_FEATURES: Record<'timestamps' | 'subgroups' | 'f16', string> = { timestamps: 'timestamp-query', subgroups: 'subgroups', f16: 'shader-f16' };

/** The key of an adapter's kernel choices (and of its autotune cache entry): what it is and its subgroup size. */
export function adapterKey(a: AdapterSummary, f: DeviceFeatures): string {
  return [a.provider, a.vendor, a.architecture, a.device, a.description, `subgroup ${f.subgroupSize || (f.subgroups ? 'varies' : 'none')}`].join(' | ');
}

/** A binding: a whole tensor, or a byte range of one. */
export type Binding = Tensor | { tensor: Tensor; offset: number; size: number };

/** The tensor a binding refers to. */
export function bindingTensor(b: Binding): Tensor {
  return b instanceof Tensor ? b : b.tensor;
}

/** 4-byte elements a binding covers. */
export function bindingElems(b: Binding): number {
  return b instanceof Tensor ? b.bytes / 4 : b.size / 4;
}

const UNIFORM_SLOT = 256;
const UNIFORM_SLOTS = 256;
const STORAGE_USAGE = 0x80 | 0x4 | 0x8; // STORAGE | COPY_SRC | COPY_DST
const UNIFORM_USAGE = 0x40 | 0x8; // UNIFORM | COPY_DST
const READBACK_USAGE = 0x1 | 0x8; // MAP_READ | COPY_DST

export class GpuContext {
  readonly ledger: MemoryLedger;
  readonly limits: DeviceLimits;
  readonly adapter: AdapterSummary;
  readonly pipelines: PipelineCache | null;
  private encoder: GPUCommandEncoder | null = null;
  private pass: GPUComputePassEncoder | null = null;
  /** Incremented at each submit; tensors remember the serial of their last use. */
  private serial = 0;
  private pendingCommands = 0;
  private readonly uniforms: Tensor;
  /** A 16-byte placeholder bound where a kernel's optional input is absent (e.g. no bias). Never read. */
  readonly dummy: Tensor;
  private uniformSlot = 0;
  private readonly errors: string[] = [];
  /** Removed in destroy(): Dawn holds an event listener strongly, and this one reaches the context and its device. */
  private readonly onUncaptured = (ev: Event): void => {
    this.errors.push((ev as GPUUncapturedErrorEvent).error.message);
  };
  /** The tensors each open unit of work (scoped / scopedSync) has allocated, innermost last. */
  private readonly scopes: Set<Tensor>[] = [];
  /** Dispatches issued since the context opened (for benchmarks). */
  dispatches = 0;
  /** Calls, FLOPs and bytes moved per kernel since the context opened (or the last reset), dry or real. */
  readonly counts = new KernelCounter();
  submits = 0;
  private timer: DispatchTimer | null = null;
  /** The matmul-family variant choices of this adapter (shared by its contexts; a dry context has its own). */
  readonly tuning: KernelTuning;
  /** Variants this context runs whatever the tuning says (the autotune's candidates, tests of each variant). */
  readonly forcedVariants = new Map<KernelFamily, VariantChoice>();

  private constructor(
    readonly device: GPUDevice | null,
    adapter: AdapterSummary,
    limits: DeviceLimits,
    capBytes: number,
    readonly features: DeviceFeatures = NO_FEATURES,
  ) {
    this.adapter = adapter;
    this.tuning = device ? tuningFor(adapterKey(adapter, features)) : new KernelTuning('dry');
    this.limits = limits;
    this.ledger = new MemoryLedger(capBytes);
    this.pipelines = device ? new PipelineCache(device) : null;
    device?.addEventListener('uncapturederror', this.onUncaptured);
    this.uniforms = this.allocRaw('workspace', 'uniforms.ring', UNIFORM_SLOT * UNIFORM_SLOTS, [UNIFORM_SLOT * UNIFORM_SLOTS / 4], 'u32', UNIFORM_USAGE);
    this.dummy = this.allocRaw('workspace', 'dummy', 16, [4], 'f32', STORAGE_USAGE);
  }

  get dry(): boolean {
    return this.device === null;
  }

  /** Algorithmic FLOPs of every dispatch counted so far (multiply-add = 2). */
  get flops(): number {
    return this.counts.flops;
  }

  /** Open a device with exactly the profile's limits (clamped to what the adapter has) and a hard memory cap. */
  static async open(provider: GpuProvider, options: OpenOptions = {}): Promise<GpuContext> {
    const limits = options.limits ?? PHONE_LIMITS;
    const adapter = await provider.requestAdapter({ powerPreference: 'high-performance' });
    if (!adapter) {
      throw new GpuUnavailableError(
        `No WebGPU adapter from ${provider.name}. On Linux without a GPU install Mesa 25's lavapipe ` +
          `(mesa-vulkan-drivers from bookworm-backports); see README "Set-up".`,
      );
    }
    const a = adapter.limits;
    const requiredLimits: Record<string, number> = {
      maxStorageBufferBindingSize: Math.min(limits.maxStorageBufferBindingSize, a.maxStorageBufferBindingSize),
      maxBufferSize: Math.min(limits.maxBufferSize, a.maxBufferSize),
      maxStorageBuffersPerShaderStage: Math.min(10, a.maxStorageBuffersPerShaderStage),
      maxComputeWorkgroupStorageSize: Math.min(limits.maxComputeWorkgroupStorageSize ?? 16384, a.maxComputeWorkgroupStorageSize),
      maxComputeInvocationsPerWorkgroup: Math.min(limits.maxComputeInvocationsPerWorkgroup ?? 256, a.maxComputeInvocationsPerWorkgroup),
    };
    const features: DeviceFeatures = { ...NO_FEATURES };
    const requiredFeatures: string[] = [];
    for (const [k, name] of Object.entries(OPTIONAL_FEATURES) as ['timestamps' | 'subgroups' | 'f16', string][]) {
      if (adapter.features.has(name)) {
        features[k] = true;
        requiredFeatures.push(name);
      }
    }
    const device = await adapter.requestDevice({ label: options.label ?? 'mesp', requiredLimits, requiredFeatures: requiredFeatures as GPUFeatureName[] });
    const info = adapter.info;
    const sg = info as unknown as { subgroupMinSize?: number; subgroupMaxSize?: number };
    if (features.subgroups && sg.subgroupMinSize && sg.subgroupMinSize === sg.subgroupMaxSize) features.subgroupSize = sg.subgroupMinSize;
    const summary: AdapterSummary = {
      provider: provider.name,
      vendor: info?.vendor ?? '',
      architecture: info?.architecture ?? '',
      device: info?.device ?? '',
      description: info?.description ?? '',
    };
    const effective: DeviceLimits = {
      maxStorageBufferBindingSize: device.limits.maxStorageBufferBindingSize,
      maxBufferSize: device.limits.maxBufferSize,
      maxComputeWorkgroupStorageSize: device.limits.maxComputeWorkgroupStorageSize,
      maxComputeInvocationsPerWorkgroup: device.limits.maxComputeInvocationsPerWorkgroup,
    };
    return new GpuContext(device, summary, effective, options.capBytes ?? Number.POSITIVE_INFINITY, features);
  }

  /** A planning context: same allocations and ledger, no device. */
  static dry(options: OpenOptions = {}): GpuContext {
    const summary: AdapterSummary = { provider: 'dry', vendor: '', architecture: '', device: '', description: 'memory plan' };
    return new GpuContext(null, summary, options.limits ?? PHONE_LIMITS, options.capBytes ?? Number.POSITIVE_INFINITY);
  }

  // ---------------------------------------------------------------- allocation

  private allocRaw(category: Category, name: string, bytes: number, shape: readonly number[], dtype: DType, usage: number): Tensor {
    if (bytes > this.limits.maxBufferSize) {
      throw new RangeError(
        `${category}:${name} needs one buffer of ${bytes} bytes, over maxBufferSize ${this.limits.maxBufferSize}; tile it (core/gpu/tiling.ts)`,
      );
    }
    const handle = this.ledger.reserve(category, name, bytes); // throws OutOfBudgetError before any createBuffer
    let buffer: GPUBuffer | null = null;
    if (this.device) {
      try {
        buffer = this.device.createBuffer({ label: `${category}:${name}`, size: bytes, usage });
      } catch (e) {
        this.ledger.release(handle);
        throw e;
      }
    }
    const t = new Tensor(handle, category, name, shape, dtype, bytes, buffer);
    for (const scope of this.scopes) scope.add(t);
    return t;
  }

  // ---------------------------------------------------------------- units of work

  /**
   * Run `fn` as one unit of work (a training step, an eval batch, a generation): when it throws — an OutOfBudgetError
   * from the cap or any other error — every tensor it allocated and had not freed is freed (after the work already
   * encoded is submitted, as any free does), so the ledger is back at what it was and the same context runs the next
   * request. What `fn` keeps on success is the caller's. Values it changed in place stay changed (MeSP's immediate
   * updates; a run resumes from its checkpoint).
   */
  async scoped<T>(fn: () => Promise<T>): Promise<T> {
    const made = this.openScope();
    try {
      return await fn();
    } catch (e) {
      this.freeScope(made);
      throw e;
    } finally {
      this.closeScope(made);
    }
  }

  /** scoped() for synchronous work (uploading an adapter, loading weights). */
  scopedSync<T>(fn: () => T): T {
    const made = this.openScope();
    try {
      return fn();
    } catch (e) {
      this.freeScope(made);
      throw e;
    } finally {
      this.closeScope(made);
    }
  }

  private openScope(): Set<Tensor> {
    const made = new Set<Tensor>();
    this.scopes.push(made);
    return made;
  }

  private freeScope(made: Set<Tensor>): void {
    for (const t of made) if (!t.freed) this.free(t);
  }

  private closeScope(made: Set<Tensor>): void {
    const i = this.scopes.lastIndexOf(made);
    if (i >= 0) this.scopes.splice(i, 1);
  }

  /** Allocate a tensor, counted in the ledger under `category:name`. Contents are zero. */
  alloc(category: Category, name: string, shape: readonly number[], dtype: DType = 'f32'): Tensor {
    for (const d of shape) {
      if (!Number.isInteger(d) || d < 0) throw new RangeError(`alloc ${category}:${name}: bad shape [${shape.join(', ')}]`);
    }
    return this.allocRaw(category, name, bytesOf(shape, dtype), shape, dtype, STORAGE_USAGE);
  }

  /** Free tensors (null/undefined entries are ignored). A tensor used by unsubmitted work is submitted first. */
  free(...tensors: (Tensor | null | undefined)[]): void {
    for (const t of tensors) {
      if (!t) continue;
      if (t.freed) throw new Error(`double free of ${t}`);
      if (t.lastUse === this.serial && this.pendingCommands > 0) this.flush();
      t.freed = true;
      this.ledger.release(t.handle);
      t.buffer?.destroy();
    }
  }

  // ---------------------------------------------------------------- data movement

  /** Copy host data into a tensor at a byte offset. */
  write(t: Tensor, data: ArrayBufferView, byteOffset = 0): void {
    this.checkLive(t);
    if (byteOffset + data.byteLength > t.bytes) {
      throw new RangeError(`write of ${data.byteLength} bytes at ${byteOffset} overruns ${t} (${t.bytes} bytes)`);
    }
    if (!this.device || !t.buffer) return;
    if (t.lastUse === this.serial && this.pendingCommands > 0) this.flush(); // keep queue order with encoded work
    const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    const CHUNK = 16 * 1024 * 1024;
    for (let o = 0; o < bytes.byteLength; o += CHUNK) {
      const part = bytes.subarray(o, Math.min(bytes.byteLength, o + CHUNK));
      if (part.byteLength % 4 === 0) {
        this.device.queue.writeBuffer(t.buffer, byteOffset + o, part as Uint8Array<ArrayBuffer>);
      } else {
        const padded = new Uint8Array(Math.ceil(part.byteLength / 4) * 4);
        padded.set(part);
        this.device.queue.writeBuffer(t.buffer, byteOffset + o, padded);
      }
    }
  }

  /** Read a tensor back (through a ledger-counted staging buffer). In a dry context, zeros. */
  async read(t: Tensor, byteOffset = 0, byteLength = t.bytes - byteOffset): Promise<ArrayBuffer> {
    this.checkLive(t);
    const size = Math.ceil(byteLength / 4) * 4;
    const staging = this.allocRaw('workspace', `readback:${t.name}`, size, [size / 4], 'u32', READBACK_USAGE);
    try {
      if (!this.device || !t.buffer || !staging.buffer) return new ArrayBuffer(byteLength);
      this.endPass();
      this.enc().copyBufferToBuffer(t.buffer, byteOffset, staging.buffer, 0, size);
      this.pendingCommands++;
      t.lastUse = this.serial;
      staging.lastUse = this.serial;
      this.flush();
      await staging.buffer.mapAsync(1 /* READ */);
      this.throwErrors();
      const out = staging.buffer.getMappedRange().slice(0, byteLength);
      staging.buffer.unmap();
      return out;
    } finally {
      this.free(staging);
    }
  }

  /** A tensor's values as f32 (an f16 tensor's halves converted exactly). */
  async readF32(t: Tensor): Promise<Float32Array> {
    if (t.dtype === 'f16') return f16ArrayToF32(new Uint16Array(await this.read(t), 0, t.numel));
    return new Float32Array(await this.read(t));
  }

  /** dst[dstOffset..] = src[srcOffset..] for `bytes` bytes. */
  copy(src: Tensor, dst: Tensor, bytes = Math.min(src.bytes, dst.bytes), srcOffset = 0, dstOffset = 0): void {
    this.checkLive(src);
    this.checkLive(dst);
    if (srcOffset + bytes > src.bytes || dstOffset + bytes > dst.bytes) throw new RangeError(`copy ${src} -> ${dst}: out of range`);
    if (!this.device || !src.buffer || !dst.buffer) return;
    this.endPass();
    this.enc().copyBufferToBuffer(src.buffer, srcOffset, dst.buffer, dstOffset, bytes);
    src.lastUse = dst.lastUse = this.serial;
    this.pendingCommands++;
  }

  /** Set a tensor (or a byte range of it) to zero. */
  zero(t: Tensor, byteOffset = 0, bytes = t.bytes - byteOffset): void {
    this.checkLive(t);
    if (!this.device || !t.buffer) return;
    this.endPass();
    this.enc().clearBuffer(t.buffer, byteOffset, bytes);
    t.lastUse = this.serial;
    this.pendingCommands++;
  }

  // ---------------------------------------------------------------- kernels

  /**
   * Dispatch a kernel. Bindings go to @group(0) @binding(0..n-1) in order; the Params block, if any, goes to the
   * next binding as a uniform. `workgroups` is the dispatch grid. `cost` is what the dispatch does (FLOPs, bytes
   * moved, the profile row), counted in dry contexts too.
   */
  run(spec: KernelSpec, bindings: Binding[], params: Params | null, workgroups: readonly [number, number?, number?], cost: DispatchCost): void {
    for (const b of bindings) this.checkLive(bindingTensor(b));
    const [x, y = 1, z = 1] = workgroups;
    if (x === 0 || y === 0 || z === 0) return;
    for (const w of [x, y, z]) {
      if (!Number.isInteger(w) || w < 0 || w > 65535) throw new RangeError(`${spec.name}: bad dispatch grid [${x}, ${y}, ${z}]`);
    }
    if (!(cost.flops >= 0 && cost.bytes >= 0)) throw new RangeError(`${spec.name}: bad dispatch cost ${JSON.stringify(cost)}`);
    this.dispatches++;
    const kernel = cost.kernel ?? spec.name;
    this.counts.add(kernel, cost.flops, cost.bytes);
    if (!this.device || !this.pipelines) return;
    this.timer?.count(kernel, cost.flops, cost.bytes);
    const pipeline = this.pipelines.get(spec);
    const entries: GPUBindGroupEntry[] = bindings.map((b, i) => {
      const t = bindingTensor(b);
      t.lastUse = this.serial;
      if (b instanceof Tensor) return { binding: i, resource: { buffer: t.buffer! } };
      return { binding: i, resource: { buffer: t.buffer!, offset: b.offset, size: b.size } };
    });
    if (params) {
      if (this.uniformSlot >= UNIFORM_SLOTS) this.flush();
      const bytes = params.toBytes();
      if (bytes.byteLength > UNIFORM_SLOT) throw new RangeError(`${spec.name}: params over ${UNIFORM_SLOT} bytes`);
      const offset = this.uniformSlot++ * UNIFORM_SLOT;
      this.uniforms.lastUse = this.serial;
      this.device.queue.writeBuffer(this.uniforms.buffer!, offset, bytes as Uint8Array<ArrayBuffer>);
      entries.push({ binding: bindings.length, resource: { buffer: this.uniforms.buffer!, offset, size: bytes.byteLength } });
    }
    const bindGroup = this.device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries });
    const timer = this.timer;
    if (timer?.mode === 'timestamps') {
      // Its own pass, with beginning- and end-of-pass timestamps.
      this.endPass();
      this.pass = this.enc().beginComputePass(timer.passFor(kernel));
    } else if (!this.pass) this.pass = this.enc().beginComputePass();
    this.pass.setPipeline(pipeline);
    this.pass.setBindGroup(0, bindGroup);
    this.pass.dispatchWorkgroups(x, y, z);
    this.pendingCommands++;
    if (timer?.mode === 'timestamps') {
      this.endPass();
      if (timer.full) this.flush();
    } else if (timer) {
      this.flush();
      timer.submitted(kernel);
    }
  }

  // ---------------------------------------------------------------- profile

  /**
   * Time every dispatch from now until `stopProfile`: with GPU timestamps where the device has `timestamp-query`
   * (or `mode` says so), else by queue completion. The timer's buffers are ledger-counted as workspace:profile.*.
   */
  startProfile(mode: TimingMode | 'auto' = 'auto'): TimingMode {
    if (!this.device) throw new Error('startProfile: a dry context has no device to time');
    if (this.timer) throw new Error('startProfile: a profile is already running');
    const m: TimingMode = mode === 'auto' ? (this.features.timestamps ? 'timestamps' : 'queue') : mode;
    if (m === 'timestamps' && !this.features.timestamps) throw new Error('startProfile: this device has no timestamp-query feature; use queue timing');
    this.flush();
    const device = this.device;
    this.timer = new DispatchTimer({
      device,
      allocBuffer: (name, bytes, usage) => this.allocRaw('workspace', name, bytes, [bytes / 4], 'u32', usage),
      free: (t) => this.free(t),
      reserve: (name, bytes) => this.ledger.reserve('workspace', name, bytes),
      release: (h) => this.ledger.release(h),
    }, m);
    return m;
  }

  /** Wait for the profiled work, stop timing and return the per-kernel profile. */
  async stopProfile(): Promise<KernelProfile> {
    const timer = this.timer;
    if (!timer) throw new Error('stopProfile: no profile is running');
    await this.finish();
    this.timer = null;
    return timer.finish();
  }

  get profiling(): boolean {
    return this.timer !== null;
  }

  // ---------------------------------------------------------------- submission

  private enc(): GPUCommandEncoder {
    if (!this.encoder) this.encoder = this.device!.createCommandEncoder();
    return this.encoder;
  }

  private endPass(): void {
    if (this.pass) {
      this.pass.end();
      this.pass = null;
    }
  }

  /** Submit encoded work. Uniform slots are reused only after the work that read them was submitted. */
  flush(): void {
    if (!this.device) return;
    this.endPass();
    if (this.encoder) {
      const after = this.timer?.beforeSubmit(this.encoder) ?? null;
      this.device.queue.submit([this.encoder.finish()]);
      this.submits++;
      this.encoder = null;
      after?.();
    }
    this.pendingCommands = 0;
    this.uniformSlot = 0;
    this.serial++;
  }

  /** Submit and wait for the GPU to finish; throws any validation error the device reported. */
  async finish(): Promise<void> {
    if (!this.device) return;
    this.flush();
    await this.device.queue.onSubmittedWorkDone();
    this.throwErrors();
  }

  private throwErrors(): void {
    if (this.errors.length) {
      const msg = this.errors.splice(0).join('\n');
      throw new Error(`WebGPU error: ${msg}`);
    }
  }

  private checkLive(t: Tensor): void {
    if (t.freed) throw new Error(`use of freed tensor ${t}`);
  }

  /** Drop unsubmitted work, free the uniform ring and destroy the device. The context is unusable afterwards. */
  destroy(): void {
    // Work encoded but not submitted (a step cut short by an OutOfBudgetError) is discarded, not submitted.
    this.endPass();
    this.encoder = null;
    this.pendingCommands = 0;
    if (!this.uniforms.freed) this.free(this.uniforms);
    if (!this.dummy.freed) this.free(this.dummy);
    this.device?.destroy();
    // Without this the listener keeps the context, and so the device and its native memory, alive for good.
    this.device?.removeEventListener('uncapturederror', this.onUncaptured);
  }
}

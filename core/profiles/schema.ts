// The device-profile schema (DESIGN.md §6): what a phone, or a class of phones, gives one foreground app: its memory
// budget (the hard cap of the ledger), its WebGPU limits (the engine requests exactly these) and its GPU's peak
// FLOP/s and bandwidth (a roofline estimate of on-device step time). The numbers and their sources are explained in
// profiles/README.md. WebGPU limit names and minimums follow the WebGPU specification (https://www.w3.org/TR/webgpu/#limits).
// Pure TS: JSON in, objects out; core/node reads files.
import { z } from 'zod';
import type { Precision } from '../api/names';
import { errorMessage, ConfigError } from '../common/errors';

/** The WebGPU specification's default (guaranteed minimum) limits: an adapter never offers less. */
export const WEBGPU_MIN_LIMITS = {
  maxStorageBufferBindingSize: 134_217_728, // 128 MiB
  maxBufferSize: 268_435_456, // 256 MiB
  maxComputeWorkgroupStorageSize: 16_384, // 16 KiB
  maxComputeInvocationsPerWorkgroup: 256,
} as const;

const limit = (name: keyof typeof WEBGPU_MIN_LIMITS) =>
  z
    .number()
    .int()
    .min(WEBGPU_MIN_LIMITS[name], `must be at least the WebGPU minimum of ${WEBGPU_MIN_LIMITS[name]} (a device cannot be asked for less)`);

const positive = z.number().positive().finite();

export const WebGpuLimitsSchema = z
  .strictObject({
    maxStorageBufferBindingSize: limit('maxStorageBufferBindingSize'),
    maxBufferSize: limit('maxBufferSize'),
    maxComputeWorkgroupStorageSize: limit('maxComputeWorkgroupStorageSize'),
    maxComputeInvocationsPerWorkgroup: limit('maxComputeInvocationsPerWorkgroup'),
  })
  .refine((l) => l.maxStorageBufferBindingSize <= l.maxBufferSize, {
    message: 'must not exceed maxBufferSize (a binding lies inside one buffer)',
    path: ['maxStorageBufferBindingSize'],
  });

export const GpuSpecSchema = z.strictObject({
  name: z.string().min(1),
  /** Peak f32 FLOP/s (FMA = 2 FLOPs). */
  peakFlopsF32: positive,
  /** Peak f16 FLOP/s. */
  peakFlopsF16: positive,
  /** Peak DRAM bandwidth, GB/s (1e9 bytes per second). */
  bandwidthGBs: positive,
});

export const DeviceProfileSchema = z
  .strictObject({
    /** kebab-case: lower-case letters and digits in words joined by single dashes. */
    id: z.string().regex(/^[a-z0-9]+(?:-[a-z0-9]+)*$/, 'must be kebab-case (e.g. "phone-8gb", "pixel-8")'),
    name: z.string().min(1),
    kind: z.enum(['class', 'phone']),
    /** Marketed RAM in GB. */
    ramGB: positive.max(1024),
    /** What one foreground app may use before the OS kills it, in MB (1e6 bytes). The ledger's cap. */
    appBudgetMB: positive,
    webgpu: WebGpuLimitsSchema,
    gpu: GpuSpecSchema,
    /** URLs or citations for the numbers. */
    sources: z.array(z.string().min(1)).min(1, 'list at least one source (a URL or a citation) for the numbers'),
    notes: z.string().optional(),
  })
  .refine((p) => p.appBudgetMB * 1e6 < ramBytesOf(p), {
    message: 'must be below the RAM (ramGB): an app never gets all of it',
    path: ['appBudgetMB'],
  });

export type WebGpuLimits = z.infer<typeof WebGpuLimitsSchema>;
export type GpuSpec = z.infer<typeof GpuSpecSchema>;
export type DeviceProfile = z.infer<typeof DeviceProfileSchema>;

function pathText(path: readonly PropertyKey[]): string {
  return path.map((p) => (typeof p === 'number' ? `[${p}]` : String(p))).join('.').replace(/\.\[/g, '[');
}

/**
 * Validates a device profile: parsed JSON, or the JSON text. Throws ConfigError naming the file and the first bad
 * field (all problems are listed in the message).
 */
export function parseProfile(json: unknown, file: string): DeviceProfile {
  let value = json;
  if (typeof json === 'string') {
    try {
      value = JSON.parse(json);
    } catch (e) {
      throw new ConfigError(`is not valid JSON (${errorMessage(e)}). Fix it, or copy a built-in profile from profiles/.`, { file });
    }
  }
  const r = DeviceProfileSchema.safeParse(value);
  if (r.success) return r.data;
  const issues = r.error.issues.map((i) => {
    const where = pathText(i.path);
    if (i.code === 'unrecognized_keys') return `${where ? `${where}: ` : ''}unknown field(s) ${i.keys.join(', ')}`;
    return `${where || '(profile)'}: ${i.message}`;
  });
  const first = r.error.issues[0];
  const field = first.code === 'unrecognized_keys' ? [pathText(first.path), first.keys[0]].filter(Boolean).join('.') : pathText(first.path) || undefined;
  throw new ConfigError(
    `invalid device profile: ${issues.join('; ')}. Fix the field${issues.length > 1 ? 's' : ''}, or start from a built-in profile (profiles/phone-8gb.json).`,
    { file, field },
  );
}

/** A phone's RAM in bytes: marketed GB are binary (ramGB × 2³⁰ bytes). */
export function ramBytesOf(profile: { ramGB: number }): number {
  return profile.ramGB * 2 ** 30;
}

/**
 * Why a cap override cannot run under a profile, or null: a cap above the phone's RAM would emulate memory the phone
 * does not have. (Below the RAM a larger cap than the app budget is allowed: a resume after a refusal may ask for one.)
 */
export function capOverrideIssue(capBytes: number | null | undefined, profile: Pick<DeviceProfile, 'ramGB' | 'name'>): string | null {
  if (capBytes === null || capBytes === undefined) return null;
  const ram = ramBytesOf(profile);
  if (capBytes <= ram) return null;
  return `the cap of ${Math.round(capBytes / 1e6)} MB is above the RAM of ${profile.name} (${profile.ramGB} GB = ${Math.floor(ram / 1e6)} MB): ` +
    `no app gets more memory than the phone has. Give at most ${Math.floor(ram / 1e6)} MB, or choose a profile with more RAM.`;
}

/** The ledger's hard cap for a profile: appBudgetMB × 1e6 bytes. */
export function capBytesOf(profile: Pick<DeviceProfile, 'appBudgetMB'>): number {
  return Math.round(profile.appBudgetMB * 1e6);
}

export type { Precision };

export interface RooflineEstimate {
  seconds: number;
  computeSeconds: number;
  memorySeconds: number;
  bound: 'compute' | 'memory';
}

/** Roofline: the slower of doing `flops` at peak FLOP/s and moving `bytes` at peak bandwidth. */
export function roofline(profile: Pick<DeviceProfile, 'gpu'>, flops: number, bytes: number, precision: Precision = 'f32'): RooflineEstimate {
  for (const [name, v] of [
    ['flops', flops],
    ['bytes', bytes],
  ] as const) {
    if (!(v >= 0) || !Number.isFinite(v)) throw new ConfigError(`roofline: ${name} must be a finite number ≥ 0, got ${v}.`, { field: name });
  }
  const peak = precision === 'f16' ? profile.gpu.peakFlopsF16 : profile.gpu.peakFlopsF32;
  const computeSeconds = flops / peak;
  const memorySeconds = bytes / (profile.gpu.bandwidthGBs * 1e9);
  return {
    seconds: Math.max(computeSeconds, memorySeconds),
    computeSeconds,
    memorySeconds,
    bound: computeSeconds >= memorySeconds ? 'compute' : 'memory',
  };
}

/** Roofline estimate in seconds of a step doing `flops` and moving `bytes` on the profile's GPU. */
export function rooflineSeconds(profile: Pick<DeviceProfile, 'gpu'>, flops: number, bytes: number, precision: Precision = 'f32'): number {
  return roofline(profile, flops, bytes, precision).seconds;
}

// Device profiles (core/profiles, core/node/profiles.ts): every built-in validates and is sane, bad profile files
// give ConfigErrors naming the file and the field, cap and roofline math.
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../core/common/errors';
import { loadProfile } from '../../core/node/profiles';
import {
  DEFAULT_PROFILE_ID,
  WEBGPU_MIN_LIMITS,
  capBytesOf,
  getProfile,
  listBuiltinProfiles,
  parseProfile,
  roofline,
  rooflineSeconds,
  type DeviceProfile,
} from '../../core/profiles';

function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return e as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

const base = (): Record<string, unknown> => JSON.parse(JSON.stringify(getProfile('phone-8gb')));

describe('built-in profiles', () => {
  const all = listBuiltinProfiles();

  it('has the 6, 8 and 12 GB classes and at least three named phones, with unique ids', () => {
    const ids = all.map((p) => p.id);
    expect(ids.slice(0, 3)).toEqual(['phone-6gb', 'phone-8gb', 'phone-12gb']);
    expect(all.filter((p) => p.kind === 'phone').length).toBeGreaterThanOrEqual(3);
    expect(new Set(ids).size).toBe(ids.length);
    expect(DEFAULT_PROFILE_ID).toBe('phone-8gb');
    expect(getProfile(DEFAULT_PROFILE_ID).ramGB).toBe(8);
  });

  for (const p of listBuiltinProfiles()) {
    it(`${p.id} validates and its numbers are plausible for a phone`, () => {
      expect(parseProfile(JSON.parse(JSON.stringify(p)), `profiles/${p.id}.json`), `profile ${p.id}`).toEqual(p);
      // phones expose the WebGPU defaults for buffers (128 MiB binding, 256 MiB buffer)
      expect(p.webgpu.maxStorageBufferBindingSize, `profile ${p.id}`).toBe(128 * 2 ** 20);
      expect(p.webgpu.maxBufferSize, `profile ${p.id}`).toBe(256 * 2 ** 20);
      expect([16384, 32768], `profile ${p.id}`).toContain(p.webgpu.maxComputeWorkgroupStorageSize);
      expect(p.webgpu.maxComputeInvocationsPerWorkgroup, `profile ${p.id}`).toBe(256);
      // an app gets between a quarter and 60% of RAM
      const share = capBytesOf(p) / (p.ramGB * 1e9);
      expect(share, `profile ${p.id}`).toBeGreaterThan(0.25);
      expect(share, `profile ${p.id}`).toBeLessThan(0.6);
      expect(p.gpu.peakFlopsF32, `profile ${p.id}`).toBeGreaterThan(5e10);
      expect(p.gpu.peakFlopsF32, `profile ${p.id}`).toBeLessThan(1e13);
      expect(p.gpu.peakFlopsF16, `profile ${p.id}`).toBeGreaterThanOrEqual(p.gpu.peakFlopsF32);
      expect(p.gpu.bandwidthGBs, `profile ${p.id}`).toBeGreaterThan(10);
      expect(p.gpu.bandwidthGBs, `profile ${p.id}`).toBeLessThan(150);
      expect(p.sources.some((s) => /https:\/\//.test(s)), `profile ${p.id}`).toBe(true);
    });
  }

  it('classes grow with RAM', () => {
    const caps = ['phone-6gb', 'phone-8gb', 'phone-12gb'].map((id) => capBytesOf(getProfile(id)));
    expect(caps[0]).toBeLessThan(caps[1]);
    expect(caps[1]).toBeLessThan(caps[2]);
  });

  it('an unknown id lists the built-in ids', () => {
    const e = configError(() => getProfile('phone-3gb'));
    expect(e.field).toBe('profile');
    expect(e.message).toMatch(/unknown device profile "phone-3gb"\. Built-in profiles: phone-6gb, phone-8gb, phone-12gb, pixel-8/);
  });
});

describe('cap and roofline math', () => {
  it('cap bytes = appBudgetMB × 1e6', () => {
    expect(capBytesOf({ appBudgetMB: 3500 })).toBe(3_500_000_000);
    expect(capBytesOf({ appBudgetMB: 0.5 })).toBe(500_000);
    expect(capBytesOf(getProfile('phone-8gb'))).toBe(getProfile('phone-8gb').appBudgetMB * 1e6);
  });

  it('roofline is the slower of compute and memory', () => {
    const p = { gpu: { name: 'x', peakFlopsF32: 1e12, peakFlopsF16: 2e12, bandwidthGBs: 50 } } as Pick<DeviceProfile, 'gpu'>;
    expect(rooflineSeconds(p, 2e12, 1e9)).toBeCloseTo(2, 12); // compute: 2 s, memory: 0.02 s
    expect(rooflineSeconds(p, 2e12, 1e9, 'f16')).toBeCloseTo(1, 12);
    expect(rooflineSeconds(p, 1e9, 100e9)).toBeCloseTo(2, 12); // memory: 100 GB / 50 GB/s
    expect(roofline(p, 1e9, 100e9)).toMatchObject({ bound: 'memory', computeSeconds: 1e-3 });
    expect(roofline(p, 2e12, 0).bound).toBe('compute');
    expect(rooflineSeconds(p, 0, 0)).toBe(0);
    expect(() => rooflineSeconds(p, -1, 0)).toThrow(ConfigError);
    expect(() => rooflineSeconds(p, Number.NaN, 0)).toThrow(ConfigError);
  });
});

describe('bad profiles name the file and the field', () => {
  const FILE = 'my/profile.json';
  const cases: Array<[string, (p: Record<string, unknown>) => unknown, string, RegExp]> = [
    ['id not kebab-case', (p) => ({ ...p, id: 'My_Phone' }), 'id', /id: must be kebab-case/],
    ['missing name', (p) => ({ ...p, name: undefined }), 'name', /name: /],
    ['bad kind', (p) => ({ ...p, kind: 'tablet' }), 'kind', /kind: /],
    ['ram as a string', (p) => ({ ...p, ramGB: '8' }), 'ramGB', /ramGB: .*expected number/],
    ['negative budget', (p) => ({ ...p, appBudgetMB: -1 }), 'appBudgetMB', /appBudgetMB: /],
    ['budget over RAM', (p) => ({ ...p, appBudgetMB: 9000 }), 'appBudgetMB', /appBudgetMB: must be below the RAM/],
    ['limit below the WebGPU minimum', (p) => ({ ...p, webgpu: { ...(p.webgpu as object), maxBufferSize: 1024 } }), 'webgpu.maxBufferSize', /webgpu\.maxBufferSize: must be at least the WebGPU minimum of 268435456/],
    ['binding above buffer', (p) => ({ ...p, webgpu: { ...(p.webgpu as object), maxStorageBufferBindingSize: 2 ** 30 } }), 'webgpu.maxStorageBufferBindingSize', /must not exceed maxBufferSize/],
    ['non-integer limit', (p) => ({ ...p, webgpu: { ...(p.webgpu as object), maxComputeInvocationsPerWorkgroup: 256.5 } }), 'webgpu.maxComputeInvocationsPerWorkgroup', /webgpu\.maxComputeInvocationsPerWorkgroup: /],
    ['missing gpu field', (p) => ({ ...p, gpu: { ...(p.gpu as object), bandwidthGBs: undefined } }), 'gpu.bandwidthGBs', /gpu\.bandwidthGBs: /],
    ['zero flops', (p) => ({ ...p, gpu: { ...(p.gpu as object), peakFlopsF16: 0 } }), 'gpu.peakFlopsF16', /gpu\.peakFlopsF16: /],
    ['no sources', (p) => ({ ...p, sources: [] }), 'sources', /sources: list at least one source/],
    ['empty source', (p) => ({ ...p, sources: [''] }), 'sources[0]', /sources\[0\]: /],
    ['typo in a field name', (p) => ({ ...p, appBudgetMb: 3000 }), 'appBudgetMb', /unknown field\(s\) appBudgetMb/],
    ['typo inside webgpu', (p) => ({ ...p, webgpu: { ...(p.webgpu as object), maxBufSize: 1 } }), 'webgpu.maxBufSize', /webgpu: unknown field\(s\) maxBufSize/],
    ['not an object', () => [1, 2], '', /\(profile\): .*expected object/],
  ];
  for (const [name, edit, field, re] of cases) {
    it(name, () => {
      const e = configError(() => parseProfile(edit(base()), FILE));
      expect(e.file, `name ${name}`).toBe(FILE);
      expect(e.message.startsWith(`${FILE}: invalid device profile: `), `name ${name}`).toBe(true);
      expect(e.message, `name ${name}`).toMatch(re);
      expect(e.field ?? '', `name ${name}`).toBe(field);
    });
  }

  it('JSON text is parsed; bad JSON names the file', () => {
    expect(parseProfile(JSON.stringify(base()), FILE).id).toBe('phone-8gb');
    const e = configError(() => parseProfile('{"id": ', FILE));
    expect(e.message).toMatch(/^my\/profile\.json: is not valid JSON/);
  });
});

describe('loadProfile (core/node)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mesp-profiles-'));

  it('loads a built-in id and a user file', () => {
    expect(loadProfile('pixel-8').name).toBe('Google Pixel 8');
    const file = join(dir, 'my-phone.json');
    writeFileSync(file, JSON.stringify({ ...base(), id: 'my-phone', name: 'My phone', appBudgetMB: 2000 }));
    const p = loadProfile(file);
    expect(p.id).toBe('my-phone');
    expect(capBytesOf(p)).toBe(2e9);
  });

  it('errors name the file', () => {
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ ...base(), gpu: { ...(base().gpu as object), bandwidthGBs: 'fast' } }));
    const e = configError(() => loadProfile(bad));
    expect(e.file).toBe(bad);
    expect(e.field).toBe('gpu.bandwidthGBs');
    expect(e.message).toContain(bad);
    const notJson = join(dir, 'broken.json');
    writeFileSync(notJson, 'id: phone');
    expect(configError(() => loadProfile(notJson)).message).toMatch(/broken\.json: is not valid JSON/);
    const missing = configError(() => loadProfile(join(dir, 'nope.json')));
    expect(missing.message).toMatch(/nope\.json: this device profile file does not exist/);
    mkdirSync(join(dir, 'folder.json'));
    expect(configError(() => loadProfile(join(dir, 'folder.json'))).message).toMatch(/is a folder/);
    expect(configError(() => loadProfile('phone-99gb')).message).toMatch(/unknown device profile "phone-99gb"\. Built-in profiles: /);
  });

  it('the minimum limits are the WebGPU defaults', () => {
    expect(WEBGPU_MIN_LIMITS).toEqual({
      maxStorageBufferBindingSize: 134217728,
      maxBufferSize: 268435456,
      maxComputeWorkgroupStorageSize: 16384,
      maxComputeInvocationsPerWorkgroup: 256,
    });
  });
});

// The built-in device profiles: the JSON files of /profiles (classes for 6, 8 and 12 GB, and named phones), each
// validated against the schema when this module loads (DESIGN.md §6). Numbers and sources: profiles/README.md.
import { ConfigError } from '../common/errors';
import { parseProfile, type DeviceProfile } from './schema';
import phone6gb from '../../profiles/phone-6gb.json';
import phone8gb from '../../profiles/phone-8gb.json';
import phone12gb from '../../profiles/phone-12gb.json';
import pixel8 from '../../profiles/pixel-8.json';
import galaxyS24Ultra from '../../profiles/galaxy-s24-ultra.json';
import iphone15Pro from '../../profiles/iphone-15-pro.json';
import galaxyA15 from '../../profiles/galaxy-a15.json';

export { DEFAULT_PROFILE_ID } from '../api/names';

const SOURCES: Array<[file: string, json: unknown]> = [
  ['profiles/phone-6gb.json', phone6gb],
  ['profiles/phone-8gb.json', phone8gb],
  ['profiles/phone-12gb.json', phone12gb],
  ['profiles/pixel-8.json', pixel8],
  ['profiles/galaxy-s24-ultra.json', galaxyS24Ultra],
  ['profiles/iphone-15-pro.json', iphone15Pro],
  ['profiles/galaxy-a15.json', galaxyA15],
];

const BUILTIN: readonly DeviceProfile[] = Object.freeze(
  SOURCES.map(([file, json]) => {
    const p = parseProfile(json, file);
    const expected = file.slice('profiles/'.length, -'.json'.length);
    if (p.id !== expected) throw new ConfigError(`id "${p.id}" must match the file name "${expected}".`, { file, field: 'id' });
    return Object.freeze(p);
  }),
);

/** Every built-in profile: classes first (6, 8, 12 GB), then named phones. */
export function listBuiltinProfiles(): readonly DeviceProfile[] {
  return BUILTIN;
}

export function isBuiltinProfileId(id: string): boolean {
  return BUILTIN.some((p) => p.id === id);
}

/** A built-in profile by id; an unknown id is a ConfigError that lists the known ones. */
export function getProfile(id: string): DeviceProfile {
  const p = BUILTIN.find((q) => q.id === id);
  if (!p) {
    throw new ConfigError(
      `unknown device profile "${id}". Built-in profiles: ${BUILTIN.map((q) => q.id).join(', ')}. Or give the path of a profile JSON file.`,
      { field: 'profile' },
    );
  }
  return p;
}

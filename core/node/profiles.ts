// Loading a device profile for the service and the CLI: a built-in id (profiles/*.json, core/profiles/builtin.ts)
// or the path of a profile JSON file a user copied and edited. Errors name the file and the field.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { errorMessage, ConfigError } from '../common/errors';
import { getProfile, isBuiltinProfileId } from '../profiles/builtin';
import { parseProfile, type DeviceProfile } from '../profiles/schema';

function looksLikePath(s: string): boolean {
  return s.includes('/') || s.includes('\\') || s.toLowerCase().endsWith('.json');
}

/** A built-in profile id (e.g. "phone-8gb"), or a path to a profile JSON file. */
export function loadProfile(idOrPath: string): DeviceProfile {
  if (isBuiltinProfileId(idOrPath)) return getProfile(idOrPath);
  const path = resolve(idOrPath);
  if (!looksLikePath(idOrPath) && !existsSync(path)) return getProfile(idOrPath); // unknown id: lists the built-ins
  if (!existsSync(path)) {
    throw new ConfigError(`this device profile file does not exist. Give a built-in id (e.g. phone-8gb) or the path of a profile JSON file.`, {
      file: path,
      field: 'profile',
    });
  }
  if (statSync(path).isDirectory()) throw new ConfigError('is a folder, not a device profile; give a .json file.', { file: path, field: 'profile' });
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new ConfigError(`cannot read the device profile: ${errorMessage(e)}`, { file: path, field: 'profile' });
  }
  return parseProfile(text, path);
}

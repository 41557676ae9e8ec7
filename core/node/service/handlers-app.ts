// The service's quick requests (core/node/service/host.ts dispatches to these): app.info; choosing, checking,
// browsing and uploading files under the path policy (core/node/service/paths.ts); the device profiles (built-in and
// the user's copies under profiles/); model and dataset inspection and the memory plan (core/node/service/inspect.ts).
// None of them takes the GPU job slot.
import { existsSync, readdirSync, readFileSync, realpathSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { DeviceProfileSchema, type ProfileEntry } from '../../api/contract';
import { ConfigError, MespError } from '../../common/errors';
import { capBytesOf, parseProfile } from '../../profiles/schema';
import { isBuiltinProfileId, listBuiltinProfiles } from '../../profiles/builtin';
import { PROFILE_FILE, type Handlers, type HostState } from './hoststate';
import { inspectDataset, inspectModel, planFit } from './inspect';
import { nodeKind } from './paths';

type AppMethods = 'app.info' | 'files.choose' | 'files.check' | 'files.browse' | 'files.upload' | 'profiles.list' | 'profiles.validate' |
  'profiles.save' | 'profiles.delete' | 'model.inspect' | 'dataset.inspect' | 'plan.fit';

/** The user's saved profile copies; an invalid hand-edited file is left out. */
function userProfiles(host: HostState): ProfileEntry[] {
  const out: ProfileEntry[] = [];
  for (const name of readdirSync(host.data.profilesDir)) {
    if (!PROFILE_FILE.test(name)) continue;
    const file = join(host.data.profilesDir, name);
    try {
      const p = parseProfile(readFileSync(file, 'utf8'), file);
      out.push({ profile: p, source: 'user', path: file, capBytes: capBytesOf(p) });
    } catch {
      // an invalid hand-edited file is not offered; Devices can re-save a valid copy
    }
  }
  return out;
}

export function appHandlers(host: HostState): Pick<Handlers, AppMethods> {
  return {
    'app.info': () => {
      const s = host.data.readSettings();
      const activeRun = host.busy?.kind === 'run' ? host.busy.id : null;
      const activeCompare = host.busy?.kind === 'compare' ? host.busy.id : null;
      return {
        version: host.version, mode: host.mode, nativeDialogs: host.mode === 'electron', dataDir: host.data.dir,
        runsDir: host.data.runsDir, comparisonsDir: host.data.comparisonsDir, roots: host.paths.allowedRoots,
        demo: { modelDir: host.data.demoModelDir, dataPath: host.data.demoDataPath },
        recent: { models: s.recentModels.filter((p) => host.paths.allows(p)), datasets: s.recentDatasets.filter((p) => host.paths.allows(p)) },
        activeRunId: activeRun, activeCompareId: activeCompare,
      };
    },

    'files.choose': () => {
      throw new MespError('NO_DIALOG', 'file dialogs exist only in the desktop app: type a path under one of the allowed folders, browse, or upload the file.');
    },
    'files.check': (p) => host.paths.check(p.kind, p.path),
    'files.browse': (p) => {
      const roots = host.paths.allowedRoots;
      if (!p.dir) return { dir: null, parent: null, entries: roots.map((r) => ({ name: r, path: r, kind: 'dir' as const, bytes: 0 })), roots };
      const dir = host.paths.require(p.dir, 'dir', false);
      if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new ConfigError(`${dir} is not a folder.`, { field: 'dir' });
      // Regular files and folders, and links that lead to one inside the allowed folders; never FIFOs, sockets, devices.
      const entries = readdirSync(dir, { withFileTypes: true }).flatMap((d) => {
        if (d.name.startsWith('.')) return [];
        const path = join(dir, d.name);
        let real = path;
        if (d.isSymbolicLink()) {
          try {
            real = realpathSync(path);
          } catch {
            return [];
          }
          if (!host.paths.allows(real)) return [];
        }
        const kind = nodeKind(real);
        if (kind !== 'dir' && kind !== 'file') return [];
        return [{ name: d.name, path, kind, bytes: kind === 'file' ? statSync(real).size : 0 }];
      }).sort((a, b) => (a.kind !== b.kind ? (a.kind === 'dir' ? -1 : 1) : a.name.localeCompare(b.name)));
      const parent = dirname(dir);
      return { dir, parent: parent !== dir && host.paths.allows(parent) ? parent : null, entries, roots };
    },
    // One piece of a file, written to the caller's own upload folder (core/node/service/uploads.ts).
    'files.upload': (p, ctx) => host.uploads.piece(ctx.client, p),

    'profiles.list': () => ({
      profiles: [
        ...listBuiltinProfiles().map((p) => ({ profile: p, source: 'builtin' as const, path: null, capBytes: capBytesOf(p) })),
        ...userProfiles(host),
      ],
    }),
    'profiles.validate': (p) => {
      const r = DeviceProfileSchema.safeParse(p.profile);
      const issues = r.success ? [] : r.error.issues.map((i) => ({ path: i.path.map(String).join('.') || '(profile)', message: i.message }));
      if (r.success && isBuiltinProfileId(r.data.id)) {
        issues.push({ path: 'id', message: `"${r.data.id}" is a built-in profile's id: give your copy its own id (e.g. "${r.data.id}-custom")` });
      }
      return { ok: issues.length === 0, issues, capBytes: r.success ? capBytesOf(r.data) : null };
    },
    'profiles.save': (p) => {
      const file = join(host.data.profilesDir, 'profile.json');
      const profile = parseProfile(p.profile, file);
      if (isBuiltinProfileId(profile.id)) {
        throw new ConfigError(`"${profile.id}" is a built-in profile's id: give your copy its own id (e.g. "${profile.id}-custom").`, { field: 'id' });
      }
      const path = join(host.data.profilesDir, `${profile.id}.json`);
      writeFileSync(path, JSON.stringify(profile, null, 2) + '\n');
      return { entry: { profile, source: 'user' as const, path, capBytes: capBytesOf(profile) } };
    },
    'profiles.delete': (p) => {
      if (isBuiltinProfileId(p.id)) throw new ConfigError(`"${p.id}" is built in and cannot be deleted.`, { field: 'id' });
      const file = join(host.data.profilesDir, `${p.id}.json`);
      if (!PROFILE_FILE.test(`${p.id}.json`) || !existsSync(file)) return { deleted: false };
      rmSync(file);
      return { deleted: true };
    },

    'model.inspect': (p) => {
      const dir = host.paths.require(p.modelDir, 'modelDir');
      const info = inspectModel(dir);
      host.data.pushRecent('models', info.dir);
      return info;
    },
    'dataset.inspect': (p) => {
      const data = host.paths.require(p.dataPath, 'dataPath');
      const model = host.paths.require(p.modelDir, 'modelDir');
      const info = inspectDataset(data, model, p.seqLen, p.previewIndex);
      host.data.pushRecent('datasets', data);
      return info;
    },
    'plan.fit': (p) => {
      const { ref } = host.profileRef(p.profile);
      return planFit({
        ...p, modelDir: p.modelDir ? host.paths.require(p.modelDir, 'modelDir') : undefined,
        dataPath: p.modelDir && p.dataPath ? host.paths.require(p.dataPath, 'dataPath') : undefined, profile: ref,
      });
    },
  };
}

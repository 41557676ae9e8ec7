// The service's app-data folder: runs/, comparisons/, profiles/ (users' edited copies), uploads/ (browser mode),
// demo/ (the embedded demo model and the bundled demo dataset, written on first launch) and settings.json (recent
// models and datasets). Paths granted through the desktop app's native dialogs are not kept: they last as long as the
// window that asked (core/node/service/paths.ts).
// Electron passes its userData folder; browser mode uses --data-dir or ~/.mesp-studio. The folder is private: 0700,
// and the service processes run with umask 077 (privateUmask) so everything they write in it is 0600 / 0700.
import { chmodSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { writeDemoDataset, writeDemoModel } from '../demo';
import { writeFileAtomic } from '../atomic';

export interface Settings {
  recentModels: string[];
  recentDatasets: string[];
}

const RECENT_MAX = 8;

/** For the service's own process (browser mode, Electron's utilityProcess): files it creates are its user's alone. */
export function privateUmask(): void {
  process.umask(0o077);
}

export function defaultDataDir(): string {
  return process.env.MESP_DATA_DIR ? resolve(process.env.MESP_DATA_DIR) : join(homedir(), '.mesp-studio');
}

/** chmod, except where the file is not ours to change (EPERM: a folder shared on purpose keeps its mode). */
function tighten(path: string, mode: number): void {
  try {
    chmodSync(path, mode);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EPERM') throw e;
  }
}

export class AppData {
  readonly dir: string;
  constructor(dir: string) {
    this.dir = resolve(dir);
    for (const d of [this.dir, this.runsDir, this.comparisonsDir, this.profilesDir, this.uploadsDir]) {
      mkdirSync(d, { recursive: true, mode: 0o700 });
      tighten(d, 0o700); // also a folder an earlier version made 0755
    }
  }

  get runsDir(): string {
    return join(this.dir, 'runs');
  }
  get comparisonsDir(): string {
    return join(this.dir, 'comparisons');
  }
  get profilesDir(): string {
    return join(this.dir, 'profiles');
  }
  get uploadsDir(): string {
    return join(this.dir, 'uploads');
  }
  get demoModelDir(): string {
    return join(this.dir, 'demo', 'qwen2-demo');
  }
  get demoDataPath(): string {
    return join(this.dir, 'demo', 'demo-chat.jsonl');
  }
  get settingsPath(): string {
    return join(this.dir, 'settings.json');
  }

  /** Write the demo model and dataset if they are not there yet (first launch). */
  ensureDemo(): void {
    if (!existsSync(join(this.demoModelDir, 'config.json')) || !existsSync(join(this.demoModelDir, 'model.safetensors'))) {
      writeDemoModel(this.demoModelDir);
    }
    if (!existsSync(this.demoDataPath)) writeDemoDataset(this.demoDataPath);
    tighten(join(this.dir, 'demo'), 0o700);
  }

  readSettings(): Settings {
    const empty: Settings = { recentModels: [], recentDatasets: [] };
    if (!existsSync(this.settingsPath)) return empty;
    try {
      const v = JSON.parse(readFileSync(this.settingsPath, 'utf8')) as Partial<Settings>;
      const strings = (x: unknown): string[] => (Array.isArray(x) ? x.filter((s): s is string => typeof s === 'string') : []);
      return { recentModels: strings(v.recentModels), recentDatasets: strings(v.recentDatasets) };
    } catch {
      return empty; // a damaged settings file only loses the recent lists
    }
  }

  writeSettings(s: Settings): void {
    writeFileAtomic(this.settingsPath, JSON.stringify(s, null, 2) + '\n');
    tighten(this.settingsPath, 0o600);
  }

  /** Put a path first in a recent list (models or datasets), at most 8 kept. */
  pushRecent(kind: 'models' | 'datasets', path: string): void {
    const s = this.readSettings();
    const key = kind === 'models' ? 'recentModels' : 'recentDatasets';
    s[key] = [path, ...s[key].filter((p) => p !== path)].slice(0, RECENT_MAX);
    this.writeSettings(s);
  }
}

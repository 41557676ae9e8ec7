// The desktop package, checked: `electron-builder --dir` with build/electron-builder.yml for Linux x64 and arm64, on
// the built app (out/, `npm run build`), with a STAND-IN Electron distribution (tests/helpers/standin-electron.ts: the
// real one cannot be downloaded here; the stand-in carries Electron's fuse wire, so the fuse step runs for real). Then
// app.asar and app.asar.unpacked are listed (@electron/asar, the reader electron-builder itself uses): the built main,
// the service's entry, the preload and the renderer are in, byte for byte; dawn.node is there only for the target
// platform and architecture, and unpacked; every packed module is a production dependency (or one of theirs), so no
// devDependency is packed, and neither are tests, sources or source maps; the packed executable's fuses are flipped
// as the config says.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { extractFile, listPackage, statFile } from '@electron/asar';
import { FuseV1Options, getCurrentFuseWire } from '@electron/fuses';
import { beforeAll, describe, expect, it } from 'vitest';
import { writeStandInElectron } from '../helpers/standin-electron';
import { ROOT } from '../helpers/web';

const ARCHES = ['x64', 'arm64'] as const;
let release: string;
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  main: string; dependencies: Record<string, string>; devDependencies: Record<string, string>;
};

function unpackedDir(arch: (typeof ARCHES)[number]): string {
  return join(release, arch === 'x64' ? 'linux-unpacked' : `linux-${arch}-unpacked`);
}

beforeAll(() => {
  for (const f of ['out/main/index.js', 'out/main/service.js', 'out/preload/index.cjs', 'out/renderer/index.html']) {
    if (!existsSync(join(ROOT, f))) throw new Error(`${f} is missing: the packaging test packs the built app; run \`npm run build\` first.`);
  }
  const base = mkdtempSync(join(tmpdir(), 'mesp-package-'));
  const dist = join(base, 'electron-dist');
  const electronVersion = JSON.parse(readFileSync(join(ROOT, 'node_modules/electron/package.json'), 'utf8')).version as string;
  writeStandInElectron(dist, electronVersion);
  release = join(base, 'release');
  const r = spawnSync(process.execPath, [
    join(ROOT, 'node_modules/electron-builder/cli.js'), '--dir', '--linux', ...ARCHES.map((a) => `--${a}`), '--publish', 'never',
    '--config', 'build/electron-builder.yml', `-c.electronDist=${dist}`, `-c.directories.output=${release}`,
  ], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, ELECTRON_BUILDER_CACHE: join(base, 'cache') } });
  if (r.status !== 0) throw new Error(`electron-builder --dir failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
}, 300_000);

/** Every file of a folder, relative, with forward slashes. */
function walk(dir: string, at = dir): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) => {
    const p = join(dir, d.name);
    return d.isDirectory() ? walk(p, at) : [relative(at, p)];
  });
}

/** The package names a node_modules path list holds (`node_modules/a/node_modules/@s/b/x` → a, @s/b). */
function packagesIn(paths: string[]): Set<string> {
  const out = new Set<string>();
  for (const p of paths) {
    const parts = p.replace(/^\//, '').split('/');
    for (let i = 0; i < parts.length - 1; i++) {
      if (parts[i] !== 'node_modules') continue;
      const name = parts[i + 1].startsWith('@') ? `${parts[i + 1]}/${parts[i + 2]}` : parts[i + 1];
      if (name && !name.endsWith('/undefined')) out.add(name);
    }
  }
  return out;
}

/** The production dependencies and theirs (dependencies, optional ones and required peers that are installed), as Node resolves them. */
function productionClosure(): Set<string> {
  const names = new Set<string>();
  const seen = new Set<string>(); // package.json files visited
  const visit = (name: string, from: string): void => {
    for (let dir = from; ; dir = dirname(dir)) {
      const candidate = join(dir, 'node_modules', name, 'package.json');
      if (existsSync(candidate)) {
        names.add(name);
        if (seen.has(candidate)) return;
        seen.add(candidate);
        const m = JSON.parse(readFileSync(candidate, 'utf8')) as {
          dependencies?: Record<string, string>; optionalDependencies?: Record<string, string>; peerDependencies?: Record<string, string>;
          peerDependenciesMeta?: Record<string, { optional?: boolean }>;
        };
        // An optional peer (vue's typescript) is the app's to provide, not a dependency.
        const peers = Object.keys(m.peerDependencies ?? {}).filter((p) => !m.peerDependenciesMeta?.[p]?.optional);
        for (const dep of [...Object.keys({ ...m.dependencies, ...m.optionalDependencies }), ...peers]) visit(dep, dirname(candidate));
        return;
      }
      if (dirname(dir) === dir) return; // not installed (an optional or peer dependency)
    }
  };
  for (const d of Object.keys(pkg.dependencies)) visit(d, ROOT);
  return names;
}

describe.each(ARCHES)('the Linux %s package', (arch) => {
  const asar = (): string => join(unpackedDir(arch), 'resources', 'app.asar');
  const packed = (): string[] => listPackage(asar(), { isPack: false });
  const unpacked = (): string[] => walk(join(unpackedDir(arch), 'resources', 'app.asar.unpacked'));

  it('holds the built main, service, preload and renderer, byte for byte, and the package.json entry', () => {
    const files = new Set(packed());
    const built = ['out/main', 'out/preload', 'out/renderer'].flatMap((d) => walk(join(ROOT, d)).map((f) => `${d}/${f}`)).filter((f) => !f.endsWith('.map'));
    expect(built).toEqual(expect.arrayContaining(['out/main/index.js', 'out/main/service.js', 'out/preload/index.cjs', 'out/renderer/index.html']));
    for (const f of built) {
      expect(files.has(`/${f}`), `${f} is packed`).toBe(true);
      expect(extractFile(asar(), f).equals(readFileSync(join(ROOT, f))), `${f} is the built one`).toBe(true);
    }
    const packedPkg = JSON.parse(extractFile(asar(), 'package.json').toString()) as { main: string };
    expect(packedPkg.main).toBe(pkg.main);
    expect(files.has(`/${pkg.main}`)).toBe(true);
    const top = [...new Set(packed().map((p) => p.split('/')[1]))].sort();
    expect(top, 'nothing of the checkout but the built app').toEqual(['node_modules', 'out', 'package.json', 'profiles']);
    expect(packed().filter((p) => p.startsWith('/out/') && !/^\/out\/(main|preload|renderer)(\/|$)/.test(p)), 'not the browser-mode or CLI bundles').toEqual([]);
  });

  it(`has dawn.node for linux-${arch} only, unpacked`, () => {
    const natives = [...packed(), ...unpacked().map((f) => `/${f}`)].filter((p) => p.endsWith('.node'));
    const want = `/node_modules/webgpu/dist/linux-${arch}/dawn.node`;
    expect([...new Set(natives)]).toEqual([want]);
    expect(statFile(asar(), want.slice(1)), 'listed in the archive as unpacked').toMatchObject({ unpacked: true });
    const onDisk = join(unpackedDir(arch), 'resources', 'app.asar.unpacked', want);
    expect(statSync(onDisk).size).toBe(statSync(join(ROOT, want)).size);
    expect(unpacked().filter((f) => f.startsWith('node_modules/webgpu/dist/')), 'no other platform\'s files').toEqual([`node_modules/webgpu/dist/linux-${arch}/dawn.node`]);
  });

  it('packs production dependencies only: no devDependency, no tests, no sources or source maps', () => {
    const all = [...packed(), ...unpacked().map((f) => `/${f}`)];
    const modules = packagesIn(all);
    const prod = productionClosure();
    const strays = [...modules].filter((m) => !prod.has(m));
    expect(strays, 'packed modules that no production dependency needs').toEqual([]);
    const devOnly = Object.keys(pkg.devDependencies).filter((d) => !prod.has(d));
    expect(devOnly).toEqual(expect.arrayContaining(['electron', 'electron-builder', 'vitest', 'playwright-core', 'typescript', 'node-llama-cpp', 'onnxruntime-node']));
    for (const d of devOnly) expect(modules.has(d), `devDependency ${d} is packed`).toBe(false);
    for (const d of Object.keys(pkg.dependencies)) expect(modules.has(d), `dependency ${d} is packed`).toBe(true);
    const tests = all.filter((p) => /(^|\/)(tests?|__tests__|__mocks__)\//.test(p) || /\.(test|spec|e2e|electron|package)\.[cm]?[jt]sx?$/.test(p));
    expect(tests, 'test files').toEqual([]);
    expect(all.filter((p) => /\.(ts|mts|cts|tsx)$/.test(p) && !/\.d\.[cm]?ts$/.test(p)), 'TypeScript sources').toEqual([]);
    expect(all.filter((p) => p.endsWith('.map')), 'source maps').toEqual([]);
    console.log(`[linux-${arch}] app.asar: ${packed().length} entries, ${modules.size} modules; app.asar.unpacked: ${unpacked().length} files`);
  });

  it('has the fuses the config sets flipped in the packed executable', async () => {
    const exe = join(unpackedDir(arch), 'mesp-studio');
    const wire = (await getCurrentFuseWire(exe)) as unknown as Record<number, number>;
    const [ON, OFF] = ['1'.charCodeAt(0), '0'.charCodeAt(0)]; // a fuse's byte on the wire (@electron/fuses' FuseState)
    const want: [keyof typeof FuseV1Options, number][] = [
      ['RunAsNode', OFF],
      ['EnableCookieEncryption', ON],
      ['EnableNodeOptionsEnvironmentVariable', OFF],
      ['EnableNodeCliInspectArguments', OFF],
      ['EnableEmbeddedAsarIntegrityValidation', ON],
      ['OnlyLoadAppFromAsar', ON],
      ['GrantFileProtocolExtraPrivileges', OFF],
    ];
    for (const [name, state] of want) expect(String.fromCharCode(wire[FuseV1Options[name]]), name).toBe(String.fromCharCode(state));
  });
});

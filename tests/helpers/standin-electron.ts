// A STAND-IN for Electron's Linux distribution, for `electron-builder --dir` where the real one cannot be downloaded
// (CI has no network; node_modules/electron is installed without its binary). It is NOT Electron and cannot run the
// app: its `electron` is a shell script that says so and exits 1. It carries what electron-builder works with: the
// `electron` executable it renames to the product's, `resources/` where app.asar goes, `locales/`, `version`, and
// Electron's fuse wire — the sentinel @electron/fuses looks for, wire version 1, and the 8 fuses at the values a real
// Electron 41 ships with — so electron-builder's fuse step flips them as in a real build and a test can read them back.
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** @electron/fuses' sentinel: the fuse wire follows it in the Electron binary. */
export const FUSE_SENTINEL = 'dL7pKGdnNz796PbbjQWNKmHXBZaB9tsX';
/**
 * Electron's default fuses, in wire order ('1' on, '0' off): RunAsNode 1, EnableCookieEncryption 0,
 * EnableNodeOptionsEnvironmentVariable 1, EnableNodeCliInspectArguments 1, EnableEmbeddedAsarIntegrityValidation 0,
 * OnlyLoadAppFromAsar 0, LoadBrowserProcessSpecificV8Snapshot 0, GrantFileProtocolExtraPrivileges 1.
 */
export const ELECTRON_DEFAULT_FUSES = '10110001';

/** Write the stand-in distribution into `dir` (for electron-builder's `electronDist`). */
export function writeStandInElectron(dir: string, version: string): void {
  mkdirSync(join(dir, 'resources'), { recursive: true });
  mkdirSync(join(dir, 'locales'), { recursive: true });
  const wire = Buffer.concat([Buffer.from(FUSE_SENTINEL), Buffer.from([1, ELECTRON_DEFAULT_FUSES.length]), Buffer.from(ELECTRON_DEFAULT_FUSES)]);
  const script = Buffer.concat([
    Buffer.from('#!/bin/sh\n# MeSP Studio packaging test: a stand-in for the Electron binary (tests/helpers/standin-electron.ts).\n'),
    Buffer.from('echo "This is a stand-in for Electron used to test packaging; it cannot run MeSP Studio." >&2\nexit 1\n# fuse wire: '),
    wire,
    Buffer.from('\n'),
  ]);
  writeFileSync(join(dir, 'electron'), script);
  chmodSync(join(dir, 'electron'), 0o755);
  writeFileSync(join(dir, 'version'), version);
  writeFileSync(join(dir, 'locales', 'en-US.pak'), '');
  writeFileSync(join(dir, 'LICENSE'), 'Stand-in for Electron (MIT); see https://github.com/electron/electron for the real one.\n');
}

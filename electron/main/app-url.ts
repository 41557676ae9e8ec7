// Where the desktop app's window loads from, and which URLs are the app's own (electron/main/index.ts). The window loads
// app://mesp/index.html, a privileged custom scheme whose handler serves only the files of the built renderer folder
// (out/renderer, inside app.asar when packaged): a URL is the app's when its origin is exactly app://mesp (or, under
// `electron-vite dev`, exactly the dev server's origin), never because its text contains "/renderer/" — a file:// page
// elsewhere on disk, or a folder named renderer, is not the app. No Electron import: the unit tests check this file.
import { isAbsolute, join, normalize, relative } from 'node:path';

export const APP_SCHEME = 'app';
export const APP_HOST = 'mesp';
export const APP_ORIGIN = `${APP_SCHEME}://${APP_HOST}`;
export const APP_INDEX_URL = `${APP_ORIGIN}/index.html`;

/** Is `url` a page of the app: the app:// origin exactly, or the dev server's origin exactly when one is given. */
export function isAppUrl(url: string, devUrl?: string): boolean {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return false;
  }
  if (devUrl) {
    try {
      return u.origin === new URL(devUrl).origin;
    } catch {
      return false;
    }
  }
  return u.protocol === `${APP_SCHEME}:` && u.host === APP_HOST && u.username === '' && u.password === '' && u.port === '';
}

/**
 * The file of the renderer folder an app:// URL names (`/` is index.html), or null when the URL is not the app's or
 * its path leaves the folder (`..`, an encoded `%2e%2e`, a backslash, a NUL). The caller still opens regular files
 * only.
 */
export function appFileFor(url: string, rendererDir: string): string | null {
  if (!isAppUrl(url)) return null;
  let path: string;
  try {
    path = decodeURIComponent(new URL(url).pathname);
  } catch {
    return null; // a malformed %-escape
  }
  if (path.includes('\0') || path.includes('\\')) return null;
  if (path === '/' || path === '') path = '/index.html';
  const file = normalize(join(rendererDir, path));
  const rel = relative(rendererDir, file);
  if (rel === '' || rel.startsWith('..') || isAbsolute(rel)) return null;
  return file;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.mjs': 'text/javascript; charset=utf-8', '.cjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8', '.svg': 'image/svg+xml', '.png': 'image/png', '.ico': 'image/x-icon', '.json': 'application/json',
  '.woff2': 'font/woff2', '.wasm': 'application/wasm',
};

/** The content type the app:// handler answers with (module scripts need a JavaScript one). */
export function contentTypeFor(file: string): string {
  const dot = file.lastIndexOf('.');
  return (dot >= 0 && TYPES[file.slice(dot).toLowerCase()]) || 'application/octet-stream';
}

/**
 * Paths the user picked in a native dialog, per window: they are granted to the service for that window's life and
 * revoked when it closes; kept here too so a restarted service gets them again. Nothing is kept across launches.
 */
export class WindowGrants {
  private readonly byWindow = new Map<string, Set<string>>();

  add(window: string, path: string): void {
    const set = this.byWindow.get(window) ?? new Set<string>();
    set.add(path);
    this.byWindow.set(window, set);
  }

  /** The window closed: its paths, to revoke. */
  drop(window: string): string[] {
    const paths = [...(this.byWindow.get(window) ?? [])];
    this.byWindow.delete(window);
    return paths;
  }

  /** Every live grant (to replay into a restarted service). */
  all(): { window: string; path: string }[] {
    return [...this.byWindow].flatMap(([window, set]) => [...set].map((path) => ({ window, path })));
  }
}

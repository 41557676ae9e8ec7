// Electron main (DESIGN.md §1–2): the app's lifecycle and its one window. It starts the training service in a
// utilityProcess (electron/service/index.ts) and relays the contract over a MessagePort: every request from the
// renderer and every response and event from the service is validated against core/api/contract.ts here. Native file
// dialogs (model folder, dataset, export destination) are answered by main itself, which then grants the picked path to
// the service for the life of the window that asked (revoked when it closes; never kept across launches). The window
// loads app://mesp/ (electron/main/app-url.ts: a privileged scheme serving only the built renderer's files), and only
// pages of exactly that origin may call the service. The window is locked down: context isolation, sandbox, no Node
// integration, a strict CSP (index.html and a response header), no navigation, no new windows, no permissions, no
// remote content; the packaged executable's fuses (build/electron-builder.yml) forbid running it as Node, NODE_OPTIONS,
// --inspect and loading the app from anywhere but its app.asar. The window's size and position persist in
// userData/window-state.json; recent models and datasets persist in the service's settings.json.
import { BrowserWindow, MessageChannelMain, app, dialog, ipcMain, protocol, screen, session, utilityProcess, type IpcMainInvokeEvent, type MessagePortMain, type UtilityProcess } from 'electron';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  ResponseEnvelopeSchema,
  ServiceEventSchema,
  parseRequest,
  parseResult,
  type FileKind,
  type ResponseEnvelope,
  type ServiceEvent,
} from '../../core/api/contract';
import { IPC } from '../../core/api/ipc';
import type { FromService, ToService } from '../service/index';
import { APP_INDEX_URL, APP_SCHEME, WindowGrants, appFileFor, contentTypeFor, isAppUrl } from './app-url';

const here = dirname(fileURLToPath(import.meta.url));
const DEV_URL = process.env.ELECTRON_RENDERER_URL; // electron-vite dev only
const CSP =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; font-src 'self'; " +
  "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'none'";

app.enableSandbox();
// Before ready: app:// behaves like https (a secure, standard origin for 'self', module scripts and fetch).
protocol.registerSchemesAsPrivileged([{ scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true } }]);

const RENDERER_DIR = join(here, '../renderer');

/** The app:// handler: regular files of the renderer folder only, with the CSP; anything else is a 404. */
async function serveAppFile(req: Request): Promise<Response> {
  const file = appFileFor(req.url, RENDERER_DIR);
  const missing = (): Response => new Response('not found', { status: 404, headers: { 'content-type': 'text/plain' } });
  if (!file) return missing();
  try {
    if (!statSync(file).isFile()) return missing();
    const body = await readFile(file);
    return new Response(body, { headers: { 'content-type': contentTypeFor(file), 'content-security-policy': CSP, 'x-content-type-options': 'nosniff' } });
  } catch {
    return missing();
  }
}

// ------------------------------------------------------------------------------------------------ the service

class ServiceProcess {
  private child: UtilityProcess | null = null;
  private port: MessagePortMain | null = null;
  private pending = new Map<number, (r: ResponseEnvelope) => void>();
  private nextId = 1;
  private ready: Promise<void> = Promise.resolve();
  private markReady: () => void = () => {};
  private restarts = 0;
  private closing = false;
  private shutdownDone: (() => void) | null = null;
  private readonly grants = new WindowGrants();

  constructor(private readonly onEvent: (e: ServiceEvent) => void) {}

  start(): void {
    const child = utilityProcess.fork(join(here, 'service.js'), ['--data-dir', app.getPath('userData'), '--version', app.getVersion()], {
      serviceName: 'MeSP training service',
      stdio: 'inherit',
    });
    const { port1, port2 } = new MessageChannelMain();
    this.child = child;
    this.port = port1;
    this.ready = new Promise((r) => (this.markReady = r));
    port1.on('message', (e) => {
      const m = e.data as FromService;
      if ('ready' in m) this.markReady();
      else if ('shutdown' in m) this.shutdownDone?.();
      else if ('response' in m) {
        const r = ResponseEnvelopeSchema.safeParse(m.response);
        if (!r.success) return;
        const done = this.pending.get(r.data.id);
        this.pending.delete(r.data.id);
        done?.(r.data);
      } else if ('event' in m) {
        const ev = ServiceEventSchema.safeParse(m.event);
        if (ev.success) this.onEvent(ev.data);
      }
    });
    port1.start();
    child.once('spawn', () => child.postMessage({ type: 'port' }, [port2]));
    // A restarted service gets the open windows' grants again.
    void this.ready.then(() => {
      for (const g of this.grants.all()) this.send({ control: 'grant', path: g.path, scope: g.window });
    });
    child.once('exit', (code) => {
      this.port = null;
      this.markReady(); // requests waiting for a service that never started get SERVICE_DOWN instead of hanging
      for (const done of this.pending.values()) {
        done({ id: 0, ok: false, error: { code: 'SERVICE_DOWN', message: `the training service stopped (exit code ${code}) while answering. Runs on disk are kept: open Runs to resume.` } });
      }
      this.pending.clear();
      this.shutdownDone?.();
      if (this.closing) return;
      this.onEvent({ type: 'service', state: 'down', message: `the training service stopped (exit code ${code}); restarting it. A run in progress shows as interrupted in Runs and can be resumed.` });
      if (this.restarts++ < 5) {
        setTimeout(() => {
          this.start();
          void this.ready.then(() => this.port && this.onEvent({ type: 'service', state: 'restarted', message: 'the training service restarted.' }));
        }, 1000);
      } else {
        this.onEvent({ type: 'service', state: 'down', message: 'the training service keeps stopping; quit the app and check its log (run it from a terminal to see it).' });
      }
    });
  }

  private send(m: ToService): void {
    this.port?.postMessage(m);
  }

  async request(method: string, params: unknown): Promise<ResponseEnvelope> {
    await this.ready;
    if (!this.port) return { id: 0, ok: false, error: { code: 'SERVICE_DOWN', message: 'the training service is not running; it restarts by itself, try again in a moment.' } };
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.pending.set(id, resolve);
      this.send({ request: { id, method, params } });
    });
  }

  /** A path picked in a native dialog, for the life of `window`. */
  grant(path: string, window: string): void {
    this.grants.add(window, path);
    this.send({ control: 'grant', path, scope: window });
  }

  /** The window closed: its grants end. */
  revoke(window: string): void {
    this.grants.drop(window);
    this.send({ control: 'revoke', scope: window });
  }

  /** Ask the service to stop a run in progress cleanly (a checkpoint is written), up to `ms`. */
  async shutdown(ms: number): Promise<void> {
    this.closing = true;
    if (!this.port) return;
    await Promise.race([new Promise<void>((r) => { this.shutdownDone = r; this.send({ control: 'shutdown' }); }), new Promise<void>((r) => setTimeout(r, ms))]);
    this.child?.kill();
  }
}

// ------------------------------------------------------------------------------------------------ the window

interface WindowState {
  x?: number;
  y?: number;
  width: number;
  height: number;
  maximized: boolean;
}

const statePath = (): string => join(app.getPath('userData'), 'window-state.json');

function readWindowState(): WindowState {
  const fallback: WindowState = { width: 1360, height: 880, maximized: false };
  try {
    const s = JSON.parse(readFileSync(statePath(), 'utf8')) as WindowState;
    if (!(s.width >= 640 && s.height >= 480)) return fallback;
    // Only restore a position that is still on a screen.
    if (s.x !== undefined && s.y !== undefined) {
      const d = screen.getDisplayMatching({ x: s.x, y: s.y, width: s.width, height: s.height }).workArea;
      const visible = s.x < d.x + d.width && s.x + s.width > d.x && s.y < d.y + d.height && s.y + s.height > d.y;
      if (!visible) return { ...s, x: undefined, y: undefined };
    }
    return s;
  } catch {
    return fallback;
  }
}

function trackWindowState(win: BrowserWindow): void {
  let timer: NodeJS.Timeout | null = null;
  const save = (): void => {
    if (win.isDestroyed()) return;
    const b = win.getNormalBounds();
    const s: WindowState = { x: b.x, y: b.y, width: b.width, height: b.height, maximized: win.isMaximized() };
    try {
      writeFileSync(statePath(), JSON.stringify(s));
    } catch {
      // the window state is a convenience
    }
  };
  const later = (): void => {
    if (timer) clearTimeout(timer);
    timer = setTimeout(save, 400);
  };
  win.on('resize', later);
  win.on('move', later);
  win.on('close', save);
}

function appUrl(): string {
  return DEV_URL ?? APP_INDEX_URL;
}

let win: BrowserWindow | null = null;

function createWindow(service: ServiceProcess): BrowserWindow {
  const s = readWindowState();
  const w = new BrowserWindow({
    x: s.x, y: s.y, width: s.width, height: s.height, minWidth: 960, minHeight: 640, show: false, title: 'MeSP Studio',
    backgroundColor: '#f6f7fb',
    webPreferences: {
      preload: join(here, '../preload/index.cjs'),
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      spellcheck: false,
    },
  });
  if (s.maximized) w.maximize();
  trackWindowState(w);
  w.once('ready-to-show', () => w.show());
  w.webContents.setWindowOpenHandler(() => ({ action: 'deny' }));
  w.webContents.on('will-navigate', (e, url) => {
    if (!isAppUrl(url, DEV_URL)) e.preventDefault();
  });
  w.webContents.on('will-redirect', (e, url) => {
    if (!isAppUrl(url, DEV_URL)) e.preventDefault();
  });
  w.webContents.on('will-attach-webview', (e) => e.preventDefault());
  const scope = String(w.webContents.id);
  w.once('closed', () => service.revoke(scope)); // what its dialogs granted ends with the window
  if (existsSync(join(RENDERER_DIR, 'index.html')) || DEV_URL) void w.loadURL(appUrl());
  return w;
}

// ------------------------------------------------------------------------------------------------ the relay

async function chooseFile(kind: FileKind, defaultPath: string | undefined): Promise<string | null> {
  const options: Electron.OpenDialogOptions =
    kind === 'model'
      ? { title: 'Choose a model folder (config.json + model.safetensors)', properties: ['openDirectory'] }
      : kind === 'exportDir'
        ? { title: 'Choose where to export the adapter', properties: ['openDirectory', 'createDirectory'] }
        : kind === 'dataset'
          ? { title: 'Choose a dataset', properties: ['openFile'], filters: [{ name: 'JSON lines', extensions: ['jsonl', 'json'] }, { name: 'All files', extensions: ['*'] }] }
          : { title: 'Choose a device profile', properties: ['openFile'], filters: [{ name: 'Profile', extensions: ['json'] }] };
  if (defaultPath) options.defaultPath = defaultPath;
  const r = win ? await dialog.showOpenDialog(win, options) : await dialog.showOpenDialog(options);
  return r.canceled || !r.filePaths[0] ? null : r.filePaths[0];
}

function relay(service: ServiceProcess): void {
  ipcMain.handle(IPC.request, async (event: IpcMainInvokeEvent, raw: unknown): Promise<ResponseEnvelope> => {
    const id = typeof raw === 'object' && raw !== null && typeof (raw as { id?: unknown }).id === 'number' ? (raw as { id: number }).id : 0;
    const frame = event.senderFrame;
    if (!frame || frame.parent !== null || !isAppUrl(frame.url, DEV_URL) || !BrowserWindow.fromWebContents(event.sender)) {
      return { id, ok: false, error: { code: 'FORBIDDEN', message: 'requests are accepted from the app window only.' } };
    }
    let req: ReturnType<typeof parseRequest>;
    try {
      req = parseRequest(raw);
    } catch (e) {
      const err = e as Error & { field?: string };
      return { id, ok: false, error: { code: 'BAD_MESSAGE', message: err.message, ...(err.field ? { field: err.field } : {}) } };
    }
    if (req.method === 'files.choose') {
      const p = req.params as { kind: FileKind; defaultPath?: string };
      const path = await chooseFile(p.kind, p.defaultPath);
      if (path) service.grant(path, String(event.sender.id));
      return { id, ok: true, result: parseResult('files.choose', { path }) };
    }
    const res = await service.request(req.method, req.params);
    if (!res.ok) return { ...res, id };
    try {
      return { id, ok: true, result: parseResult(req.method, res.result) };
    } catch (e) {
      return { id, ok: false, error: { code: 'BAD_MESSAGE', message: (e as Error).message } };
    }
  });
}

// ------------------------------------------------------------------------------------------------ lifecycle

if (!app.requestSingleInstanceLock()) {
  app.quit();
} else {
  app.on('second-instance', () => {
    if (win) {
      if (win.isMinimized()) win.restore();
      win.focus();
    }
  });

  let service: ServiceProcess | null = null;
  app.whenReady().then(() => {
    const ses = session.defaultSession;
    ses.setPermissionRequestHandler((_wc, _perm, cb) => cb(false));
    ses.setPermissionCheckHandler(() => false);
    // No remote content: only the app's own files (or the dev server) load.
    ses.webRequest.onBeforeRequest({ urls: ['http://*/*', 'https://*/*', 'ws://*/*', 'wss://*/*'] }, (d, cb) => cb({ cancel: !(DEV_URL && d.url.startsWith(DEV_URL.replace(/^http/, d.url.startsWith('ws') ? 'ws' : 'http'))) }));
    ses.webRequest.onHeadersReceived((d, cb) => cb({ responseHeaders: { ...d.responseHeaders, 'Content-Security-Policy': [CSP] } }));
    ses.protocol.handle(APP_SCHEME, serveAppFile);

    service = new ServiceProcess((e) => win?.webContents.send(IPC.event, e));
    service.start();
    relay(service);
    const svc = service;
    const open = (): void => {
      win = createWindow(svc);
      win.on('closed', () => (win = null));
    };
    open();
    app.on('activate', () => {
      if (!win) open();
    });
  });

  let quitting = false;
  app.on('before-quit', (e) => {
    if (quitting || !service) return;
    e.preventDefault();
    quitting = true;
    void service.shutdown(10_000).finally(() => app.quit());
  });
  app.on('window-all-closed', () => {
    if (process.platform !== 'darwin') app.quit();
  });
}

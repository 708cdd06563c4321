// A small W3C WebDriver client for the browsers playwright-core cannot drive here: Debian's
// Firefox ESR (through geckodriver) and WebKitGTK's MiniBrowser (through WebKitWebDriver,
// tests/scripts/webkit-driver.mjs). WebDriver Actions give trusted input (`isTrusted`), as CDP
// does for Chromium. Only what the end-to-end tests use.
import { spawn } from 'node:child_process';
import net from 'node:net';
import { startWebKitDriver } from '../scripts/webkit-driver.mjs';

const freePort = () => new Promise((resolve) => {
  const s = net.createServer().listen(0, '127.0.0.1', () => {
    const { port } = s.address();
    s.close(() => resolve(port));
  });
});

async function waitForPort(port) {
  for (let i = 0; i < 200; i++) {
    const up = await new Promise((r) => net.connect(port, '127.0.0.1').on('connect', function () { this.end(); r(true); }).on('error', () => r(false)));
    if (up) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no WebDriver on port ${port}`);
}

/** Firefox prefs for a closed network: no updates, telemetry or remote settings. */
const FIREFOX_PREFS = {
  'app.update.enabled': false,
  'browser.shell.checkDefaultBrowser': false,
  'datareporting.policy.dataSubmissionEnabled': false,
  'toolkit.telemetry.enabled': false,
  'network.captive-portal-service.enabled': false,
  'network.connectivity-service.enabled': false,
  'browser.safebrowsing.malware.enabled': false,
  'browser.safebrowsing.phishing.enabled': false,
  'extensions.update.enabled': false,
  'services.settings.server': 'http://127.0.0.1:9/',
};

/** Starts a driver for `browser` ('firefox' | 'webkit'): { url, stop, capabilities }. */
export async function startDriver(browser) {
  if (browser === 'webkit') return { ...(await startWebKitDriver()), capabilities: {} };
  const port = await freePort();
  const child = spawn('geckodriver', [`--port=${port}`], { stdio: 'ignore' });
  await waitForPort(port);
  return {
    url: `http://127.0.0.1:${port}`,
    stop: () => child.kill(),
    capabilities: { 'moz:firefoxOptions': { binary: '/usr/bin/firefox-esr', args: ['-headless'], prefs: FIREFOX_PREFS } },
  };
}

export class Session {
  constructor(driverUrl, id) {
    this.base = `${driverUrl}/session/${id}`;
    this.driverUrl = driverUrl;
    this.id = id;
  }

  static async create(driver) {
    const r = await fetch(`${driver.url}/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ capabilities: { alwaysMatch: driver.capabilities } }),
    });
    const v = await r.json();
    if (!v.value?.sessionId) throw new Error(`no session: ${JSON.stringify(v).slice(0, 500)}`);
    return new Session(driver.url, v.value.sessionId);
  }

  async call(method, path, body) {
    const r = await fetch(`${this.base}${path}`, {
      method,
      headers: { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const v = await r.json().catch(() => ({}));
    if (v.value?.error) throw new Error(`${method} ${path}: ${v.value.error}: ${v.value.message}`);
    return v.value;
  }

  goto(url) {
    return this.call('POST', '/url', { url });
  }

  /** Runs `fn(...args)` in the page (it may return a promise) and resolves to its value. */
  async evaluate(fn, ...args) {
    const script = `const done = arguments[arguments.length - 1];
      Promise.resolve().then(() => (${fn})(...Array.from(arguments).slice(0, -1)))
        .then((v) => done({ ok: v === undefined ? null : v }), (e) => done({ err: String(e && e.stack || e) }));`;
    const out = await this.call('POST', '/execute/async', { script, args });
    if (out && 'err' in out) throw new Error(out.err);
    return out?.ok;
  }

  async waitFor(fn, ms = 20000) {
    const end = Date.now() + ms;
    while (Date.now() < end) {
      if (await this.evaluate(fn)) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`timed out waiting for ${fn}`);
  }

  /** Trusted pointer input: a list of ['move', x, y] | ['down'] | ['up'] in one action chain. */
  pointer(steps) {
    const actions = steps.map(([kind, x, y]) => (kind === 'move'
      ? { type: 'pointerMove', duration: 0, x: Math.round(x), y: Math.round(y), origin: 'viewport' }
      : { type: kind === 'down' ? 'pointerDown' : 'pointerUp', button: 0 }));
    return this.call('POST', '/actions', { actions: [{ type: 'pointer', id: 'mouse', parameters: { pointerType: 'mouse' }, actions }] });
  }

  /** A trusted wheel event at (x, y). */
  wheel(x, y, deltaY) {
    return this.call('POST', '/actions', { actions: [{ type: 'wheel', id: 'wheel', actions: [{ type: 'scroll', x, y, deltaX: 0, deltaY, duration: 0, origin: 'viewport' }] }] });
  }

  async newWindow() {
    const w = await this.call('POST', '/window/new', { type: 'tab' });
    return w.handle;
  }

  switchTo(handle) {
    return this.call('POST', '/window', { handle });
  }

  windows() {
    return this.call('GET', '/window/handles');
  }

  /** Closes the current tab (the page goes away as a closed tab does). */
  closeWindow() {
    return this.call('DELETE', '/window');
  }

  async quit() {
    await fetch(this.base, { method: 'DELETE' }).catch(() => {});
  }
}

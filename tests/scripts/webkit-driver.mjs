// WebKit for the browser tests: WebKitGTK's WebDriver (Debian's webkit2gtk-driver) with its
// MiniBrowser, behind a small proxy that adds the capabilities WebKitGTK needs to every new
// session (wasm-bindgen-test-runner's Safari driver sends none). Run under xvfb-run (a display)
// as root with WEBKIT_DISABLE_SANDBOX_THIS_IS_DANGEROUS=1. Prints `webdriver <url>` when ready;
// the test command points SAFARIDRIVER_REMOTE (wasm-bindgen) or the e2e driver at it.
import http from 'node:http';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import net from 'node:net';

export const MINIBROWSER = ['/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser', '/usr/lib/x86_64-linux-gnu/webkit2gtk-4.0/MiniBrowser', '/usr/libexec/webkit2gtk-4.1/MiniBrowser']
  .find((p) => existsSync(p));

/** The capabilities WebKitGTK's driver needs to start MiniBrowser for automation. */
export const WEBKIT_CAPABILITIES = {
  browserName: 'MiniBrowser',
  'webkitgtk:browserOptions': { binary: MINIBROWSER, args: ['--automation'] },
};

const freePort = () => new Promise((resolve) => {
  const s = net.createServer().listen(0, '127.0.0.1', () => {
    const { port } = s.address();
    s.close(() => resolve(port));
  });
});

/** Starts WebKitWebDriver and the proxy; resolves to { url, stop }. */
export async function startWebKitDriver({ port = 0 } = {}) {
  if (!MINIBROWSER) throw new Error('MiniBrowser not found: apt-get install webkit2gtk-driver');
  const driverPort = await freePort();
  // Its output goes to /dev/null: a pipe nobody reads blocks it and the session hangs.
  const driver = spawn('WebKitWebDriver', [`--port=${driverPort}`], {
    stdio: 'ignore',
    env: { ...process.env, WEBKIT_DISABLE_SANDBOX_THIS_IS_DANGEROUS: '1' },
  });
  for (let i = 0; i < 100; i++) {
    const up = await new Promise((r) => net.connect(driverPort, '127.0.0.1').on('connect', function () { this.end(); r(true); }).on('error', () => r(false)));
    if (up) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const server = http.createServer(async (req, res) => {
    const chunks = [];
    for await (const c of req) chunks.push(c);
    let body = Buffer.concat(chunks);
    if (req.method === 'POST' && req.url === '/session') {
      body = Buffer.from(JSON.stringify({ capabilities: { alwaysMatch: WEBKIT_CAPABILITIES } }));
    }
    const up = http.request({ host: '127.0.0.1', port: driverPort, path: req.url, method: req.method, headers: { 'content-type': 'application/json', 'content-length': body.length } }, (r) => {
      res.writeHead(r.statusCode, r.headers);
      r.pipe(res);
    });
    up.on('error', (e) => res.writeHead(502).end(String(e)));
    up.end(body);
  });
  await new Promise((r) => server.listen(port, '127.0.0.1', r));
  const url = `http://127.0.0.1:${server.address().port}`;
  return {
    url,
    stop: () => {
      server.close();
      driver.kill();
    },
  };
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop())) {
  const d = await startWebKitDriver({ port: Number(process.env.WEBKIT_PROXY_PORT || 0) });
  console.log(`webdriver ${d.url}`);
  process.on('SIGTERM', () => { d.stop(); process.exit(0); });
  process.on('SIGINT', () => { d.stop(); process.exit(0); });
}

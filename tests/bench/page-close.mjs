// What reaches the server when a page goes away, measured per browser the way
// ../shared/notes/page-close.md measured Chromium: a page on one loopback origin POSTs, with
// SigV4-style headers (so a CORS preflight is needed) and keepalive, to another, from its
// pagehide or visibilitychange handler; the page then navigates away or its tab is closed.
// 10 runs per cell; "delivered" = the POST reached the server with its body. Also: is a
// localStorage write in the handler there for the next page? Not a test: `node
// tests/bench/page-close.mjs firefox|webkit` prints a table (run WebKit under xvfb-run).
// BUSY_MS=3 makes the handler compute that long before it sends, as a module that signs
// its request does: Firefox closing a tab terminates a handler that is still running.
import http from 'node:http';
import { startDriver, Session } from '../e2e/webdriver.mjs';

const browser = process.argv[2] || 'firefox';
const RUNS = Number(process.env.RUNS || 10);
const got = new Set();
const headers = 'authorization, content-type, x-amz-date, x-amz-security-token, x-amz-target';

const sink = http.createServer((req, res) => {
  res.setHeader('Access-Control-Allow-Origin', req.headers.origin || '*');
  if (req.method === 'OPTIONS') {
    res.setHeader('Access-Control-Allow-Methods', 'POST');
    res.setHeader('Access-Control-Allow-Headers', req.headers['access-control-request-headers'] || headers);
    res.setHeader('Access-Control-Max-Age', '600');
    return res.writeHead(200).end();
  }
  let body = '';
  req.on('data', (c) => { body += c; });
  req.on('end', () => {
    if (body) got.add(body);
    res.writeHead(200).end('{}');
  });
});
await new Promise((r) => sink.listen(0, '127.0.0.1', r));
const sinkUrl = `http://127.0.0.1:${sink.address().port}/`;

const pages = http.createServer((req, res) => {
  const url = new URL(req.url, 'http://x');
  const id = url.searchParams.get('id');
  const on = url.searchParams.get('on');
  const warm = url.searchParams.get('warm') === '1';
  res.writeHead(200, { 'Content-Type': 'text/html' }).end(`<!doctype html><html><body>page ${id}<script>
    const send = () => { const t0 = performance.now(); while (performance.now() - t0 < ${Number(process.env.BUSY_MS || 0)}) { /* computing */ }
      localStorage.setItem('kept-${id}', '1');
      fetch(${JSON.stringify(sinkUrl)}, { method: 'POST', keepalive: true, mode: 'cors', credentials: 'omit',
        headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'Kinesis_20131202.PutRecords',
          'x-amz-date': '20261201T000000Z', 'x-amz-security-token': 't', authorization: 'AWS4-HMAC-SHA256 x' },
        body: ${JSON.stringify(`run-${id}`)} }).catch(() => {});
    };
    let done = false;
    const once = () => { if (!done) { done = true; send(); } };
    ${on === 'pagehide' ? "addEventListener('pagehide', once);" : "document.addEventListener('visibilitychange', () => { if (document.visibilityState === 'hidden') once(); });"}
    ${warm ? `fetch(${JSON.stringify(sinkUrl)}, { method: 'POST', mode: 'cors', headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'w', 'x-amz-date': 'w', 'x-amz-security-token': 'w', authorization: 'w' }, body: '' }).then(() => { window.warmed = true; });` : 'window.warmed = true;'}
  </script></body></html>`);
});
await new Promise((r) => pages.listen(0, '127.0.0.1', r));
const origin = `http://127.0.0.1:${pages.address().port}`;

const driver = await startDriver(browser);
const s = await Session.create(driver);
const table = [];
for (const end of ['navigated away', 'tab closed']) {
  for (const on of ['pagehide', 'visibilitychange']) {
    for (const warm of [true, false]) {
      let delivered = 0;
      let kept = 0;
      for (let i = 0; i < RUNS; i++) {
        const id = `${end}-${on}-${warm}-${i}`.replace(/ /g, '_');
        const other = end === 'tab closed' ? await s.newWindow() : null;
        if (other) {
          const handles = await s.windows();
          await s.switchTo(handles.find((h) => h !== other));
        }
        await s.goto(`${origin}/?${new URLSearchParams({ id, on, warm: warm ? '1' : '0' })}`);
        await s.waitFor(() => window.warmed);
        if (end === 'navigated away') await s.goto(`${origin}/?id=next`);
        else {
          await s.closeWindow();
          await s.switchTo(other);
          await s.goto(`${origin}/?id=next`);
        }
        await new Promise((r) => setTimeout(r, 1500));
        if (got.has(`run-${id}`)) delivered++;
        if (await s.evaluate((k) => localStorage.getItem(k) === '1', `kept-${id}`)) kept++;
      }
      table.push({ end, on, preflight: warm ? 'cached' : 'not cached', delivered: `${delivered}/${RUNS}`, localStorage: `${kept}/${RUNS}` });
    }
  }
}
await s.quit();
driver.stop();
sink.close();
pages.close();
console.log(`| how the page ended (${browser}) | handler | preflight | keepalive fetch delivered | localStorage write kept |`);
console.log('|---|---|---|---:|---:|');
for (const r of table) console.log(`| ${r.end} | ${r.on} | ${r.preflight} | ${r.delivered} | ${r.localStorage} |`);

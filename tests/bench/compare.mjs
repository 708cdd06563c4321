// Side by side, in one headless Chromium run and against one null sink: this producer, a
// hand-written producer on @aws-sdk/client-kinesis, Amplify Analytics' Kinesis provider, and
// aws4fetch with hand batching. Returns the BENCHMARKS.md section.
import http from 'node:http';
import { readFile, mkdir } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import os from 'node:os';
import zlib from 'node:zlib';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';
import { Sink } from './sink.mjs';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const OUT = path.join(os.tmpdir(), 'kbp-bench');
const ANCHORS = (process.env.BENCH_ANCHORS || 'ours,sdk,amplify,aws4fetch').split(',');
const NAMES = { ours: 'kinesis-browser-producer', sdk: 'AWS SDK v3 client-kinesis + hand batching', amplify: 'Amplify Analytics (Kinesis)', aws4fetch: 'aws4fetch + hand batching' };
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const sizes = (buf) => ({ raw: buf.length, gzip: zlib.gzipSync(buf, { level: 9 }).length, brotli: zlib.brotliCompressSync(buf, { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 11 } }).length });
const version = (pkg) => JSON.parse(readFileSync(path.join(ROOT, 'node_modules', pkg, 'package.json'))).version;

async function bundles() {
  await mkdir(OUT, { recursive: true });
  for (const a of ['sdk', 'amplify', 'aws4fetch', 'smithy-sign']) {
    await esbuild.build({ entryPoints: [path.join(ROOT, 'tests/bench/anchors', `${a}.js`)], bundle: true, format: 'esm', platform: 'browser', minify: true, outfile: path.join(OUT, `${a}.js`), logLevel: 'silent' });
  }
  const files = {
    ours: ['www/pkg/kbp_core_bg.wasm', 'www/pkg/kbp_core.js', 'www/pkg/kinesis-browser-producer.js'].map((f) => path.join(ROOT, f)),
    sdk: [path.join(OUT, 'sdk.js')], amplify: [path.join(OUT, 'amplify.js')], aws4fetch: [path.join(OUT, 'aws4fetch.js')],
  };
  const out = {};
  for (const [a, list] of Object.entries(files)) {
    const each = await Promise.all(list.map(async (f) => sizes(await readFile(f))));
    out[a] = each.reduce((t, s) => ({ raw: t.raw + s.raw, gzip: t.gzip + s.gzip, brotli: t.brotli + s.brotli }), { raw: 0, gzip: 0, brotli: 0 });
  }
  return out;
}

function page(anchor, sinkUrl) {
  const config = { region: 'us-east-1', streamName: 'general_stream', identityPoolId: 'us-east-1:00000000-0000-4000-8000-0000000b0b00', credentialsUrl: `${sinkUrl}/credentials`, endpoint: sinkUrl };
  const start = anchor === 'ours'
    ? `const m = await import('/pkg/kinesis-browser-producer.js'); await m.ready;
       const p = m.Producer.start({ streamName: 'general_stream', region: 'us-east-1', endpoint: ${JSON.stringify(sinkUrl)}, credentials: { url: ${JSON.stringify(`${sinkUrl}/credentials`)} }, mousemoveMaxPerSecond: 1000 });
       window.bench = { record: (o) => p.record(o), flush: () => p.flush() }; `
    : `const m = await import('/bundles/${anchor}.js'); window.bench = m.start(${JSON.stringify(config)});`;
  return `<!doctype html><html><head><meta charset="utf-8"><title>bench ${anchor}</title>
<script>
  // Route every AWS endpoint (Cognito, Kinesis) to the null sink, for every producer alike.
  const SINK = ${JSON.stringify(sinkUrl)};
  const rewrite = (u) => u.replace(/^https:\\/\\/[^/]*amazonaws\\.com/, SINK);
  const origFetch = window.fetch.bind(window);
  window.fetch = async (input, init) => {
    if (!(input instanceof Request)) return origFetch(rewrite(String(input)), init);
    if (rewrite(input.url) === input.url) return origFetch(input, init);
    const body = ['GET', 'HEAD'].includes(input.method) ? undefined : await input.arrayBuffer();
    return origFetch(rewrite(input.url), { method: input.method, headers: input.headers, body, mode: 'cors', credentials: 'omit', signal: input.signal });
  };
  window.longTasks = 0;
  new PerformanceObserver((l) => { window.longTasks += l.getEntries().length; }).observe({ type: 'longtask' });
  window.seen = 0;
  for (const t of ['mousemove', 'mousedown', 'mouseup', 'click', 'wheel']) document.addEventListener(t, () => { window.seen++; }, { passive: true });
</script>
<script type="module">${start}
  window.bench.record({ first: true, at: performance.now() });
  window.ready = true;
</script></head><body style="margin:0;height:1500px"></body></html>`;
}

function serve(sinkUrl) {
  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url, 'http://x');
    const m = /^\/anchor\/(\w+)\.html$/.exec(url.pathname);
    if (m) return res.writeHead(200, { 'Content-Type': 'text/html' }).end(page(m[1], sinkUrl));
    const file = url.pathname.startsWith('/bundles/') ? path.join(OUT, url.pathname.slice(9)) : url.pathname.startsWith('/pkg/') || url.pathname.startsWith('/pkg-demo/') ? path.join(ROOT, 'www', url.pathname) : null;
    if (!file) return res.writeHead(404).end();
    try {
      const body = await readFile(file);
      res.writeHead(200, { 'Content-Type': file.endsWith('.wasm') ? 'application/wasm' : 'text/javascript' }).end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  return new Promise((r) => server.listen(0, '127.0.0.1', () => r(server)));
}

async function until(f, ms) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await f()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}

async function runOnce(browser, base, sink, anchor) {
  const page = await browser.newPage({ viewport: { width: 1200, height: 800 } });
  if (process.env.BENCH_DEBUG) {
    page.on('console', (m) => console.log(anchor, 'console:', m.type(), m.text()));
    page.on('pageerror', (e) => console.log(anchor, 'pageerror:', e.message));
    page.on('requestfailed', (r) => console.log(anchor, 'failed:', r.url(), r.failure()?.errorText));
  }
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Performance.enable');
  const metric = async (name) => (await cdp.send('Performance.getMetrics')).metrics.find((x) => x.name === name).value;
  sink.reset();
  await page.goto(`${base}/anchor/${anchor}.html`);
  await page.waitForFunction(() => window.ready, null, { timeout: 30000 });
  const timeOrigin = await page.evaluate(() => performance.timeOrigin);
  await until(() => sink.stats.firstRecordAt, 20000);
  const firstRecordMs = sink.stats.firstRecordAt ? sink.stats.firstRecordAt - timeOrigin : NaN;

  // 1,000 trusted mouse events: moves, with a press and click every 50.
  sink.reset();
  await page.evaluate(() => { window.seen = 0; window.longTasks = 0; });
  const task0 = await metric('ScriptDuration');
  for (let i = 0; i < 1000;) {
    if (i % 50 === 49) {
      await page.mouse.down();
      await page.mouse.up();
      i += 3;
    } else {
      await page.mouse.move(50 + (i * 7) % 1100, 50 + (i * 13) % 700);
      i += 1;
    }
  }
  await page.evaluate(() => window.bench.flush());
  const seen = await page.evaluate(() => window.seen);
  await until(() => sink.stats.userRecords >= seen, 60000);
  const task1 = await metric('ScriptDuration');
  const events = Math.max(1, seen);
  const mouse = {
    events: seen,
    delivered: sink.stats.userRecords,
    mainThreadMs: ((task1 - task0) * 1000 * 1000) / events,
    longTasks: await page.evaluate(() => window.longTasks),
    bodyBytes: (sink.stats.bodyBytes * 1000) / events,
    putPayloadUnits: (sink.stats.putPayloadUnits * 1000) / events,
  };

  // Sustained: app records offered at up to 40,000/s for 5 s; what reaches the sink per second.
  sink.reset();
  await page.evaluate(() => new Promise((resolve) => {
    const end = performance.now() + 5000;
    let n = 0;
    const t = setInterval(() => {
      for (let i = 0; i < 400; i++) window.bench.record({ n: n++, kind: 'load' });
      if (performance.now() >= end) { clearInterval(t); resolve(); }
    }, 10);
  }));
  await new Promise((r) => setTimeout(r, 1000));
  const sustained = sink.stats.userRecords / 6;
  await page.close();
  return { firstRecordMs, ...mouse, sustained };
}

async function signing(browser, base) {
  const page = await browser.newPage();
  await page.goto(`${base}/anchor/ours.html`);
  await page.waitForFunction(() => window.ready);
  const body = 91 * 1024;
  // The signing helper is in the demo build (cargo feature "demo"), not in what pages load.
  const ours = await page.evaluate(async (b) => { const d = await import('/pkg-demo/kinesis-browser-producer.js'); await d.ready; d.benchSign(50, b); return d.benchSign(1000, b); }, body);
  const smithy = await page.evaluate(async (b) => { const m = await import('/bundles/smithy-sign.js'); await m.benchSign(20, b); return m.benchSign(300, b); }, body);
  await page.close();
  const rate = (n, ms) => ({ perSecond: (n * 1000) / ms, mbPerSecond: (n * body * 1000) / ms / 1e6 });
  return { body, ours: rate(1000, ours), smithy: rate(300, smithy) };
}

export async function compare(browser, runs) {
  const sink = new Sink();
  const sinkUrl = `http://127.0.0.1:${await sink.listen()}`;
  const sizesBy = await bundles();
  const server = await serve(sinkUrl);
  const base = `http://127.0.0.1:${server.address().port}`;
  const results = {};
  for (const a of ANCHORS) {
    const list = [];
    for (let i = 0; i < runs; i++) list.push(await runOnce(browser, base, sink, a));
    results[a] = Object.fromEntries(Object.keys(list[0]).map((k) => [k, median(list.map((r) => r[k]))]));
  }
  const sign = await signing(browser, base);
  server.close();
  await sink.close();

  const kb = (n) => (n / 1000).toFixed(1);
  const f = (x, d = 0) => (Number.isFinite(x) ? x.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d }) : 'n/a');
  const ratio = (x, y) => (Number.isFinite(x) && Number.isFinite(y) && y > 0 ? (x / y).toFixed(2) : 'n/a');
  const o = results.ours;
  const rows = ANCHORS.map((a) => {
    const r = results[a];
    const s = sizesBy[a];
    return `| ${NAMES[a]} | ${kb(s.raw)} | ${kb(s.gzip)} (${ratio(s.gzip, sizesBy.ours.gzip)}) | ${kb(s.brotli)} | ${f(r.mainThreadMs, 1)} (${ratio(r.mainThreadMs, o.mainThreadMs)}) | ${f(r.longTasks)} | ${f(r.sustained)} (${ratio(r.sustained, o.sustained)}) | ${f(r.bodyBytes)} | ${f(r.putPayloadUnits, 1)} (${ratio(r.putPayloadUnits, o.putPayloadUnits)}) | ${f(r.firstRecordMs)} | ${f(r.delivered)}/${f(r.events)} |`;
  });
  return `## Side by side: this producer and what users pick today

One headless Chromium, one null sink on 127.0.0.1 (answers every PutRecords, the Cognito guest
flow and credential vending; verifies nothing), median of ${runs} runs. Every producer records
the same JSON per mouse event as ours (schema v1 fields); AWS endpoints are routed to the sink
in every page alike. Bundles: esbuild, minified ESM for the browser; ours is the wasm, its
wasm-bindgen glue and the loader. Ratios in parentheses are to ours (for size, time and PUT
units, above 1 means ours is smaller, faster or cheaper; for records/s, below 1).

| producer | bundle raw KB | gzip -9 KB | brotli KB | main-thread ms / 1,000 events | long tasks | sustained records/s | bytes on the wire / 1,000 events | PUT payload units / 1,000 events | ms from page start to first record delivered | events delivered |
|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|
${rows.join('\n')}

- Main-thread time: CDP \`Performance.getMetrics\` ScriptDuration (script and wasm run on the
  main thread: capture, encode, batch, sign, send) over 1,000 trusted mouse events (CDP
  \`Input.dispatchMouseEvent\`) and their delivery, per 1,000 events the page saw. Layout,
  paint and input dispatch, the same for every producer, are left out.
- Sustained: app records offered at up to 40,000/s (400 every 10 ms, as fast as the page
  manages) for 5 s, delivered per second over 6 s. Amplify
  runs with its defaults (flushSize 100 every 5 s, buffer 1,000), which is what users get.
- Signing a ${kb(sign.body)} KB PutRecords body: ours (aws-sigv4 in wasm, synchronous)
  ${f(sign.ours.perSecond)} requests/s (${f(sign.ours.mbPerSecond)} MB/s); \`@smithy/signature-v4\` with the SDK's SHA-256
  ${f(sign.smithy.perSecond)} requests/s (${f(sign.smithy.mbPerSecond)} MB/s): ${ratio(sign.ours.perSecond, sign.smithy.perSecond)} ×.

Versions: @aws-sdk/client-kinesis ${version('@aws-sdk/client-kinesis')}, aws-amplify ${version('aws-amplify')}, aws4fetch ${version('aws4fetch')}, @smithy/signature-v4 ${version('@smithy/signature-v4')}, esbuild ${version('esbuild')}.

### Against the targets (goals, not tests)

- Bundle, gzip: ours ${kb(sizesBy.ours.gzip)} KB = ${ratio(sizesBy.ours.gzip, sizesBy.sdk.gzip)} × the SDK client bundle here (target ≤ 0.75).
- Main-thread time: ours ${f(o.mainThreadMs, 1)} ms per 1,000 events = ${ratio(o.mainThreadMs, Math.min(...['sdk', 'amplify', 'aws4fetch'].map((a) => results[a].mainThreadMs)))} × the best anchor (target ≤ 0.25).
- PUT payload units per 1,000 mouse events: Amplify ÷ ours = ${ratio(results.amplify.putPayloadUnits, o.putPayloadUnits)} (target ≥ 20).
`;
}

// Side by side, in one headless Chromium run, each page against its own null sink: this
// producer (with its defaults, and keeping every move), a hand-written producer on
// @aws-sdk/client-kinesis, Amplify Analytics' Kinesis provider, aws4fetch with hand batching,
// and a baseline page that captures the same input and sends nothing; aws-rum-web for size.
// Returns the BENCHMARKS.md section.
import http from 'node:http';
import { readFile, mkdir } from 'node:fs/promises';
import { readFileSync, cpSync, rmSync, existsSync } from 'node:fs';
import path from 'node:path';
import os from 'node:os';
import zlib from 'node:zlib';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';
import { Sink } from './sink.mjs';
import { scriptTagFiles, scriptTagSize, gzipBytes } from '../scripts/size.mjs';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const OUT = path.join(os.tmpdir(), 'kbp-bench');
/** The copy of www/pkg the side by side measured. */
export const PKG = path.join(OUT, 'pkg');
// 5 runs × 10,000 events a page (about 3 min a run): a producer's time over the baseline
// varies by some ±15 % from run to run, its ratio to the SDK's in the same run by less; the
// sustained figure is steady, 3 runs are enough for it.
const RUNS = Number(process.env.BENCH_RUNS || 5);
const EVENTS = Number(process.env.BENCH_EVENTS || 10000);
const SUSTAINED_RUNS = Math.min(RUNS, Number(process.env.BENCH_SUSTAINED_RUNS || 3));
// BENCH_SEQUENTIAL=1: one page's input at a time (no other page running; about 6 × longer).
const SEQUENTIAL = Boolean(process.env.BENCH_SEQUENTIAL);
const PRODUCERS = (process.env.BENCH_ANCHORS || 'ours,oursEveryMove,sdk,amplify,aws4fetch').split(',');
const TIMED = ['baseline', ...PRODUCERS];
const SIZED = ['ours', 'sdk', 'amplify', 'awsRum', 'aws4fetch'];
/** Each anchor's entry file in tests/bench/anchors (ab.mjs builds them too). */
export const BUNDLES = { sdk: 'sdk', amplify: 'amplify', awsRum: 'aws-rum', aws4fetch: 'aws4fetch', baseline: 'baseline', smithySign: 'smithy-sign' };
const NAMES = {
  ours: 'kinesis-browser-producer (defaults: moves coalesced to 30/s)', oursEveryMove: 'kinesis-browser-producer, every move kept (mousemoveMaxPerSecond 1000)',
  sdk: 'AWS SDK v3 client-kinesis + hand batching', amplify: 'Amplify Analytics (Kinesis)', awsRum: 'aws-rum-web (CloudWatch RUM web client)',
  aws4fetch: 'aws4fetch + hand batching', baseline: 'baseline: same listeners, no producer',
};
const SIZE_NAMES = { ...NAMES, ours: 'kinesis-browser-producer (the script tag: the loader with the glue bundled in, and the wasm)' };
const QUIET_MS = 3000;
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const brotliBytes = (buf) => zlib.brotliCompressSync(buf, { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 11 } }).length;
const version = (pkg) => JSON.parse(readFileSync(path.join(ROOT, 'node_modules', pkg, 'package.json'))).version;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
// Run i starts, loads and measures the pages in this order, so no producer is always first or last.
const rotate = (xs, i) => xs.map((_, k) => xs[(k + i) % xs.length]);

/**
 * One build throughout: copies www/pkg and www/pkg-demo, whatever rebuilds them meanwhile (a
 * build in progress is waited for: the loader is copied in last).
 */
export async function snapshot() {
  const loader = (d) => path.join(ROOT, 'www', d, 'kinesis-browser-producer.js');
  if (!(await until(() => existsSync(loader('pkg')) && existsSync(loader('pkg-demo')), 600000))) throw new Error('www/pkg is missing: run tests/scripts/build.sh first');
  await mkdir(OUT, { recursive: true });
  for (let attempt = 0; ; attempt++) {
    await sleep(2000);
    try {
      for (const d of ['pkg', 'pkg-demo']) {
        rmSync(path.join(OUT, d), { recursive: true, force: true });
        cpSync(path.join(ROOT, 'www', d), path.join(OUT, d), { recursive: true });
        if (!existsSync(path.join(OUT, d, 'kinesis-browser-producer.js'))) throw new Error(`www/${d} changed while copied`);
      }
      return;
    } catch (e) {
      if (attempt === 30) throw e;
      await until(() => existsSync(loader('pkg')) && existsSync(loader('pkg-demo')), 600000);
    }
  }
}

async function bundles() {
  await mkdir(OUT, { recursive: true });
  const meta = {};
  for (const [key, file] of Object.entries(BUNDLES)) {
    const r = await esbuild.build({ entryPoints: [path.join(ROOT, 'tests/bench/anchors', `${file}.js`)], bundle: true, format: 'esm', platform: 'browser', minify: true, outfile: path.join(OUT, `${key}.js`), logLevel: 'silent', metafile: true });
    meta[key] = Object.values(r.metafile.outputs)[0].inputs;
  }
  // Ours: every file the script tag makes the page fetch (tests/scripts/size.mjs, as the budget).
  const tag = scriptTagSize(PKG);
  const out = { ours: { raw: tag.raw, gzip: tag.gzip, brotli: scriptTagFiles(PKG).reduce((a, f) => a + brotliBytes(readFileSync(f)), 0), files: tag.files.length } };
  for (const a of SIZED.filter((x) => x !== 'ours')) {
    const file = path.join(OUT, `${a}.js`);
    const buf = readFileSync(file);
    out[a] = { raw: buf.length, gzip: gzipBytes(file), brotli: brotliBytes(buf) };
  }
  // What aws-rum-web's AwsRum brings along: the session-replay plugin (rrweb) is imported by the client.
  out.awsRum.rrweb = Object.entries(meta.awsRum).filter(([f]) => /node_modules\/(@rrweb|rrweb)/.test(f)).reduce((a, [, v]) => a + v.bytesInOutput, 0);
  return out;
}

/**
 * The page of one anchor. Ours loads `pkg` (the product build by default) with `extra` keys
 * in its config: tests/bench/ab.mjs puts builds side by side this way.
 */
export function page(anchor, sinkUrl, { pkg = '/pkg', extra = {} } = {}) {
  const config = { region: 'us-east-1', streamName: 'general_stream', identityPoolId: 'us-east-1:00000000-0000-4000-8000-0000000b0b00', credentialsUrl: `${sinkUrl}/credentials`, endpoint: sinkUrl };
  const ours = { streamName: 'general_stream', region: 'us-east-1', endpoint: sinkUrl, credentials: { url: `${sinkUrl}/credentials` }, ...extra };
  // Ours as a page gets it (product defaults), and keeping every move: the cost per captured event.
  if (anchor === 'oursEveryMove') ours.mousemoveMaxPerSecond = 1000;
  const start = anchor === 'ours' || anchor === 'oursEveryMove'
    ? `const m = await import('${pkg}/kinesis-browser-producer.js'); await m.ready;
       const p = m.Producer.start(${JSON.stringify(ours)});
       window.bench = { record: (o) => p.record(o), flush: () => p.flush(), stats: () => p.stats() }; `
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

/** Pages and bundles; each page's AWS traffic goes to its own sink (its own port), so pages can run at once. */
function serve(sinkUrls) {
  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url, 'http://x');
    const m = /^\/anchor\/(\w+)\.html$/.exec(url.pathname);
    if (m && sinkUrls[m[1]]) return res.writeHead(200, { 'Content-Type': 'text/html' }).end(page(m[1], sinkUrls[m[1]]));
    const file = url.pathname.startsWith('/bundles/') ? path.join(OUT, url.pathname.slice(9)) : url.pathname.startsWith('/pkg/') || url.pathname.startsWith('/pkg-demo/') ? path.join(OUT, url.pathname) : null;
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
    await sleep(50);
  }
  return false;
}

/** Opens a producer's page and measures the time to its first record, one page at a time. */
async function open(browser, base, sink, anchor) {
  const page = await browser.newPage({ viewport: { width: 1200, height: 800 } });
  if (process.env.BENCH_DEBUG) {
    page.on('console', (m) => console.log(anchor, 'console:', m.type(), m.text()));
    page.on('pageerror', (e) => console.log(anchor, 'pageerror:', e.message));
    page.on('requestfailed', (r) => console.log(anchor, 'failed:', r.url(), r.failure()?.errorText));
  }
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Performance.enable');
  sink.reset();
  await page.goto(`${base}/anchor/${anchor}.html`);
  await page.waitForFunction(() => window.ready, null, { timeout: 30000 });
  const timeOrigin = await page.evaluate(() => performance.timeOrigin);
  if (anchor !== 'baseline') await until(() => sink.stats.firstRecordAt, 20000);
  const firstRecordMs = sink.stats.firstRecordAt ? sink.stats.firstRecordAt - timeOrigin : NaN;
  return { anchor, page, cdp, sink, firstRecordMs };
}

/**
 * EVENTS trusted mouse events (moves, with a press and click every 50), then a flush and the
 * wait for delivery: main-thread script time over all of it, and what reached the sink.
 */
export async function mouse({ page, cdp, sink }) {
  const metric = async (name) => (await cdp.send('Performance.getMetrics')).metrics.find((x) => x.name === name).value;
  sink.reset();
  const coalesced0 = await page.evaluate(() => { window.seen = 0; window.longTasks = 0; return window.bench.stats?.().mousemoveCoalesced ?? 0; });
  const task0 = await metric('ScriptDuration');
  const t0 = Date.now();
  for (let i = 0; i < EVENTS;) {
    if (i % 50 === 49) {
      await page.mouse.down();
      await page.mouse.up();
      i += 3;
    } else {
      await page.mouse.move(50 + (i * 7) % 1100, 50 + (i * 13) % 700);
      i += 1;
    }
  }
  const perSecond = (EVENTS * 1000) / (Date.now() - t0);
  const { seen, coalesced } = await page.evaluate(async () => {
    const stats = await window.bench.flush();
    return { seen: window.seen, coalesced: stats?.mousemoveCoalesced ?? 0 };
  });
  // Ours with defaults never sends coalesced moves; Amplify drops what exceeds its buffer:
  // wait for all that is expected, or until nothing more arrives.
  const expected = seen - (coalesced - coalesced0);
  let last = -1;
  let since = Date.now();
  while (sink.stats.userRecords < expected && Date.now() - since < QUIET_MS) {
    if (sink.stats.userRecords !== last) [last, since] = [sink.stats.userRecords, Date.now()];
    await sleep(50);
  }
  const task1 = await metric('ScriptDuration');
  const events = Math.max(1, seen);
  const delivered = Math.max(1, sink.stats.userRecords);
  return {
    events: seen,
    perSecond,
    delivered: sink.stats.userRecords,
    mainThreadMs: ((task1 - task0) * 1000 * 1000) / events,
    longTasks: await page.evaluate(() => window.longTasks),
    bodyBytes: (sink.stats.bodyBytes * 1000) / delivered,
    putPayloadUnits: (sink.stats.putPayloadUnits * 1000) / delivered,
    bodyBytesPerSeen: (sink.stats.bodyBytes * 1000) / events,
    putPayloadUnitsPerSeen: (sink.stats.putPayloadUnits * 1000) / events,
  };
}

/** App records offered at up to 40,000/s for 5 s; what reaches the sink per second. */
async function sustained({ page, sink }) {
  sink.reset();
  await page.evaluate(() => new Promise((resolve) => {
    const end = performance.now() + 5000;
    let n = 0;
    const t = setInterval(() => {
      for (let i = 0; i < 400; i++) window.bench.record({ n: n++, kind: 'load' });
      if (performance.now() >= end) { clearInterval(t); resolve(); }
    }, 10);
  }));
  await sleep(1000);
  return sink.stats.userRecords / 6;
}

/**
 * One run: the pages load one at a time (time to first record), then all take their mouse
 * input at once, each in its own renderer: Chromium hands a page at most one move a frame
 * (60 Hz), so six pages take no longer than one, and whatever else loads the machine then
 * hits every producer and the baseline alike. The sustained load, which is CPU-bound, runs
 * one page at a time.
 */
async function runOnce(browser, base, sinks, i) {
  const order = rotate(TIMED, i);
  const pages = [];
  for (const a of order) pages.push(await open(browser, base, sinks[a], a));
  const results = [];
  if (SEQUENTIAL) for (const p of pages) results.push(await mouse(p));
  else results.push(...await Promise.all(pages.map(mouse)));
  const out = {};
  for (const [k, p] of pages.entries()) {
    out[p.anchor] = { firstRecordMs: p.firstRecordMs, ...results[k], sustained: NaN };
    if (p.anchor !== 'baseline' && i < SUSTAINED_RUNS) out[p.anchor].sustained = await sustained(p);
  }
  for (const p of pages) await p.page.close();
  return out;
}

async function signing(browser, base) {
  const page = await browser.newPage();
  await page.goto(`${base}/anchor/ours.html`);
  await page.waitForFunction(() => window.ready);
  const body = 91 * 1024;
  // The signing helper is in the demo build (cargo feature "demo"), not in what pages load.
  // Five rounds, the two signers alternating, medians: one short sample is at the mercy of
  // whatever else the machine does in that second.
  const ours = [];
  const smithy = [];
  for (let i = 0; i < 5; i++) {
    ours.push(await page.evaluate(async (b) => { const d = await import('/pkg-demo/kinesis-browser-producer.js'); await d.ready; d.benchSign(50, b); return d.benchSign(1000, b); }, body));
    smithy.push(await page.evaluate(async (b) => { const m = await import('/bundles/smithySign.js'); await m.benchSign(20, b); return m.benchSign(300, b); }, body));
  }
  await page.close();
  const rate = (n, ms) => ({ perSecond: (n * 1000) / ms, mbPerSecond: (n * body * 1000) / ms / 1e6 });
  return { body, ours: rate(1000, median(ours)), smithy: rate(300, median(smithy)) };
}

export async function compare(browser) {
  const sinks = {};
  const sinkUrls = {};
  for (const a of TIMED) {
    sinks[a] = new Sink();
    sinkUrls[a] = `http://127.0.0.1:${await sinks[a].listen()}`;
  }
  const sizesBy = await bundles();
  const server = await serve(sinkUrls);
  const base = `http://127.0.0.1:${server.address().port}`;
  const runs = [];
  const t0 = Date.now();
  for (let i = 0; i < RUNS; i++) {
    runs.push(await runOnce(browser, base, sinks, i));
    console.log(`bench: side-by-side run ${i + 1}/${RUNS} done (${Math.round((Date.now() - t0) / 1000)} s)`);
  }
  const sign = await signing(browser, base);
  server.close();
  for (const s of Object.values(sinks)) await s.close();

  // Per producer: every run's figures; time over the baseline is taken within each run.
  const all = (a, k) => runs.map((r) => r[a][k]).filter(Number.isFinite);
  const over = (a) => runs.map((r) => r[a].mainThreadMs - r.baseline.mainThreadMs);
  const results = {};
  for (const a of TIMED) {
    results[a] = Object.fromEntries(Object.keys(runs[0][a]).map((k) => [k, median(all(a, k)) ?? NaN]));
    results[a].mainThreadRuns = all(a, 'mainThreadMs');
    results[a].overRuns = over(a);
    results[a].over = median(results[a].overRuns);
  }
  // Ours over the baseline ÷ the SDK loop's over the baseline, run by run.
  const vsSdk = (a) => (results[a] && results.sdk ? runs.map((r) => (r[a].mainThreadMs - r.baseline.mainThreadMs) / (r.sdk.mainThreadMs - r.baseline.mainThreadMs)) : []);

  const kb = (n) => (n / 1000).toFixed(1);
  const f = (x, d = 0) => (Number.isFinite(x) ? x.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d }) : 'n/a');
  const ratio = (x, y) => (Number.isFinite(x) && Number.isFinite(y) && y > 0 ? (x / y).toFixed(2) : 'n/a');
  const spread = (xs, d = 1) => `${f(median(xs), d)} (${f(Math.min(...xs), d)}–${f(Math.max(...xs), d)})`;
  const o = results.ours ?? {};
  const so = sizesBy.ours;
  const sizeRows = SIZED.map((a) => {
    const s = sizesBy[a];
    return `| ${SIZE_NAMES[a]} | ${kb(s.raw)} | ${kb(s.gzip)} (${ratio(s.gzip, so.gzip)}) | ${kb(s.brotli)} (${ratio(s.brotli, so.brotli)}) |`;
  });
  const rows = TIMED.map((a) => {
    const r = results[a];
    if (a === 'baseline') return `| ${NAMES[a]} | ${spread(r.mainThreadRuns)} | 0 | ${f(r.longTasks)} | | | | | ${f(r.events)} seen |`;
    return `| ${NAMES[a]} | ${spread(r.mainThreadRuns)} | ${spread(r.overRuns)} (${ratio(r.over, o.over)}) | ${f(r.longTasks)} | ${f(r.sustained)} (${ratio(r.sustained, o.sustained)}) | ${f(r.bodyBytes)} | ${f(r.putPayloadUnits, 1)} (${ratio(r.putPayloadUnits, o.putPayloadUnits)}) | ${f(r.firstRecordMs)} | ${f(r.delivered)}/${f(r.events)} |`;
  });

  // Against the targets: computed from this run.
  const target = 45000;
  const aspiration = 30000;
  const gap = (x, t) => (x <= t ? `met (${kb(t - x)} KB under)` : `not met (${kb(x - t)} KB over)`);
  const mainLine = (a) => {
    const rs = vsSdk(a);
    if (!rs.length) return `- Main-thread time, ${NAMES[a]}: not measured in this run.`;
    const m = median(rs);
    const verdict = m <= 0.5 ? 'target and aim met' : m <= 1 ? 'target met, aim not yet' : 'target not met';
    return `- Main-thread time over the baseline, ${NAMES[a]}: ${f(results[a].over, 1)} ms per 1,000 events against the SDK loop's ${f(results.sdk.over, 1)} in the same runs: ${spread(rs, 2)} × the SDK's, run by run (target ≤ 1, aim ≤ 0.5): ${verdict}.`;
  };
  const targets = `### Against the targets (goals, not tests)

- Bundle (wasm + glue + loader, the whole script tag), gzip -9: ours ${kb(so.gzip)} KB; target ≤ ${kb(target)} KB (0.75 × the SDK client; the SDK client bundle here is ${kb(sizesBy.sdk.gzip)} KB, so 0.75 × is ${kb(0.75 * sizesBy.sdk.gzip)} KB): ${gap(so.gzip, target)}; aspiration ≤ ${kb(aspiration)} KB: ${gap(so.gzip, aspiration)}. Ours is ${ratio(so.gzip, sizesBy.sdk.gzip)} × the SDK client.
${['ours', 'oursEveryMove'].filter((a) => results[a]).map(mainLine).join('\n')}
- PUT payload units per 1,000 mouse events delivered: Amplify ÷ ours (defaults) = ${results.amplify ? ratio(results.amplify.putPayloadUnits, o.putPayloadUnits) : 'n/a'} (target ≥ 20).
`;

  const rate = f(median(TIMED.flatMap((a) => all(a, 'perSecond'))));
  const howRun = SEQUENTIAL
    ? `Within a run the pages take their input one at a time (BENCH_SEQUENTIAL), ${rate} events/s; which
page goes first rotates from run to run.`
    : `Within a run the pages load one at a time and then all take their input at the same time,
each in its own renderer process: Chromium hands a page at most one move per frame (60 Hz),
so this takes hardly longer than one page alone (${rate} events/s a page here), and what else
runs on the machine hits every page alike. Which page loads first rotates from run to run.
Running at once costs absolute time: on this 2-core machine a page's script is preempted more
often than alone, so compare times within this table (over the baseline, ratios), not with a
run made otherwise (\`BENCH_SEQUENTIAL=1\` gives each page's input a turn of its own).`;

  return `## Side by side: this producer and what users pick today

One headless Chromium; each page against its own null sink on 127.0.0.1 (answers every
PutRecords, the Cognito guest flow and credential vending; verifies nothing). Every producer
records the same JSON per mouse event as ours (schema v1 fields); AWS endpoints are routed to
the sink in every page alike. ${RUNS} runs of ${EVENTS.toLocaleString('en-US')} trusted mouse events per page (CDP
\`Input.dispatchMouseEvent\`: moves, with a press and click every 50), medians with the range
over runs (min–max) in parentheses where given; sustained load in ${SUSTAINED_RUNS} of the runs.
${howRun}

### Bundle size

Bundles: esbuild, minified ESM for the browser; ours is every file its script tag makes the
page fetch (tests/scripts/size.mjs: the loader with the wasm-bindgen glue and its snippet
bundled in, and the wasm; ${so.files} files, each compressed on its own). Ratios in parentheses are to ours (above 1 means ours
is smaller).

| producer | raw KB | gzip -9 KB | brotli KB |
|---|---:|---:|---:|
${sizeRows.join('\n')}

- aws-rum-web is sized only (it sends RUM events to CloudWatch RUM, not records to a stream,
  so it is not in the timed runs): an entry that imports \`{ AwsRum }\` and constructs it, as
  its README configures it (Cognito guest credentials, SigV4). ${kb(sizesBy.awsRum.rrweb)} KB of its raw bytes are
  rrweb (the session-replay plugin the client imports whether or not it is enabled).

### Time, wire and stream

Ratios in parentheses are to ours with its defaults (for time and PUT units, above 1 means
ours is faster or cheaper; for records/s, below 1).

| producer | main-thread ms / 1,000 events | over the baseline, ms / 1,000 events | long tasks | sustained records/s | bytes on the wire / 1,000 events delivered | PUT payload units / 1,000 events delivered | ms from page start to first record delivered | events delivered / seen |
|---|---:|---:|---:|---:|---:|---:|---:|---:|
${rows.join('\n')}

- Main-thread time: CDP \`Performance.getMetrics\` ScriptDuration (script and wasm run on the
  main thread: capture, encode, batch, sign, send) over the ${EVENTS.toLocaleString('en-US')} trusted mouse events and
  their delivery, per 1,000 events the page saw. Layout, paint and input dispatch outside
  script, the same for every page, are left out. Over the baseline: the producer's figure
  minus the baseline page's in the same run (listeners on the same five events that do
  nothing, and nothing sent), median and range over the runs.
- Ours with its defaults coalesces moves to at most 30 a second (moves come at 60 a second
  here, one per frame): it sends fewer events than the page saw (delivered / seen), by design;
  per 1,000 events the page saw, that is ${f(o.bodyBytesPerSeen)} bytes on the wire and ${f(o.putPayloadUnitsPerSeen, 1)} PUT payload units.
  Amplify's defaults (buffer 1,000, flushSize 100 every 5 s) drop what exceeds its buffer at
  this rate, which is what users get. Wire and PUT figures are per 1,000 events delivered.
- Sustained: app records offered at up to 40,000/s (400 every 10 ms, as fast as the page
  manages) for 5 s, delivered per second over 6 s.
- Signing a ${kb(sign.body)} KB PutRecords body (median of 5 alternating rounds): ours (aws-sigv4 in wasm, synchronous)
  ${f(sign.ours.perSecond)} requests/s (${f(sign.ours.mbPerSecond)} MB/s); \`@smithy/signature-v4\` with the SDK's SHA-256
  ${f(sign.smithy.perSecond)} requests/s (${f(sign.smithy.mbPerSecond)} MB/s): ${ratio(sign.ours.perSecond, sign.smithy.perSecond)} ×.

Versions: @aws-sdk/client-kinesis ${version('@aws-sdk/client-kinesis')}, aws-amplify ${version('aws-amplify')}, aws-rum-web ${version('aws-rum-web')}, aws4fetch ${version('aws4fetch')}, @smithy/signature-v4 ${version('@smithy/signature-v4')}, esbuild ${version('esbuild')}.

${targets}`;
}

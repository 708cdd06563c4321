// The benchmark (not a pass/fail test): `npm run bench`. Figures, medians of several runs,
// written to BENCHMARKS.md with the browser, versions and machine named.
//
// Side by side with the AWS SDK, Amplify, aws4fetch and a baseline page, aws-rum-web for size
// (compare.mjs); where the module's bytes come from (twiggy.mjs, from the names-kept build
// tests/scripts/bench.sh makes); and what 1,000 real mouse events cost on the stream,
// KPL-aggregated versus one event per
// Kinesis record: request body bytes, Kinesis records, and billing units (provisioned PUT
// payload units of 25 KB per record; on-demand KB, 1 KB per record). Trusted input through
// CDP in headless Chromium, a page that only embeds the script tag, the local stack.
import { writeFileSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { launchChromium } from '../e2e/harness.mjs';
import { startStack } from '../stack/stack.mjs';
import { serveWww } from '../stack/www.mjs';
import { compare, snapshot, PKG } from './compare.mjs';
import { crateTable } from './twiggy.mjs';

const RUNS = Number(process.env.BENCH_AGG_RUNS || 3);
// The machine may be shared: its load when the run starts and ends is written with the figures.
const load = [os.loadavg()[0]];
const EVENTS = 1000;
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

await snapshot();
const stack = await startStack({ ports: { kinesis: 0, auth: 0, store: 0 }, quiet: true });
const www = await serveWww(0, stack.info);
const base = `http://127.0.0.1:${www.address().port}`;
const browser = await launchChromium();

/** One run: EVENTS trusted mouse events through a page with only the script tag. */
async function run(aggregation) {
  const page = await browser.newPage({ viewport: { width: 1200, height: 800 } });
  const attrs = new URLSearchParams({
    stream: 'general_stream', region: 'us-east-1', endpoint: stack.info.kinesisEndpoint,
    'credentials-url': stack.info.credentialsUrl, aggregation: String(aggregation),
    // Keep every move: the figure is per captured event, not per coalesced one.
    'mousemove-max-per-second': '1000', 'flush-interval-ms': '1000',
  });
  await page.goto(`${base}/__test/embed?${attrs}`);
  await page.waitForFunction(() => window.kinesisBrowserProducer);
  let sent = 0;
  const t0 = Date.now();
  while (sent < EVENTS) {
    const i = sent;
    if (i % 50 === 49) {
      await page.mouse.down();
      await page.mouse.up();
      sent += 3; // mousedown, mouseup, click
    } else {
      await page.mouse.move(50 + (i * 7) % 1100, 50 + (i * 13) % 700);
      await new Promise((r) => setTimeout(r, 1.2));
      sent += 1;
    }
  }
  const perSecond = (sent * 1000) / (Date.now() - t0);
  const stats = await page.evaluate(() => window.kinesisBrowserProducer.close());
  const sid = await page.evaluate(() => window.kinesisBrowserProducer.sessionId);
  await page.close();
  const log = stack.frontDoor.log.filter((e) => e.partitionKeys && e.partitionKeys.includes(sid) && e.status === 200);
  const sum = (k) => log.reduce((a, e) => a + (e[k] || 0), 0);
  const per1000 = (x) => (x * 1000) / stats.recordsPut;
  return {
    events: stats.recordsPut,
    bodyBytes: per1000(sum('bytes')),
    kinesisRecords: per1000(sum('records')),
    putPayloadUnits: per1000(sum('putPayloadUnits')),
    onDemandKb: per1000(sum('onDemandKb')),
    requests: per1000(log.length),
    perSecond,
  };
}

const started = Date.now();
// Each run, the two pages at once: each is its own session, counted apart at the front door.
// Not more at once: records per 1,000 events follow the events' rate (one aggregated record
// per flush interval), and more pages driven together slow it.
const runs = { aggregated: [], plain: [] };
for (let i = 0; i < RUNS; i++) {
  const [a, p] = await Promise.all([run(true), run(false)]);
  runs.aggregated.push(a);
  runs.plain.push(p);
}
const results = {};
for (const [name, list] of Object.entries(runs)) results[name] = Object.fromEntries(Object.keys(list[0]).map((key) => [key, median(list.map((r) => r[key]))]));
console.log(`bench: aggregation runs done (${Math.round((Date.now() - started) / 1000)} s)`);
const version = await browser.version();
www.close();
await stack.stop();
const sideBySide = await compare(browser);
await browser.close();
load.push(os.loadavg()[0]);
// The per-crate table needs the names-kept build that tests/scripts/bench.sh makes.
const { BENCH_TWIGGY_CSV: csv, BENCH_TWIGGY_WASM: wasm } = process.env;
const crates = csv && wasm
  ? crateTable(csv, wasm, path.join(PKG, 'kbp_core_bg.wasm'))
  : '## Module size by crate\n\nNot measured: run `npm run bench` (tests/scripts/bench.sh builds the module with names kept for twiggy).\n';

const a = results.aggregated;
const p = results.plain;
const fmt = (x) => (x >= 100 ? Math.round(x).toLocaleString('en-US') : x.toFixed(1));
const ratio = (x, y) => (y / x).toFixed(1);
const table = `## Aggregation: cost on the stream per 1,000 mouse events

Trusted mouse input (CDP \`Input.dispatchMouseEvent\`, ${EVENTS} events a run: moves plus a
press and click every 50) into a page that only embeds the script tag, against the local
stack; counted at the front door. Median of ${RUNS} runs; input came at ${Math.round(a.perSecond)} events/s
(aggregated) and ${Math.round(p.perSecond)} events/s (plain), and with one flush a second the records per
1,000 events follow that rate.

| per 1,000 events | KPL-aggregated (default) | one event per Kinesis record | plain ÷ aggregated |
|---|---:|---:|---:|
| Kinesis records | ${fmt(a.kinesisRecords)} | ${fmt(p.kinesisRecords)} | ${ratio(a.kinesisRecords, p.kinesisRecords)} |
| PUT payload units (provisioned, 25 KB each) | ${fmt(a.putPayloadUnits)} | ${fmt(p.putPayloadUnits)} | ${ratio(a.putPayloadUnits, p.putPayloadUnits)} |
| on-demand billed KB (1 KB per record) | ${fmt(a.onDemandKb)} | ${fmt(p.onDemandKb)} | ${ratio(a.onDemandKb, p.onDemandKb)} |
| request body bytes | ${fmt(a.bodyBytes)} | ${fmt(p.bodyBytes)} | ${ratio(a.bodyBytes, p.bodyBytes)} |
| PutRecords requests | ${fmt(a.requests)} | ${fmt(p.requests)} | ${ratio(a.requests, p.requests)} |

Browser: ${version}. Machine: ${os.cpus().length} × ${os.cpus()[0]?.model?.trim()}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, ${os.type()} ${os.release()}, Node ${process.version}.
`;
console.log(sideBySide);
console.log(crates);
console.log(table);
const file = new URL('../../BENCHMARKS.md', import.meta.url);
// `npm run scale` owns the section between its markers: kept as it is, at the end.
let scale = '';
try {
  const old = readFileSync(file, 'utf8');
  const start = old.indexOf('<!-- scale: start');
  const end = old.indexOf('<!-- scale: end -->');
  if (start >= 0 && end > start) scale = `\n${old.slice(start, end + '<!-- scale: end -->'.length)}\n`;
} catch {}
writeFileSync(file, `# Benchmarks\n\nRegenerated by \`npm run bench\` (not part of \`npm test\`). Browser: ${version}. Machine: ${os.cpus().length} × ${os.cpus()[0]?.model?.trim()}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, ${os.type()} ${os.release()}, Node ${process.version}. Load average (1 min) at the start and end of the run: ${load.map((x) => x.toFixed(1)).join(' and ')}.\n\n${sideBySide}\n${crates}\n${table}${scale}`);
console.log('written: BENCHMARKS.md');

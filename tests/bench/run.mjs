// The benchmark (not a pass/fail test): `npm run bench`. Figures, medians of several runs,
// written to BENCHMARKS.md with the browser, versions and machine named.
//
// Side by side with the AWS SDK, Amplify and aws4fetch (compare.mjs), and what 1,000 real
// mouse events cost on the stream, KPL-aggregated versus one event per
// Kinesis record: request body bytes, Kinesis records, and billing units (provisioned PUT
// payload units of 25 KB per record; on-demand KB, 1 KB per record). Trusted input through
// CDP in headless Chromium, a page that only embeds the script tag, the local stack.
import { writeFileSync, readFileSync } from 'node:fs';
import os from 'node:os';
import { chromium } from 'playwright-core';
import { startStack } from '../stack/stack.mjs';
import { serveWww } from '../stack/www.mjs';
import { compare } from './compare.mjs';

const RUNS = Number(process.env.BENCH_RUNS || 3);
const EVENTS = 1000;
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const stack = await startStack({ ports: { kinesis: 0, auth: 0, store: 0 }, quiet: true });
const www = await serveWww(0, stack.info);
const base = `http://127.0.0.1:${www.address().port}`;
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-quic', '--no-first-run'],
});

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
  };
}

const results = {};
for (const aggregation of [true, false]) {
  const runs = [];
  for (let i = 0; i < RUNS; i++) runs.push(await run(aggregation));
  results[aggregation ? 'aggregated' : 'plain'] = Object.fromEntries(Object.keys(runs[0]).map((k) => [k, median(runs.map((r) => r[k]))]));
}
const version = await browser.version();
www.close();
await stack.stop();
const sideBySide = await compare(browser, RUNS);
await browser.close();

const a = results.aggregated;
const p = results.plain;
const fmt = (x) => (x >= 100 ? Math.round(x).toLocaleString('en-US') : x.toFixed(1));
const ratio = (x, y) => (y / x).toFixed(1);
const table = `## Aggregation: cost on the stream per 1,000 mouse events

Trusted mouse input (CDP \`Input.dispatchMouseEvent\`, ${EVENTS} events a run: moves plus a
press and click every 50) into a page that only embeds the script tag, against the local
stack; counted at the front door. Median of ${RUNS} runs.

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
console.log(table);
const file = new URL('../../BENCHMARKS.md', import.meta.url);
writeFileSync(file, `# Benchmarks\n\nRegenerated by \`npm run bench\` (not part of \`npm test\`). Browser: ${version}. Machine: ${os.cpus().length} × ${os.cpus()[0]?.model?.trim()}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, ${os.type()} ${os.release()}, Node ${process.version}.\n\n${sideBySide}\n${table}`);
console.log('written: BENCHMARKS.md');

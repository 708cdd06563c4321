// Builds side by side (not a test, not part of `npm run bench`): which change moves the
// main-thread time, before a full benchmark. Each argument is a page: a directory holding
// a build of ours (as tests/scripts/build.sh writes www/pkg), optionally followed by `|`
// and JSON config keys for it, or an anchor (`sdk`, `baseline`, ...). All pages take the
// same trusted mouse input at once, as the benchmark's do, so what else loads the machine
// hits each alike; compare within a round. Per page and round: main-thread script time per
// 1,000 events (the benchmark's measure), requests and records that reached its sink.
//
//   node tests/bench/ab.mjs 'www/pkg;/tmp/variant;sdk;baseline' [events=3000] [rounds=3]
//   node tests/bench/ab.mjs 'www/pkg;www/pkg|{"flushIntervalMs":600000}' 2000 2
//
// A variant is usually a copy of www/pkg with one change: another build, or its JS glue
// or snippet edited by hand (the quickest way to test what a boundary call costs).
import http from 'node:http';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import os from 'node:os';
import * as esbuild from 'esbuild';
import { fileURLToPath } from 'node:url';
import { Sink } from './sink.mjs';
import { launchChromium } from '../e2e/harness.mjs';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const specs = (process.argv[2] || 'www/pkg;baseline').split(';').map((s) => {
  const [dir, json] = s.split('|');
  const anchor = dir.includes('/') ? 'ours' : dir;
  return { name: s, anchor, dir: anchor === 'ours' ? path.resolve(dir) : null, extra: JSON.parse(json || '{}') };
});
process.env.BENCH_EVENTS ||= process.argv[3] || '3000';
// After BENCH_EVENTS is set: compare.mjs reads it when it loads.
const { page, mouse, BUNDLES: ENTRIES } = await import('./compare.mjs');
const ROUNDS = Number(process.argv[4] || 3);
const OUT = path.join(os.tmpdir(), 'kbp-ab');

for (const a of new Set(specs.filter((s) => !s.dir).map((s) => s.anchor))) {
  await esbuild.build({ entryPoints: [path.join(ROOT, 'tests/bench/anchors', `${ENTRIES[a]}.js`)], bundle: true, format: 'esm', platform: 'browser', minify: true, outfile: path.join(OUT, `${a}.js`), logLevel: 'silent' });
}
const sinks = [];
for (const s of specs) {
  const sink = new Sink();
  sinks.push({ sink, url: `http://127.0.0.1:${await sink.listen()}` });
}
const server = http.createServer(async (req, res) => {
  const url = new URL(req.url, 'http://x');
  const m = /^\/ab\/(\d+)\.html$/.exec(url.pathname);
  if (m) {
    const i = Number(m[1]);
    return res.writeHead(200, { 'Content-Type': 'text/html' }).end(page(specs[i].anchor, sinks[i].url, { pkg: `/pkg${i}`, extra: specs[i].extra }));
  }
  const p = /^\/pkg(\d+)\/(.+)$/.exec(url.pathname);
  const file = p ? path.join(specs[Number(p[1])].dir, p[2]) : url.pathname.startsWith('/bundles/') ? path.join(OUT, url.pathname.slice(9)) : null;
  let body;
  try {
    body = await readFile(file);
  } catch {
    return res.writeHead(404).end();
  }
  res.writeHead(200, { 'Content-Type': file.endsWith('.wasm') ? 'application/wasm' : 'text/javascript' }).end(body);
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const base = `http://127.0.0.1:${server.address().port}`;
const browser = await launchChromium();
const all = specs.map(() => []);
for (let round = 0; round < ROUNDS; round++) {
  const pages = [];
  for (const [i, s] of specs.entries()) {
    const p = await browser.newPage({ viewport: { width: 1200, height: 800 } });
    p.on('pageerror', (e) => console.log(`ab: ${s.name}: ${e.message}`));
    const cdp = await p.context().newCDPSession(p);
    await cdp.send('Performance.enable');
    await p.goto(`${base}/ab/${i}.html`);
    await p.waitForFunction(() => window.ready, null, { timeout: 30000 });
    pages.push({ page: p, cdp, sink: sinks[i].sink });
  }
  const out = await Promise.all(pages.map(mouse));
  for (const [i, r] of out.entries()) all[i].push(r.mainThreadMs);
  console.log(`ab: round ${round + 1}: ${out.map((r, i) => `${specs[i].name} ${r.mainThreadMs.toFixed(1)} ms (${sinks[i].sink.stats.requests} requests, ${r.delivered}/${r.events} delivered)`).join(' | ')}`);
  for (const p of pages) await p.page.close();
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
console.log(`ab: medians, main-thread ms / 1,000 events: ${specs.map((s, i) => `${s.name} ${median(all[i]).toFixed(1)}`).join(' | ')}`);
await browser.close();
server.close();
for (const { sink } of sinks) await sink.close();

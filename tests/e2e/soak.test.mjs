// The soak: over 20,000 captured events in headless Chromium while the front door injects
// every fault it has (throttling, per-record failures in 200s, 500s, latency, cut
// connections before and after storing, credentials expiring mid-run, a server clock 20
// minutes off, the endpoint down for a while). Afterwards every captured event must be in
// the stream at least once; the test prints captured, delivered, duplicates, dropped and
// retries, and fails on any loss that is not counted as a drop.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useEnv } from './harness.mjs';

const env = useEnv();

const FAULTS = {
  throttleEvery: 8,
  partialFailureRate: 0.03,
  serverErrorRate: 0.06,
  latencyMs: 25,
  dropConnectionRate: 0.06,
  clockOffsetMs: 20 * 60 * 1000,
  // The draws behind the rates, fixed: with this seed the first 40 requests draw five
  // dropped connections and four 500s (tests/stack/frontdoor.mjs), so every kind is drawn
  // in every run, however the page batches (a random draw left dropAfterStore out of one
  // CI run of 110 requests).
  seed: 30,
};

test('20,000 events under every fault: each one in the stream at least once', { timeout: 300_000 }, async () => {
  const page = await env.browser.newPage();
  const pageErrors = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  const attrs = new URLSearchParams({
    stream: 'general_stream', region: 'us-east-1', endpoint: env.stack.info.kinesisEndpoint,
    'credentials-url': env.stack.info.credentialsUrl, 'flush-interval-ms': '100',
    'mousemove-max-per-second': '1000', 'record-ttl-ms': '600000', 'max-buffered-records': '200000',
    'max-buffered-bytes': '104857600', 'request-timeout-ms': '3000',
  });
  await page.goto(`${env.base}/__test/embed?${attrs}`);
  await page.waitForFunction(() => window.kinesisBrowserProducer);
  env.stack.frontDoor.setFaults(FAULTS);
  const putsBefore = env.stack.frontDoor.putCount;

  // Events from the page: synthetic mouse events through the capture listeners, and app records.
  const generating = page.evaluate(() => new Promise((resolve) => {
    const p = window.kinesisBrowserProducer;
    let tick = 0;
    const timer = setInterval(() => {
      tick++;
      for (let i = 0; i < 2; i++) {
        document.dispatchEvent(new MouseEvent('mousemove', { clientX: (tick * 7 + i) % 900, clientY: (tick * 3) % 600, bubbles: true }));
      }
      if (tick % 5 === 0) document.dispatchEvent(new MouseEvent('click', { clientX: tick % 900, clientY: 5, bubbles: true }));
      for (let i = 0; i < 11; i++) p.record({ tick, i });
      if (p.stats().recordsReceived >= 20500) {
        clearInterval(timer);
        resolve();
      }
    }, 15);
  }));
  // Mid-run: credentials expire, then the endpoint goes down for a while.
  await new Promise((r) => setTimeout(r, 8000));
  env.stack.frontDoor.setFaults({ ...FAULTS, expireCredentials: true });
  await new Promise((r) => setTimeout(r, 6000));
  env.stack.frontDoor.setFaults({ ...FAULTS, downForMs: 6000 });
  await generating;
  const stats = await page.evaluate(() => window.kinesisBrowserProducer.close());
  const sid = await page.evaluate(() => window.kinesisBrowserProducer.sessionId);
  const puts = env.stack.frontDoor.putCount - putsBefore;
  const injected = { ...env.stack.frontDoor.counters.faults };
  env.stack.frontDoor.setFaults({});
  await page.close();

  const back = await env.stack.auth.readBack('general_stream');
  const seen = new Map();
  for (const r of back.records) {
    if (r.partitionKey !== sid) continue;
    const e = JSON.parse(Buffer.from(r.data, 'base64').toString('utf8'));
    seen.set(e.seq, (seen.get(e.seq) || 0) + 1);
  }
  const captured = stats.recordsReceived;
  const missing = [...Array(captured).keys()].filter((s) => !seen.has(s));
  const duplicates = [...seen.values()].reduce((a, n) => a + n - 1, 0);
  const affected = Object.values(injected).reduce((a, b) => a + b, 0);
  console.log(JSON.stringify({
    captured, delivered: seen.size, duplicates, dropped: stats.dropsByReason, retries: stats.retries,
    errorsByCode: stats.errorsByCode, putRecordsAttempts: puts, faultsInjected: injected,
    affectedShare: +(affected / Math.max(1, puts)).toFixed(2),
  }, null, 1));
  assert.deepEqual(pageErrors, []);
  assert.ok(captured >= 20000, `${captured} captured`);
  assert.ok(affected / puts >= 0.2, `faults hit ${affected} of ${puts} requests`);
  for (const kind of ['throttle', 'serverError', 'dropBeforeStore', 'dropAfterStore', 'partialFailure', 'down']) {
    assert.ok(injected[kind] > 0, `fault ${kind} was injected`);
  }
  assert.ok(stats.errorsByCode.ExpiredTokenException >= 1, 'credentials expired mid-run');
  assert.ok(stats.errorsByCode.InvalidSignatureException >= 1, 'the clock offset had to be learned');
  assert.equal(stats.recordsDropped, 0, JSON.stringify(stats.dropsByReason));
  assert.deepEqual(missing.slice(0, 10), [], `${missing.length} captured events never reached the stream`);
  assert.equal(stats.recordsPut + stats.recordsDropped, captured);
});

// Page lifecycle and failure handling in headless Chromium against the local stack:
// keepalive on the way out, localStorage for the next page, an endpoint down for minutes,
// and errors that no retry fixes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useEnv } from './harness.mjs';

const env = useEnv();

const embed = (extra = {}) => `${env.base}/__test/embed?${new URLSearchParams({
  stream: 'general_stream', region: 'us-east-1', endpoint: env.stack.info.kinesisEndpoint,
  'credentials-url': env.stack.info.credentialsUrl, ...extra,
})}`;

/** seq numbers of session `sid` in the stream (de-aggregated by aws-kinesis-agg), with counts. */
async function seqsInStream(sid) {
  const back = await env.stack.auth.readBack('general_stream');
  const seen = new Map();
  for (const r of back.records) {
    const e = JSON.parse(Buffer.from(r.data, 'base64').toString('utf8'));
    if (e.sid === sid) seen.set(e.seq, (seen.get(e.seq) || 0) + 1);
  }
  return seen;
}

async function until(f, ms = 20000) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await f()) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}

test('closing the tab sends what is buffered with keepalive, unprompted by any flush', async () => {
  const context = await env.browser.newContext();
  const page = await context.newPage();
  // Nothing would go out for a minute: only the page going away sends it.
  await page.goto(embed({ 'flush-interval-ms': '60000', 'record-ttl-ms': '120000' }));
  await page.waitForFunction(() => window.kinesisBrowserProducer);
  // One request first, so the preflight is cached as it would be on a live page.
  await page.evaluate(() => { window.kinesisBrowserProducer.record({ warm: true }); return window.kinesisBrowserProducer.flush(); });
  for (let i = 0; i < 50; i++) await page.evaluate((i) => window.kinesisBrowserProducer.record({ i }), i);
  const sid = await page.evaluate(() => window.kinesisBrowserProducer.sessionId);
  const captured = await page.evaluate(() => window.kinesisBrowserProducer.stats().recordsReceived);
  assert.equal(await page.evaluate(() => window.kinesisBrowserProducer.stats().recordsPending), 50);
  await page.close({ runBeforeUnload: true });
  assert.ok(await until(async () => (await seqsInStream(sid)).size === captured), 'the 50 records arrived after the tab closed');
  await context.close();
});

test('a page closed mid-stream and reopened: nothing lost, original session ids and seqs', async () => {
  const context = await env.browser.newContext();
  const page = await context.newPage();
  await page.goto(embed({ 'flush-interval-ms': '200' }));
  await page.waitForFunction(() => window.kinesisBrowserProducer);
  // Slow answers: requests are in flight and records wait in the buffer when the tab closes.
  env.stack.frontDoor.setFaults({ latencyMs: 3000 });
  await page.evaluate(() => new Promise((resolve) => {
    let n = 0;
    const t = setInterval(() => {
      for (let i = 0; i < 20; i++) window.kinesisBrowserProducer.record({ n: n++ });
      document.dispatchEvent(new MouseEvent('mousemove', { clientX: n % 500, clientY: 9, bubbles: true }));
      if (n >= 600) { clearInterval(t); resolve(); }
    }, 20);
  }));
  const sid = await page.evaluate(() => window.kinesisBrowserProducer.sessionId);
  const before = await page.evaluate(() => window.kinesisBrowserProducer.stats());
  assert.ok(before.recordsPending > 0, 'records are still on their way when the tab closes');
  await page.close({ runBeforeUnload: true });
  env.stack.frontDoor.setFaults({});

  // The next page of the origin sends what the last one persisted.
  const next = await context.newPage();
  await next.goto(embed({ 'flush-interval-ms': '200' }));
  await next.waitForFunction(() => window.kinesisBrowserProducer);
  const restored = await next.evaluate(() => window.kinesisBrowserProducer.stats().recordsRestored);
  assert.ok(restored > 0, 'the next page restored persisted records');
  const after = await next.evaluate(() => window.kinesisBrowserProducer.flush());
  assert.equal(after.recordsDropped, 0);
  assert.equal(await next.evaluate(() => Object.keys(localStorage).filter((k) => k.startsWith('kinesis-browser-producer:')).length), 0, 'storage emptied once restored');
  const seen = await seqsInStream(sid);
  const missing = [...Array(before.recordsReceived).keys()].filter((s) => !seen.has(s));
  const duplicates = [...seen.values()].reduce((a, n) => a + n - 1, 0);
  console.log(JSON.stringify({ captured: before.recordsReceived, pendingAtClose: before.recordsPending, restored, delivered: seen.size, duplicates }));
  assert.deepEqual(missing, [], `${missing.length} of ${before.recordsReceived} never reached the stream`);
  await context.close();
});

test('errors no retry fixes stop at once and say what to fix', async () => {
  const page = await env.browser.newPage();
  await page.goto(embed({ capture: 'none' }));
  await page.waitForFunction(() => window.kinesisBrowserProducer);
  const cases = [
    ['AccessDeniedException', 'kinesis:PutRecords'],
    ['ResourceNotFoundException', 'streamName or streamArn'],
    ['ValidationException', 'partition keys'],
    ['KMSAccessDeniedException', 'KMS key'],
  ];
  for (const [code, fix] of cases) {
    env.stack.frontDoor.setFaults({ failWith: { code, status: 400, message: `injected ${code}` } });
    const result = await page.evaluate(async () => {
      const { ready, Producer } = await import('/pkg/kinesis-browser-producer.js');
      await ready;
      const seen = { errors: [], drops: [] };
      const tag = document.querySelector('script[data-stream]').dataset;
      const p = Producer.start({
        streamName: tag.stream, region: tag.region, endpoint: tag.endpoint, credentials: { url: tag.credentialsUrl },
        capture: false, flushIntervalMs: 50,
        onError: (e) => seen.errors.push({ name: e.name, code: e.code, message: e.message }),
        onDrop: (d) => seen.drops.push(d),
      });
      for (let i = 0; i < 5; i++) p.record({ i });
      const stats = await p.flush();
      await new Promise((r) => setTimeout(r, 500));
      return { stats, seen, sid: p.sessionId };
    });
    const attempts = env.stack.frontDoor.log.filter((e) => e.action === 'PutRecords' && e.partitionKeys?.includes(result.sid));
    assert.equal(attempts.length, 1, `${code}: one attempt, no retries`);
    assert.equal(result.stats.retries, 0);
    assert.equal(result.stats.dropsByReason.rejected, 5, code);
    assert.deepEqual(result.seen.drops, [{ reason: 'rejected', count: 5, type: 'app', code }]);
    assert.equal(result.seen.errors.length, 1);
    assert.equal(result.seen.errors[0].code, code);
    assert.ok(result.seen.errors[0].message.includes(fix), `${code}: ${result.seen.errors[0].message}`);
  }
  env.stack.frontDoor.setFaults({});
  await page.close();
});

const DOWN_MS = Number(process.env.KBP_DOWN_MS || 120000);

test(`the endpoint down for ${DOWN_MS / 1000} s: bounded buffer, every drop counted and reported, delivery resumes`, { timeout: DOWN_MS + 120000 }, async () => {
  const page = await env.browser.newPage();
  await page.goto(embed({ capture: 'none' }));
  await page.waitForFunction(() => window.kinesisBrowserProducer);
  await page.evaluate(async () => {
    const { ready, Producer } = await import('/pkg/kinesis-browser-producer.js');
    await ready;
    const tag = document.querySelector('script[data-stream]').dataset;
    window.drops = [];
    window.p = Producer.start({
      streamName: tag.stream, region: tag.region, endpoint: tag.endpoint, credentials: { url: tag.credentialsUrl },
      capture: false, flushIntervalMs: 200, maxBufferedRecords: 300, recordTtlMs: 30000, requestTimeoutMs: 2000,
      onDrop: (d) => window.drops.push(d),
    });
    window.n = 0;
    window.gen = setInterval(() => { for (let i = 0; i < 5; i++) window.p.record({ n: window.n++ }); }, 100);
  });
  env.stack.frontDoor.setFaults({ downForMs: DOWN_MS });
  const downUntil = Date.now() + DOWN_MS;
  let maxPending = 0;
  while (Date.now() < downUntil) {
    await new Promise((r) => setTimeout(r, 2000));
    const s = await page.evaluate(() => window.p.stats());
    maxPending = Math.max(maxPending, s.recordsPending);
    assert.ok(s.recordsPending <= 300, `pending ${s.recordsPending}`);
    assert.equal(s.recordsReceived, s.recordsPut + s.recordsPending + s.recordsDropped);
  }
  const putAtRecovery = await page.evaluate(() => window.p.stats().recordsPut);
  await new Promise((r) => setTimeout(r, 5000));
  await page.evaluate(() => clearInterval(window.gen));
  const stats = await page.evaluate(() => window.p.flush());
  const drops = await page.evaluate(() => window.drops);
  const sid = await page.evaluate(() => window.p.sessionId);
  await page.close();
  env.stack.frontDoor.setFaults({});
  const reported = drops.reduce((a, d) => a + d.count, 0);
  console.log(JSON.stringify({ downMs: DOWN_MS, captured: stats.recordsReceived, put: stats.recordsPut, dropped: stats.dropsByReason, reported, maxPending, errors: stats.errorsByCode }));
  assert.ok(stats.recordsDropped > 0, 'a long outage with a small buffer must drop');
  assert.equal(reported, stats.recordsDropped, 'every drop was reported to the page');
  assert.ok(stats.recordsPut > putAtRecovery, 'delivery resumed');
  assert.equal(stats.recordsReceived, stats.recordsPut + stats.recordsDropped);
  const seen = await seqsInStream(sid);
  assert.equal(seen.size, stats.recordsPut, 'what was put is in the stream');
});

// The page's life around the producer, in headless Chromium against the local stack: a
// producer the page holds no reference to keeps working through garbage collection; records
// made after the page hid (the app's own pagehide handler, a background tab) go out with
// keepalive or are in the copy the next page sends; a visitor who leaves before the first
// flush is delivered, because credentials were fetched at start.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useEnv } from './harness.mjs';

const env = useEnv();

const config = (extra = {}) => ({
  streamName: 'general_stream', region: 'us-east-1', endpoint: env.stack.info.kinesisEndpoint,
  credentials: { url: env.stack.info.credentialsUrl }, ...extra,
});

async function seqsInStream(sid) {
  const back = await env.stack.auth.readBack('general_stream');
  const seen = new Map();
  for (const r of back.records) {
    const e = JSON.parse(Buffer.from(r.data, 'base64').toString('utf8'));
    if (e.sid === sid) seen.set(e.seq, e);
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

/** A page of the www/ origin with the module loaded and nothing started. */
async function blankPage(context) {
  const page = await context.newPage({ viewport: { width: 800, height: 600 } });
  await page.goto(`${env.base}/__test/embed`);
  await page.evaluate(async () => {
    const m = await import('/pkg/kinesis-browser-producer.js');
    await m.ready;
    window.kbp = m;
  });
  return page;
}

test('a producer the page holds no reference to keeps capturing and sending through garbage collection', async () => {
  const context = await env.browser.newContext();
  const page = await blankPage(context);
  // `Producer.start(cfg)` as a bare statement: only its session id is kept.
  const sid = await page.evaluate((cfg) => {
    window.sid = window.kbp.Producer.start({ ...cfg, flushIntervalMs: 200 }).sessionId;
    return window.sid;
  }, config());
  // Collect garbage hard: the wasm-bindgen wrapper is unreachable and is finalized.
  for (let i = 0; i < 5; i++) {
    await page.evaluate(async () => {
      const junk = [];
      for (let j = 0; j < 2e5; j++) junk.push({ j });
      globalThis.gc();
      await new Promise((r) => setTimeout(r, 50));
      globalThis.gc();
    });
  }
  for (let i = 0; i < 30; i++) await page.mouse.move(10 + i * 10, 40 + i);
  await page.mouse.click(200, 200);
  assert.ok(await until(async () => {
    const got = await seqsInStream(sid);
    return [...got.values()].some((e) => e.type === 'click');
  }), 'events captured after the garbage collection reached the stream');
  await context.close();
});

test('records made after the page hid go out with keepalive or in the copy the next page sends', async () => {
  const context = await env.browser.newContext();
  const page = await blankPage(context);
  const sid = await page.evaluate((cfg) => {
    const p = window.kbp.Producer.start({ ...cfg, flushIntervalMs: 30000, capture: false });
    window.producer = p;
    // The app's own handlers, registered after the producer started: they run after ours.
    window.addEventListener('pagehide', () => p.record({ late: 'pagehide' }));
    document.addEventListener('visibilitychange', () => p.record({ late: document.visibilityState }));
    return p.sessionId;
  }, config());
  await page.evaluate(() => window.producer.flush());
  await page.evaluate(() => { for (let i = 0; i < 5; i++) window.producer.record({ i }); });
  // A background tab: hidden, and the app still records.
  await page.evaluate(() => {
    Object.defineProperty(document, 'visibilityState', { value: 'hidden', configurable: true });
    document.dispatchEvent(new Event('visibilitychange'));
    window.producer.record({ background: true });
  });
  const kept = await page.evaluate(() => Object.keys(localStorage).filter((k) => k.startsWith('kinesis-browser-producer:v2:')).map((k) => JSON.parse(localStorage[k])));
  assert.equal(kept.length, 1, 'the copy is written while hidden');
  const captured = await page.evaluate(() => window.producer.stats().recordsReceived);
  // Then the tab goes away (pagehide fires the app's handler too).
  await page.close({ runBeforeUnload: true });
  // The next page of the origin sends what the first could not.
  const next = await blankPage(context);
  await next.evaluate((cfg) => { window.kbp.Producer.start({ ...cfg, flushIntervalMs: 200, capture: false }); }, config());
  assert.ok(await until(async () => (await seqsInStream(sid)).size >= captured + 1), 'every record, the late ones too');
  const got = await seqsInStream(sid);
  const lates = [...got.values()].filter((e) => e.type === 'app' && e.data && (e.data.late || e.data.background)).map((e) => e.data.late || 'background');
  assert.ok(lates.includes('hidden') && lates.includes('background') && lates.includes('pagehide'), lates.join());
  assert.deepEqual([...got.keys()].sort((a, b) => a - b), [...Array(got.size).keys()], 'no gap in the session');
  await context.close();
});

test('a visitor who leaves before the first flush is delivered: credentials were fetched at start', async () => {
  const context = await env.browser.newContext();
  const page = await context.newPage();
  const vended = env.stack.auth.counters.vended;
  await page.goto(`${env.base}/__test/embed?${new URLSearchParams({
    stream: 'general_stream', region: 'us-east-1', endpoint: env.stack.info.kinesisEndpoint,
    'credentials-url': env.stack.info.credentialsUrl, 'flush-interval-ms': '30000',
  })}`);
  await page.waitForFunction(() => window.kinesisBrowserProducer);
  assert.ok(await until(() => env.stack.auth.counters.vended > vended), 'credentials are asked for before any record');
  const sid = await page.evaluate(() => window.kinesisBrowserProducer.sessionId);
  for (let i = 0; i < 20; i++) await page.mouse.move(20 + i * 15, 60);
  await page.mouse.click(100, 100);
  const captured = await page.evaluate(() => window.kinesisBrowserProducer.stats().recordsReceived);
  await page.close({ runBeforeUnload: true });
  assert.ok(await until(async () => (await seqsInStream(sid)).size === captured), 'delivered by keepalive as the tab closed');
  await context.close();
});

// The end-to-end suite's core in Firefox (ESR, geckodriver) and WebKit (WebKitGTK's
// MiniBrowser under Xvfb), driven through WebDriver with trusted input (webdriver.mjs): a page
// with only the script tag, its events read back from the stream; the README's CSP; a tab
// closed with records buffered. Chromium runs the whole suite through playwright-core.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStack } from '../stack/stack.mjs';
import { serveWww } from '../stack/www.mjs';
import { startDriver, Session } from './webdriver.mjs';

const BROWSERS = (process.env.KBP_E2E_BROWSERS || 'firefox,webkit').split(',').filter(Boolean);

let stack;
let www;
let base;
before(async () => {
  stack = await startStack({ ports: { kinesis: 0, auth: 0, store: 0 }, quiet: true });
  www = await serveWww(0, stack.info);
  base = `http://127.0.0.1:${www.address().port}`;
});
after(async () => {
  www?.close();
  await stack?.stop();
});

const embed = (extra = {}) => `${base}/__test/embed?${new URLSearchParams({
  stream: 'general_stream', region: 'us-east-1', endpoint: stack.info.kinesisEndpoint,
  'credentials-url': stack.info.credentialsUrl, ...extra,
})}`;

async function events(sid) {
  const back = await stack.auth.readBack('general_stream');
  return back.records.map((r) => JSON.parse(Buffer.from(r.data, 'base64').toString('utf8'))).filter((e) => e.sid === sid);
}

async function until(f, ms = 20000) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await f()) return true;
    await new Promise((r) => setTimeout(r, 200));
  }
  return false;
}

for (const browser of BROWSERS) {
  describe(browser, () => {
    let driver;
    let s;
    before(async () => {
      driver = await startDriver(browser);
      s = await Session.create(driver);
    });
    after(async () => {
      await s?.quit();
      driver?.stop();
    });

    test(`${browser}: a page with only the script tag puts every captured event in the stream, once, in order`, async () => {
      await s.goto(embed({ 'flush-interval-ms': '200' }));
      await s.waitFor(() => window.kinesisBrowserProducer || window.kinesisBrowserProducerError);
      assert.equal(await s.evaluate(() => window.kinesisBrowserProducerError?.message || null), null);
      await s.evaluate(() => {
        window.seen = { mousemove: 0, mousedown: 0, mouseup: 0, click: 0, wheel: 0 };
        for (const t of Object.keys(window.seen)) document.addEventListener(t, (e) => { if (e.isTrusted) window.seen[t]++; }, { passive: true });
      });
      const steps = [];
      for (let i = 0; i < 40; i++) steps.push(['move', 60 + i * 8, 120 + (i % 5) * 6]);
      steps.push(['down'], ['up'], ['move', 300, 200], ['down'], ['up']);
      await s.pointer(steps);
      await s.wheel(200, 150, 120);
      await s.evaluate(async () => {
        for (let i = 0; i < 50 && window.seen.wheel < 1; i++) await new Promise((r) => setTimeout(r, 20));
        for (let i = 0; i < 3; i++) window.kinesisBrowserProducer.record({ app: 'cart', item: i });
      });
      const { stats, sid, seen } = await s.evaluate(async () => ({
        stats: await window.kinesisBrowserProducer.close(),
        sid: window.kinesisBrowserProducer.sessionId,
        seen: window.seen,
      }));
      assert.equal(stats.recordsDropped, 0, JSON.stringify(stats));
      assert.equal(stats.recordsPut, stats.recordsReceived);
      const mine = await events(sid);
      assert.deepEqual(mine.map((e) => e.seq), [...Array(stats.recordsReceived).keys()], 'exactly once per seq, in order');
      for (const type of ['mousedown', 'mouseup', 'click', 'wheel']) {
        assert.equal(mine.filter((e) => e.type === type).length, seen[type], `${type}: every trusted one the page saw`);
        assert.ok(seen[type] >= 1, `${type} was dispatched`);
      }
      const moves = mine.filter((e) => e.type === 'mousemove').length;
      assert.equal(moves + stats.mousemoveCoalesced, seen.mousemove, 'moves: kept plus coalesced');
      assert.deepEqual(mine.filter((e) => e.type === 'app').map((e) => e.data.item), [0, 1, 2]);
      const click = mine.filter((e) => e.type === 'click').at(-1);
      assert.deepEqual([click.x, click.y], [300, 200]);
    });

    test(`${browser}: the embed works under the README's Content Security Policy`, async () => {
      await s.goto(embed({
        'cognito-identity-pool-id': stack.info.identityPoolId, 'cognito-guest-role-arn': stack.info.guestRoleArn,
        'cognito-endpoint': stack.info.authEndpoint, 'sts-endpoint': stack.info.stsEndpoint,
        'credentials-url': '', _csp: '1',
      }).replace('credentials-url=&', ''));
      await s.waitFor(() => window.kinesisBrowserProducer || window.kinesisBrowserProducerError);
      assert.equal(await s.evaluate(() => window.kinesisBrowserProducerError?.message || null), null);
      await s.pointer([['move', 50, 50], ['move', 90, 60], ['down'], ['up']]);
      const { stats, sid } = await s.evaluate(async () => ({ stats: await window.kinesisBrowserProducer.close(), sid: window.kinesisBrowserProducer.sessionId }));
      assert.ok(stats.recordsPut >= 3 && stats.recordsPut === stats.recordsReceived, JSON.stringify(stats));
      assert.equal((await events(sid)).length, stats.recordsPut);
    });

    test(`${browser}: a tab closed with records buffered: they reach the stream (keepalive, else the next page)`, async () => {
      await s.goto(embed({ 'flush-interval-ms': '30000' }));
      await s.waitFor(() => window.kinesisBrowserProducer);
      // The first record goes at once (credentials and the preflight proven); then 20 wait.
      await s.evaluate(() => window.kinesisBrowserProducer.flush());
      const { sid, captured } = await s.evaluate(() => {
        for (let i = 0; i < 20; i++) window.kinesisBrowserProducer.record({ i });
        return { sid: window.kinesisBrowserProducer.sessionId, captured: window.kinesisBrowserProducer.stats().recordsReceived };
      });
      // A shown page copies what waits within a second: Firefox terminates a closing tab's
      // handler before a wasm module has signed its keepalive request, most times.
      const copied = await until(() => s.evaluate(() => Object.keys(localStorage).some((k) => k.startsWith('kinesis-browser-producer:v2:'))), 5000);
      assert.ok(copied, 'the records waiting are copied to localStorage while the page is shown');
      const other = await s.newWindow();
      await s.closeWindow(); // the producer's tab
      await s.switchTo(other);
      const seqs = async () => new Set((await events(sid)).map((e) => e.seq)).size;
      const byKeepalive = await until(async () => (await seqs()) === captured, 5000);
      console.log(JSON.stringify({ browser, tabClosed: { captured, deliveredByKeepalive: byKeepalive } }));
      if (!byKeepalive) {
        // Not delivered as the tab closed: the copy in localStorage goes with the next page.
        await s.goto(embed({ 'flush-interval-ms': '200' }));
        await s.waitFor(() => window.kinesisBrowserProducer);
      }
      const all = await until(async () => (await seqs()) === captured);
      assert.ok(all, `every record of the closed tab: ${JSON.stringify([...new Set((await events(sid)).map((e) => e.seq))])} of ${captured}`);
    });
  });
}

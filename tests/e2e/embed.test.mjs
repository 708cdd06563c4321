// End to end: a page that only embeds the script tag, driven by trusted input (CDP
// Input.dispatchMouseEvent through playwright-core) in headless Chromium, against the local
// stack; the stream is read back by the AWS SDK. Needs the release build in www/pkg
// (tests/scripts/build.sh runs before this in `npm test`).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { useEnv } from './harness.mjs';

const env = useEnv();

function embedUrl(attrs) {
  return `${env.base}/__test/embed?${new URLSearchParams(attrs)}`;
}

test('a page with only the script tag puts every captured event in the stream, once, in order', async () => {
  const page = await env.browser.newPage({ viewport: { width: 1000, height: 700 } });
  const pageErrors = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  await page.goto(embedUrl({
    stream: 'general_stream', region: 'us-east-1', endpoint: env.stack.info.kinesisEndpoint,
    'credentials-url': env.stack.info.credentialsUrl, 'flush-interval-ms': '200',
  }));
  await page.waitForFunction(() => window.kinesisBrowserProducer);
  await page.evaluate(() => {
    window.seen = { mousemove: 0, mousedown: 0, mouseup: 0, click: 0, wheel: 0 };
    for (const t of Object.keys(window.seen)) document.addEventListener(t, (e) => { if (e.isTrusted) window.seen[t]++; }, { passive: true });
  });

  for (let i = 0; i < 80; i++) await page.mouse.move(100 + i * 6, 200 + (i % 10) * 4);
  await page.mouse.down();
  await page.mouse.move(600, 260, { steps: 5 });
  await page.mouse.up();
  await page.mouse.click(320, 300);
  await page.mouse.wheel(0, 120);
  await page.mouse.wheel(0, -60);
  // Input.dispatchMouseEvent can return before a wheel event reaches the page.
  await page.waitForFunction(() => window.seen.wheel === 2);
  for (let i = 0; i < 3; i++) {
    await page.evaluate((i) => window.kinesisBrowserProducer.record({ app: 'cart', item: i }), i);
  }
  const stats = await page.evaluate(() => window.kinesisBrowserProducer.close());
  const sid = await page.evaluate(() => window.kinesisBrowserProducer.sessionId);
  const seen = await page.evaluate(() => window.seen);
  await page.close();

  assert.deepEqual(pageErrors, []);
  assert.equal(stats.recordsDropped, 0);
  assert.equal(stats.recordsPut, stats.recordsReceived, JSON.stringify(stats));
  // The stats are what the shipped TypeScript declares, no more, no fewer.
  const dts = readFileSync(new URL('../../www/pkg/kbp_core.d.ts', import.meta.url), 'utf8');
  const declared = /export interface ProducerStats \{([^}]*)\}/.exec(dts)[1].match(/\w+(?=:)/g);
  assert.deepEqual(Object.keys(stats).sort(), [...declared].sort());
  const back = await env.stack.auth.readBack('general_stream');
  // Aggregated by default: fewer Kinesis records than events, unpacked by aws-kinesis-agg.
  const ours = back.records.filter((r) => r.partitionKey === sid);
  assert.ok(ours.some((r) => r.aggregated), 'KPL-aggregated records in the stream');
  assert.ok(new Set(ours.map((r) => r.sequenceNumber)).size < ours.length);
  assert.equal(stats.recordsPut, ours.length);
  assert.ok(stats.kinesisRecordsPut < stats.recordsPut);
  const mine = back.records.filter((r) => r.partitionKey === sid).map((r) => JSON.parse(Buffer.from(r.data, 'base64').toString('utf8')));
  // Exactly once per sequence number, in order, nothing missing.
  assert.deepEqual(mine.map((r) => r.seq), [...Array(stats.recordsReceived).keys()]);
  assert.ok(mine.every((r) => r.v === 1 && r.sid === sid && r.path === '/__test/embed' && r.vw === 1000 && r.vh === 700));
  const count = (type) => mine.filter((r) => r.type === type).length;
  for (const type of ['mousedown', 'mouseup', 'click', 'wheel']) {
    assert.equal(count(type), seen[type], `${type}: every trusted event the page saw is in the stream`);
    assert.ok(seen[type] >= 1, type);
  }
  assert.ok(count('mousemove') >= 1 && count('mousemove') <= seen.mousemove, `${count('mousemove')} of ${seen.mousemove} moves (coalesced)`);
  assert.equal(count('mousemove') + stats.mousemoveCoalesced, seen.mousemove);
  assert.deepEqual(mine.filter((r) => r.type === 'app').map((r) => r.data), [0, 1, 2].map((item) => ({ app: 'cart', item })));
  const wheels = mine.filter((r) => r.type === 'wheel');
  assert.deepEqual(wheels.map((w) => w.dy), [120, -60]);
  const click = mine.filter((r) => r.type === 'click').at(-1);
  assert.equal(click.pointer, 'mouse');
  assert.deepEqual([click.x, click.y], [320, 300]);
});

test('the template\'s outputs work as script-tag attributes under the README\'s CSP: Cognito guests put records by the classic flow, one identity per visitor', async () => {
  // As deployed: data-stream, data-region, data-cognito-identity-pool-id and
  // data-cognito-guest-role-arn from the stack's outputs. Locally the endpoints point at the
  // local stack (its Cognito and STS share one origin); the attribute names are the same.
  const info = env.stack.info;
  const url = embedUrl({
    stream: 'general_stream', region: 'us-east-1', 'cognito-identity-pool-id': info.identityPoolId,
    'cognito-guest-role-arn': info.guestRoleArn,
    endpoint: info.kinesisEndpoint, 'cognito-endpoint': info.authEndpoint, 'sts-endpoint': info.stsEndpoint,
    // Under the README's Content Security Policy: script-src 'self' 'wasm-unsafe-eval', connect-src the endpoints.
    _csp: '1',
  });
  const cognito = env.stack.auth.cognito.counters;
  const before = { ...cognito };
  // One visitor: two page loads in one browser profile.
  const visitor = await env.browser.newContext();
  const sids = [];
  for (let load = 0; load < 2; load++) {
    const page = await visitor.newPage();
    await page.goto(url);
    await page.waitForFunction(() => window.kinesisBrowserProducer);
    for (let i = 0; i < 20; i++) await page.mouse.move(50 + i * 10, 80);
    await page.mouse.click(200, 100);
    const stats = await page.evaluate(() => window.kinesisBrowserProducer.close());
    const sid = await page.evaluate(() => window.kinesisBrowserProducer.sessionId);
    await page.close();
    assert.ok(stats.recordsPut >= 4 && stats.recordsPut === stats.recordsReceived, JSON.stringify(stats));
    const back = await env.stack.auth.readBack('general_stream');
    assert.equal(back.records.filter((r) => r.partitionKey === sid).length, stats.recordsPut);
    const signed = env.stack.frontDoor.log.filter((e) => e.partitionKeys?.includes(sid));
    assert.ok(signed.length > 0 && signed.every((e) => e.principal === 'arn:aws:sts::000000000000:assumed-role/kinesis-browser-producer-guest/kinesis-browser-producer'),
      'signed with the guest role from STS (classic flow), not scoped-down enhanced-flow credentials');
    sids.push(sid);
  }
  await visitor.close();
  assert.notEqual(sids[0], sids[1], 'two page loads, two sessions');
  assert.equal(cognito.getId - before.getId, 1, 'one Cognito identity for the visitor across page loads');
  assert.equal(cognito.getOpenIdToken - before.getOpenIdToken, 2);
  assert.equal(cognito.assumeRoleWithWebIdentity - before.assumeRoleWithWebIdentity, 2);
  assert.equal(cognito.getCredentialsForIdentity - before.getCredentialsForIdentity, 0, 'never the enhanced flow for guests');
});

test('bad script-tag attributes give an error naming the attribute', async () => {
  for (const [attrs, attribute] of [
    [{ stream: 'general_stream', region: 'mars', 'credentials-url': '/c' }, 'data-region'],
    [{ stream: 'no spaces allowed', region: 'us-east-1', 'credentials-url': '/c' }, 'data-stream'],
    [{ stream: 'general_stream', region: 'us-east-1' }, 'data-credentials-url'],
    // A guest pool without its role: at AWS every PutRecords would be AccessDenied.
    [{ stream: 'general_stream', region: 'us-east-1', 'cognito-identity-pool-id': 'us-east-1:00000000-0000-4000-8000-0000000b0b00' }, 'data-cognito-guest-role-arn'],
    [{ stream: 'general_stream', region: 'us-east-1', 'credentials-url': '/c', 'flush-interval-ms': 'often' }, 'data-flush-interval-ms'],
  ]) {
    const page = await env.browser.newPage();
    const consoleErrors = [];
    page.on('console', (m) => m.type() === 'error' && consoleErrors.push(m.text()));
    await page.goto(embedUrl(attrs));
    await page.waitForFunction(() => window.kinesisBrowserProducerError);
    const error = await page.evaluate(() => {
      const e = window.kinesisBrowserProducerError;
      return { name: e.name, key: e.key, message: e.message, producer: !!window.kinesisBrowserProducer };
    });
    await page.close();
    assert.equal(error.name, 'ConfigError');
    assert.equal(error.key, attribute);
    assert.ok(error.message.includes(attribute), error.message);
    assert.equal(error.producer, false);
    assert.ok(consoleErrors.some((t) => t.includes(attribute)), consoleErrors.join('\n'));
  }
});

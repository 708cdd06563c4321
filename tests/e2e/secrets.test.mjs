// End to end: AWS's answer to a signature mismatch echoes the canonical request, with the
// x-amz-security-token line, and the credential scope (the local front door answers the
// same). With a signed header tampered on the way in, nothing the page can see holds a
// session token, a secret key, a signature or a credential scope: not onError, not the
// console, not the stats, not the demo page.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useEnv } from './harness.mjs';

const env = useEnv();

/** Every secret the local STS has issued so far, and the shapes of signatures and scopes. */
function leaks(text) {
  const found = [];
  for (const c of env.stack.sts.issued.values()) {
    if (text.includes(c.SessionToken)) found.push('a session token');
    if (text.includes(c.SecretAccessKey)) found.push('a secret key');
  }
  if (/aws4_request/.test(text)) found.push('a credential scope');
  if (/[0-9a-f]{64}/.test(text)) found.push('a signature');
  if (/x-amz-security-token/i.test(text)) found.push('the canonical request');
  return found;
}

async function tampering(fn) {
  env.stack.frontDoor.setFaults({ tamperHeader: 'content-type' });
  try {
    return await fn();
  } finally {
    env.stack.frontDoor.setFaults({});
  }
}

test('a tampered signed header: onError, console and stats say what happened and hold no secret', async () => {
  const page = await env.browser.newPage();
  const consoleText = [];
  page.on('console', (m) => consoleText.push(m.text()));
  page.on('pageerror', (e) => consoleText.push(e.message));
  await page.goto(`${env.base}/__test/embed`);
  const before = env.stack.frontDoor.counters.byCode.InvalidSignatureException || 0;
  const seen = await tampering(() => page.evaluate(async (info) => {
    const { ready, Producer } = await import('/pkg/kinesis-browser-producer.js');
    await ready;
    const errors = [];
    const drops = [];
    const producer = Producer.start({
      streamName: 'general_stream', region: 'us-east-1', endpoint: info.kinesisEndpoint,
      credentials: { url: info.credentialsUrl }, capture: false,
      onError: (e) => { errors.push({ name: e.name, code: e.code, message: e.message, text: String(e), stack: String(e.stack) }); console.error(e); },
      onDrop: (d) => drops.push(d),
    });
    for (let i = 0; i < 5; i++) producer.record({ i });
    const stats = await producer.flush();
    let thrown = null;
    try {
      await producer.putRecords([{ data: 'x', partitionKey: 'tampered' }]);
    } catch (e) {
      thrown = { name: e.name, code: e.code, message: e.message, text: String(e) };
    }
    await producer.close();
    return { errors, drops, stats, thrown };
  }, env.stack.info));
  await page.close();

  assert.ok((env.stack.frontDoor.counters.byCode.InvalidSignatureException || 0) > before, 'the front door refused the tampered requests');
  assert.equal(seen.errors.length, 1, JSON.stringify(seen.errors));
  assert.equal(seen.errors[0].code, 'InvalidSignatureException');
  assert.match(seen.errors[0].message, /does not match the signature you provided/);
  assert.match(seen.errors[0].message, /nothing between the page and Kinesis changes the request/, 'it says what to check');
  assert.equal(seen.thrown.code, 'InvalidSignatureException');
  assert.deepEqual(seen.drops.map((d) => [d.reason, d.code, d.count]), [['rejected', 'InvalidSignatureException', 5]]);
  assert.equal(seen.stats.errorsByCode.InvalidSignatureException, 1);
  for (const [surface, text] of [
    ['onError', JSON.stringify(seen.errors)], ['a rejected promise', JSON.stringify(seen.thrown)],
    ['the console', consoleText.join('\n')], ['the stats', JSON.stringify(seen.stats)], ['onDrop', JSON.stringify(seen.drops)],
  ]) {
    assert.deepEqual(leaks(text), [], `${surface}: ${text.slice(0, 2000)}`);
  }
});

test('the demo page shows the error without a secret', async () => {
  const page = await env.browser.newPage({ viewport: { width: 1200, height: 900 } });
  await page.goto(`${env.base}/?producers=0`);
  await page.waitForSelector('#capture');
  await page.waitForFunction(() => document.querySelector('#stream').textContent !== '…');
  await tampering(async () => {
    const box = await page.locator('#capture').boundingBox();
    for (let i = 0; i < 10; i++) await page.mouse.move(box.x + 20 + i * 10, box.y + 30);
    await page.mouse.click(box.x + 50, box.y + 40);
    await page.waitForFunction(() => !document.querySelector('#error').hidden, null, { timeout: 15000 });
  });
  const shown = await page.locator('#error').textContent();
  const everything = await page.evaluate(() => document.documentElement.outerHTML);
  await page.close();
  assert.match(shown, /InvalidSignatureException|does not match the signature/);
  assert.deepEqual(leaks(everything), [], shown);
});

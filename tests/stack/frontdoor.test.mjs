// The front door checked from the outside with the AWS SDK for JavaScript (not our code):
// it accepts what the official SDK signs and refuses what AWS would refuse.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { KinesisClient, PutRecordsCommand, GetRecordsCommand, GetShardIteratorCommand, ListShardsCommand } from '@aws-sdk/client-kinesis';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { startStack } from './stack.mjs';
import { computeAuthorization, FIXTURE } from './known-answer.mjs';

let stack;
before(async () => {
  stack = await startStack({ ports: { kinesis: 0, auth: 0, store: 0 }, quiet: true });
});
after(() => stack.stop());

const client = (c, extra = {}) => new KinesisClient({
  region: 'us-east-1',
  endpoint: stack.info.kinesisEndpoint,
  credentials: { accessKeyId: c.AccessKeyId, secretAccessKey: c.SecretAccessKey, sessionToken: c.SessionToken },
  requestHandler: new NodeHttpHandler(),
  maxAttempts: 1,
  ...extra,
});
const put = (stream, key) => new PutRecordsCommand({ StreamName: stream, Records: [{ Data: Buffer.from('hello'), PartitionKey: key }] });

test('the PutRecords known answer in the Rust tests is what @smithy/signature-v4 computes', async () => {
  const f = JSON.parse(readFileSync(FIXTURE, 'utf8'));
  assert.equal(await computeAuthorization(f), f.authorization);
});

test('write credentials put to general_stream and nothing else; read credentials read it', async () => {
  const w = stack.auth.vend('write');
  const out = await client(w).send(put('general_stream', 'node-sdk'));
  assert.equal(out.FailedRecordCount, 0);
  await assert.rejects(client(w).send(put('other_stream', 'node-sdk')), { name: 'AccessDeniedException', message: /kinesis:PutRecords on resource: arn:aws:kinesis:us-east-1:000000000000:stream\/other_stream/ });
  await assert.rejects(client(w).send(new ListShardsCommand({ StreamName: 'general_stream' })), { name: 'AccessDeniedException' });
  const r = stack.auth.vend('read');
  await assert.rejects(client(r).send(put('general_stream', 'reader')), { name: 'AccessDeniedException' });
  const shard = out.Records[0].ShardId;
  const it = await client(r).send(new GetShardIteratorCommand({ StreamName: 'general_stream', ShardId: shard, ShardIteratorType: 'TRIM_HORIZON' }));
  const got = await client(r).send(new GetRecordsCommand({ ShardIterator: it.ShardIterator }));
  assert.ok(got.Records.some((x) => x.PartitionKey === 'node-sdk' && Buffer.from(x.Data).toString() === 'hello'));
  await assert.rejects(client(w).send(new GetRecordsCommand({ ShardIterator: got.NextShardIterator })), { name: 'AccessDeniedException' });
});

test('a wrong secret, an unknown token, a skewed clock and expired credentials are refused', async () => {
  const w = stack.auth.vend('write');
  await assert.rejects(client({ ...w, SecretAccessKey: w.SecretAccessKey.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A')) }).send(put('general_stream', 'x')),
    { name: 'InvalidSignatureException', message: /does not match/ });
  await assert.rejects(client({ ...w, SessionToken: w.SessionToken + 'x' }).send(put('general_stream', 'x')), { name: 'UnrecognizedClientException' });
  await assert.rejects(client(w, { systemClockOffset: 10 * 60 * 1000 }).send(put('general_stream', 'x')), { name: 'InvalidSignatureException', message: /not yet current/ });
  await assert.rejects(client(w, { systemClockOffset: -10 * 60 * 1000 }).send(put('general_stream', 'x')), { name: 'InvalidSignatureException', message: /Signature expired/ });
  const short = stack.sts.assumeRole({ role: 'writer', sessionName: 't', policy: null, durationSeconds: 1 });
  await new Promise((r) => setTimeout(r, 1100));
  await assert.rejects(client(short).send(put('general_stream', 'x')), { name: 'ExpiredTokenException' });
});

test('unsigned requests are refused and counted; preflights allow the SigV4 headers', async () => {
  const before = stack.frontDoor.counters.unsigned;
  const res = await fetch(stack.info.kinesisEndpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'Kinesis_20131202.PutRecords' },
    body: JSON.stringify({ StreamName: 'general_stream', Records: [{ Data: 'eA==', PartitionKey: 'k' }] }),
  });
  assert.equal(res.status, 400);
  assert.equal((await res.json()).__type, 'MissingAuthenticationTokenException');
  assert.equal(stack.frontDoor.counters.unsigned, before + 1);
  const pre = await fetch(stack.info.kinesisEndpoint, {
    method: 'OPTIONS',
    headers: { origin: 'http://127.0.0.1:8080', 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type,x-amz-date,x-amz-security-token,x-amz-target' },
  });
  assert.equal(pre.status, 200);
  assert.equal(pre.headers.get('access-control-allow-origin'), 'http://127.0.0.1:8080');
  assert.match(pre.headers.get('access-control-allow-headers'), /x-amz-security-token/);
  assert.equal(pre.headers.get('access-control-max-age'), '600');
});

test('a signature mismatch echoes the canonical request, security token included, as AWS does', async () => {
  const w = stack.auth.vend('write');
  const wrong = { ...w, SecretAccessKey: w.SecretAccessKey.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A')) };
  const e = await client(wrong).send(put('general_stream', 'x')).catch((err) => err);
  assert.equal(e.name, 'InvalidSignatureException');
  assert.match(e.message, /The Canonical String for this request should have been\n'POST\n\/\n\n/);
  assert.ok(e.message.includes(`x-amz-security-token:${w.SessionToken}\n`), 'the token is in the echoed canonical request');
  assert.match(e.message, /The String-to-Sign should have been\n'AWS4-HMAC-SHA256\n\d{8}T\d{6}Z\n\d{8}\/us-east-1\/kinesis\/aws4_request\n[0-9a-f]{64}'\n$/);
});

test('answers expose Date to pages as Kinesis does, unless the hideDate fault is on', async () => {
  const ask = () => fetch(stack.info.kinesisEndpoint, { method: 'POST', headers: { origin: 'http://127.0.0.1:8080' }, body: '{}' });
  const exposed = (await ask()).headers.get('access-control-expose-headers');
  assert.match(exposed, /(^|, )Date$/);
  assert.match(exposed, /x-amzn-ErrorType/);
  stack.frontDoor.setFaults({ hideDate: true });
  try {
    assert.doesNotMatch((await ask()).headers.get('access-control-expose-headers'), /Date/);
  } finally {
    stack.frontDoor.setFaults({});
  }
});

test('PutRecords limits as in the API reference: 10 MiB a request, 1 MiB a record (data + key)', async () => {
  const w = stack.auth.vend('write');
  const mib = 1024 * 1024;
  const records = (n, bytes, key = 'big') => Array.from({ length: n }, (_, i) => ({ Data: Buffer.alloc(bytes, 97 + i), PartitionKey: `${key}-${i}` }));
  // 9 records of 1 MiB minus their key: a 9 MiB payload, more than kinesalite takes in one body.
  const ok = await client(w).send(new PutRecordsCommand({ StreamName: 'general_stream', Records: records(9, mib - 8, 'big9') }));
  assert.equal(ok.FailedRecordCount, 0);
  assert.equal(ok.Records.length, 9);
  assert.ok(ok.Records.every((r) => r.SequenceNumber));
  await assert.rejects(client(w).send(new PutRecordsCommand({ StreamName: 'general_stream', Records: records(1, mib - 3, 'over') })),
    { name: 'InvalidArgumentException', message: /maximum record size of 1048576/ });
  await assert.rejects(client(w).send(new PutRecordsCommand({ StreamName: 'general_stream', Records: records(11, mib - 8, 'big11') })),
    { name: 'InvalidArgumentException', message: /PutRecords limit of 10485760/ });
});

test('seeded fault draws repeat, and dropped connections alternate before and after the store', async () => {
  const w = stack.auth.vend('write');
  const run = async () => {
    const door = stack.frontDoor;
    door.counters.faults = {};
    door.setFaults({ dropConnectionRate: 0.06, serverErrorRate: 0.06, seed: 30 });
    const outcomes = [];
    for (let i = 0; i < 40; i++) {
      const e = await client(w).send(put('general_stream', `seeded-${i}`)).then(() => 'ok', (err) => err.name);
      outcomes.push(e);
    }
    const faults = { ...door.counters.faults };
    door.setFaults({ seed: 0 }); // a seed of its own, so the next run starts from seed 30 again
    door.setFaults({});
    return { outcomes, faults };
  };
  const first = await run();
  const second = await run();
  assert.deepEqual(second, first, 'the same seed, the same faults on the same requests');
  // The soak's seed draws every kind within 40 requests (tests/e2e/soak.test.mjs).
  assert.ok(first.faults.dropBeforeStore >= 1 && first.faults.dropAfterStore >= 1 && first.faults.serverError >= 1, JSON.stringify(first.faults));
  assert.ok(first.faults.dropBeforeStore - first.faults.dropAfterStore <= 1, 'they alternate');
});

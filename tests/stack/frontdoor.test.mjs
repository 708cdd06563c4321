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

test('the Cognito guest flow gives credentials for the guest role only', async () => {
  const call = async (target, body) => {
    const r = await fetch(stack.info.authEndpoint, { method: 'POST', headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': `AWSCognitoIdentityService.${target}` }, body: JSON.stringify(body) });
    return { status: r.status, body: await r.json() };
  };
  const bad = await call('GetId', { IdentityPoolId: 'us-east-1:00000000-0000-4000-8000-00000000dead' });
  assert.equal(bad.body.__type, 'ResourceNotFoundException');
  const id = await call('GetId', { IdentityPoolId: stack.info.identityPoolId });
  const creds = await call('GetCredentialsForIdentity', { IdentityId: id.body.IdentityId });
  const c = creds.body.Credentials;
  assert.equal(typeof c.Expiration, 'number');
  const guest = { AccessKeyId: c.AccessKeyId, SecretAccessKey: c.SecretKey, SessionToken: c.SessionToken };
  assert.equal((await client(guest).send(put('general_stream', 'guest'))).FailedRecordCount, 0);
  await assert.rejects(client(guest).send(put('other_stream', 'guest')), { name: 'AccessDeniedException' });
});

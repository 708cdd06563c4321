// The local stack's Cognito, STS and KCL model checked from outside with the AWS SDK for
// JavaScript and AWS Labs' aws-kinesis-agg (not our code): as strict as AWS where AWS is
// stricter than any stand-in.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { KinesisClient, PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { CognitoIdentityClient } from '@aws-sdk/client-cognito-identity';
import { fromCognitoIdentityPool } from '@aws-sdk/credential-provider-cognito-identity';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import agg from 'aws-kinesis-agg';
import { startStack } from './stack.mjs';
import { kclKeep, effectiveHashKey } from './kcl.mjs';
import { ROLES } from './iam.mjs';

let stack;
before(async () => {
  stack = await startStack({ ports: { kinesis: 0, auth: 0, store: 0 }, quiet: true });
});
after(() => stack.stop());

const kinesis = (c) => new KinesisClient({
  region: 'us-east-1',
  endpoint: stack.info.kinesisEndpoint,
  credentials: { accessKeyId: c.accessKeyId ?? c.AccessKeyId, secretAccessKey: c.secretAccessKey ?? c.SecretAccessKey ?? c.SecretKey, sessionToken: c.sessionToken ?? c.SessionToken },
  requestHandler: new NodeHttpHandler(),
  maxAttempts: 1,
});
const put = (stream, key) => new PutRecordsCommand({ StreamName: stream, Records: [{ Data: Buffer.from('hello'), PartitionKey: key }] });

async function cognito(operation, body) {
  const r = await fetch(stack.info.authEndpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': `AWSCognitoIdentityService.${operation}` },
    body: JSON.stringify(body),
  });
  return { status: r.status, body: await r.json() };
}

async function assumeRoleWithWebIdentity(fields) {
  const r = await fetch(stack.info.stsEndpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ Action: 'AssumeRoleWithWebIdentity', Version: '2011-06-15', RoleSessionName: 'test', ...fields }),
  });
  const text = await r.text();
  const tag = (t) => text.match(new RegExp(`<${t}>([^<]*)</${t}>`))?.[1];
  return { status: r.status, text, code: tag('Code'), creds: tag('AccessKeyId') && { AccessKeyId: tag('AccessKeyId'), SecretAccessKey: tag('SecretAccessKey'), SessionToken: tag('SessionToken'), Expiration: tag('Expiration') } };
}

test('enhanced-flow guests (what the AWS SDK and Amplify do) get AccessDenied on PutRecords, as at AWS', async () => {
  const credentials = fromCognitoIdentityPool({
    identityPoolId: stack.info.identityPoolId,
    client: new CognitoIdentityClient({ region: 'us-east-1', endpoint: stack.info.authEndpoint, requestHandler: new NodeHttpHandler() }),
  });
  const guest = await credentials();
  await assert.rejects(kinesis(guest).send(put('general_stream', 'enhanced-guest')), {
    name: 'AccessDeniedException',
    message: /kinesis-browser-producer-guest\/CognitoIdentityCredentials is not authorized to perform: kinesis:PutRecords .* because no session policy allows/,
  });
});

test('classic-flow guests: GetId, GetOpenIdToken, AssumeRoleWithWebIdentity put to the stream and nowhere else', async () => {
  const bad = await cognito('GetId', { IdentityPoolId: 'us-east-1:00000000-0000-4000-8000-00000000dead' });
  assert.equal(bad.body.__type, 'ResourceNotFoundException');
  const { body: { IdentityId } } = await cognito('GetId', { IdentityPoolId: stack.info.identityPoolId });
  const { body: { Token } } = await cognito('GetOpenIdToken', { IdentityId });
  const sts = await assumeRoleWithWebIdentity({ RoleArn: stack.info.guestRoleArn, WebIdentityToken: Token });
  assert.equal(sts.status, 200, sts.text);
  assert.match(sts.text, /<AssumeRoleWithWebIdentityResponse xmlns="https:\/\/sts.amazonaws.com\/doc\/2011-06-15\/">/);
  assert.ok(Date.parse(sts.creds.Expiration) > Date.now() + 50 * 60 * 1000);
  assert.equal((await kinesis(sts.creds).send(put('general_stream', 'classic-guest'))).FailedRecordCount, 0);
  await assert.rejects(kinesis(sts.creds).send(put('other_stream', 'classic-guest')), { name: 'AccessDeniedException' });
  assert.equal(stack.sts.lookup(sts.creds.AccessKeyId).sessionPolicy, null, 'scoped by the role alone');
});

test('STS takes only tokens this Cognito issued, for the pool\'s guest role; pools without the classic flow refuse it', async () => {
  const { body: { IdentityId } } = await cognito('GetId', { IdentityPoolId: stack.info.identityPoolId });
  const { body: { Token } } = await cognito('GetOpenIdToken', { IdentityId });
  // A changed signature character (not the last, whose low bits base64url leaves unused).
  const [head, body, sig] = Token.split('.');
  const forged = `${head}.${body}.${sig[0] === 'A' ? 'B' : 'A'}${sig.slice(1)}`;
  assert.equal((await assumeRoleWithWebIdentity({ RoleArn: stack.info.guestRoleArn, WebIdentityToken: forged })).code, 'InvalidIdentityToken');
  const wrongRole = await assumeRoleWithWebIdentity({ RoleArn: ROLES.user.arn, WebIdentityToken: Token });
  assert.deepEqual([wrongRole.status, wrongRole.code], [403, 'AccessDenied'], 'a guest token cannot assume the signed-in role');
  assert.equal((await assumeRoleWithWebIdentity({ RoleArn: ROLES.writer.arn, WebIdentityToken: Token })).code, 'AccessDenied');
  const stsError = await assumeRoleWithWebIdentity({ RoleArn: stack.info.guestRoleArn, WebIdentityToken: forged });
  assert.match(stsError.text, /<ErrorResponse xmlns="https:\/\/sts.amazonaws.com\/doc\/2011-06-15\/">\s*<Error><Type>Sender<\/Type><Code>InvalidIdentityToken<\/Code><Message>/);
  const other = await cognito('GetId', { IdentityPoolId: stack.info.enhancedOnlyPoolId });
  const refused = await cognito('GetOpenIdToken', { IdentityId: other.body.IdentityId });
  assert.deepEqual([refused.status, refused.body.__type, refused.body.message], [400, 'InvalidParameterException', 'Basic (classic) flow is not enabled, please use enhanced flow.']);
});

test('signed-in users keep the enhanced flow: one identity per login, the authenticated role, not scoped down', async () => {
  const token = async (user) => (await (await fetch(`${stack.info.authEndpoint}/__stack/user-token?user=${user}`)).json()).idToken;
  const logins = { [stack.info.userPoolProvider]: await token('alice') };
  const a = await cognito('GetId', { IdentityPoolId: stack.info.identityPoolId, Logins: logins });
  const again = await cognito('GetId', { IdentityPoolId: stack.info.identityPoolId, Logins: { [stack.info.userPoolProvider]: await token('alice') } });
  assert.equal(a.body.IdentityId, again.body.IdentityId, 'the same user is the same identity');
  const c = await cognito('GetCredentialsForIdentity', { IdentityId: a.body.IdentityId, Logins: logins });
  assert.equal(c.status, 200, JSON.stringify(c.body));
  assert.equal((await kinesis(c.body.Credentials).send(put('general_stream', 'signed-in'))).FailedRecordCount, 0);
  assert.match(stack.sts.lookup(c.body.Credentials.AccessKeyId).principal, /kinesis-browser-producer-user/);
  const noLogins = await cognito('GetCredentialsForIdentity', { IdentityId: a.body.IdentityId });
  assert.equal(noLogins.body.__type, 'NotAuthorizedException');
  const bob = await cognito('GetCredentialsForIdentity', { IdentityId: a.body.IdentityId, Logins: { [stack.info.userPoolProvider]: await token('bob') } });
  assert.equal(bob.body.__type, 'NotAuthorizedException');
  const forged = await cognito('GetId', { IdentityPoolId: stack.info.identityPoolId, Logins: { [stack.info.userPoolProvider]: 'not.a.token' } });
  assert.equal(forged.body.__type, 'NotAuthorizedException');
});

/** An aggregated record made by aws-kinesis-agg (AWS Labs), with its outer key. */
function aggregateWith(records) {
  return new Promise((resolve, reject) => {
    const out = [];
    agg.aggregate(records, (encoded, done) => { out.push(encoded); done(); }, () => resolve(out), reject);
  });
}

test('the KCL 2.x filter drops an aggregate that mixes shards, and keeps one that does not', async () => {
  const { Shards } = { Shards: [
    { ShardId: 'shardId-000000000000', HashKeyRange: { StartingHashKey: '0', EndingHashKey: '170141183460469231731687303715884105727' } },
    { ShardId: 'shardId-000000000001', HashKeyRange: { StartingHashKey: '170141183460469231731687303715884105728', EndingHashKey: '340282366920938463463374607431768211455' } },
  ] };
  // Two keys that hash to different halves of the key space (shard 0 and shard 1 of 2).
  const run = `kcl-${Date.now()}`;
  const keys = [];
  for (let i = 0; keys.length < 2; i++) {
    const k = `${run}-${i}`;
    const half = effectiveHashKey({ partitionKey: k }) >= 2n ** 127n ? 1 : 0;
    if (!keys.some((x) => x.half === half)) keys.push({ k, half });
  }
  const mixed = keys.map(({ k }) => ({ partitionKey: k }));
  assert.equal(kclKeep(mixed, Shards[keys[0].half].HashKeyRange), false, 'a sub-record of the other shard drops the aggregate');
  assert.equal(kclKeep([{ partitionKey: keys[0].k }, { partitionKey: keys[0].k }], Shards[keys[0].half].HashKeyRange), true);
  assert.equal(kclKeep(mixed.map((r) => ({ ...r, explicitHashKey: '1' })), Shards[0].HashKeyRange), true, 'explicit hash keys decide, not partition keys');
  assert.equal(kclKeep([{ partitionKey: 'x', explicitHashKey: '170141183460469231731687303715884105727' }], Shards[0].HashKeyRange), true, 'the range end is inclusive');
  assert.equal(kclKeep([{ partitionKey: 'x', explicitHashKey: '170141183460469231731687303715884105728' }], Shards[0].HashKeyRange), false);

  // Through the stream: an aggregate of both keys made by aws-kinesis-agg, read back per shard.
  const [encoded] = await aggregateWith(keys.map(({ k }, i) => ({ partitionKey: k, data: Buffer.from(`r${i}`) })));
  const w = stack.auth.vend('write');
  await kinesis(w).send(new PutRecordsCommand({ StreamName: 'general_stream', Records: [{ Data: encoded.data, PartitionKey: encoded.partitionKey }] }));
  const back = await stack.auth.readBack('general_stream', { kcl: true });
  const ours = back.records.filter((r) => r.partitionKey.startsWith(run));
  assert.equal(ours.length, 2, 'aws-kinesis-agg unpacks both');
  assert.ok(ours.every((r) => r.kclDropped), 'KCL drops the whole aggregate: its sub-records straddle the shards');
  assert.ok(back.kcl.dropped >= 2 && back.kcl.droppedAggregates >= 1, JSON.stringify(back.kcl));
});

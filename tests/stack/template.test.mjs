// The CloudFormation template's policies (www/aws/template.json): the guest role may do the
// two write actions on the stream's ARN and nothing else, only identities of this pool may
// assume it, and the reference vending handler grants the same.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { writeSessionPolicy, vendCredentials } from '../../www/aws/vend-credentials.mjs';

const template = JSON.parse(readFileSync(new URL('../../www/aws/template.json', import.meta.url), 'utf8'));
const R = template.Resources;
const STREAM_ARN = { 'Fn::GetAtt': ['Stream', 'Arn'] };

test('the guest role: only PutRecords and PutRecord, only on the stream ARN', () => {
  const policies = R.GuestRole.Properties.Policies;
  assert.equal(policies.length, 1);
  assert.equal(R.GuestRole.Properties.ManagedPolicyArns, undefined);
  assert.deepEqual(policies[0].PolicyDocument, writeSessionPolicy(STREAM_ARN), 'the same policy the vending handler and the local stack use');
  const [statement] = policies[0].PolicyDocument.Statement;
  assert.deepEqual([...statement.Action].sort(), ['kinesis:PutRecord', 'kinesis:PutRecords']);
  assert.deepEqual(statement.Resource, STREAM_ARN);
  assert.equal(statement.Effect, 'Allow');
  // Nothing else in the template grants the guest anything.
  for (const [name, r] of Object.entries(R)) {
    if (r.Type === 'AWS::IAM::Policy' || r.Type === 'AWS::IAM::ManagedPolicy') assert.fail(`${name} attaches more policy`);
  }
});

test('the guest role is trusted only by this identity pool, for guests', () => {
  const trust = R.GuestRole.Properties.AssumeRolePolicyDocument.Statement;
  assert.equal(trust.length, 1);
  assert.deepEqual(trust[0].Principal, { Federated: 'cognito-identity.amazonaws.com' });
  assert.equal(trust[0].Action, 'sts:AssumeRoleWithWebIdentity');
  assert.deepEqual(trust[0].Condition, {
    StringEquals: { 'cognito-identity.amazonaws.com:aud': { Ref: 'IdentityPool' } },
    'ForAnyValue:StringLike': { 'cognito-identity.amazonaws.com:amr': 'unauthenticated' },
  });
  assert.deepEqual(R.IdentityPoolRoles.Properties.Roles, { unauthenticated: { 'Fn::GetAtt': ['GuestRole', 'Arn'] } });
  assert.equal(R.IdentityPool.Properties.AllowUnauthenticatedIdentities, true);
  // Guests must take the classic flow: the enhanced flow's guest credentials are scoped down
  // by AmazonCognitoUnAuthedIdentitiesSessionPolicy, which has no kinesis action.
  assert.equal(R.IdentityPool.Properties.AllowClassicFlow, true);
});

test('the stream is encrypted, the read role only reads, and the outputs are what the script tag needs', () => {
  assert.equal(R.Stream.Properties.StreamEncryption.EncryptionType, 'KMS');
  const read = R.ReadRole.Properties.Policies[0].PolicyDocument.Statement;
  assert.equal(read.length, 1);
  assert.ok(read[0].Action.every((a) => /^kinesis:(Describe|List|Get)/.test(a)), read[0].Action.join());
  assert.deepEqual(read[0].Resource, STREAM_ARN);
  for (const o of ['StreamName', 'Region', 'IdentityPoolId', 'GuestRoleArn', 'ScriptTag']) assert.ok(template.Outputs[o], o);
  assert.deepEqual(template.Outputs.GuestRoleArn.Value, { 'Fn::GetAtt': ['GuestRole', 'Arn'] });
  assert.match(template.Outputs.ScriptTag.Value['Fn::Sub'], /data-stream="\$\{Stream\}" data-region="\$\{AWS::Region\}" data-cognito-identity-pool-id="\$\{IdentityPool\}" data-cognito-guest-role-arn="\$\{GuestRole.Arn\}"/);
});

test('the reference vending handler asks STS for 15 minutes under the write session policy', async () => {
  let asked;
  const creds = await vendCredentials({
    assumeRole: async (input) => {
      asked = input;
      return { Credentials: { AccessKeyId: 'ASIAFAKEVENDING00000', SecretAccessKey: 'fake', SessionToken: 'fake-token', Expiration: new Date('2026-11-26T15:00:00Z') } };
    },
    roleArn: 'arn:aws:iam::123456789012:role/producer',
    streamArn: 'arn:aws:kinesis:us-east-1:123456789012:stream/general_stream',
    sessionName: 'browser-user@example.com',
  });
  assert.equal(asked.DurationSeconds, 900);
  assert.deepEqual(JSON.parse(asked.Policy), writeSessionPolicy('arn:aws:kinesis:us-east-1:123456789012:stream/general_stream'));
  assert.equal(asked.RoleSessionName, 'browser-user@example.com');
  assert.deepEqual(creds, { AccessKeyId: 'ASIAFAKEVENDING00000', SecretAccessKey: 'fake', SessionToken: 'fake-token', Expiration: '2026-11-26T15:00:00.000Z' });
});

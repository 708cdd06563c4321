// A small STS + IAM: issues temporary credentials under a role and an optional session
// policy, and evaluates what they may do the way AWS does for assumed roles (the role's
// policy AND the session policy must allow; an explicit Deny wins).
import { randomBytes } from 'node:crypto';
import { writeSessionPolicy } from '../../www/aws/vend-credentials.mjs';

export const ACCOUNT = '000000000000';
export const REGION = 'us-east-1';
export const STREAM = 'general_stream';

export const streamArn = (name, region = REGION) => `arn:aws:kinesis:${region}:${ACCOUNT}:stream/${name}`;

/** The article's policy (general-write-access-to-kinesis): nine actions on every stream. */
export const ARTICLE_POLICY = {
  Version: '2012-10-17',
  Statement: [{
    Effect: 'Allow',
    Action: ['kinesis:SubscribeToShard', 'kinesis:ListShards', 'kinesis:PutRecords', 'kinesis:GetShardIterator',
      'kinesis:DescribeStream', 'kinesis:DescribeStreamSummary', 'kinesis:DescribeStreamConsumer',
      'kinesis:RegisterStreamConsumer', 'kinesis:PutRecord'],
    Resource: '*',
  }],
};

/** Least privilege for a producer: the two write actions on one stream (the reference vending's policy). */
export const writePolicy = (stream = STREAM) => writeSessionPolicy(streamArn(stream));

/** What a consumer needs to read one stream back. */
export const readPolicy = (stream = STREAM) => ({
  Version: '2012-10-17',
  Statement: [{
    Effect: 'Allow',
    Action: ['kinesis:DescribeStream', 'kinesis:DescribeStreamSummary', 'kinesis:ListShards',
      'kinesis:GetShardIterator', 'kinesis:GetRecords'],
    Resource: streamArn(stream),
  }],
});

/**
 * What Cognito intersects every guest credential of the enhanced flow (GetId, then
 * GetCredentialsForIdentity) with: the AWS-managed session policy
 * `AmazonCognitoUnAuthedIdentitiesSessionPolicy` (v3, edited 2024-11-01). It lists the
 * services a guest may reach and no `kinesis:` action, so at AWS such a guest's PutRecords
 * is AccessDeniedException whatever the role allows. Source:
 * https://docs.aws.amazon.com/aws-managed-policy/latest/reference/AmazonCognitoUnAuthedIdentitiesSessionPolicy.html
 * ("Cognito Identity Service will automatically include it as a scoped down policy when
 * creating credentials ... defined by the intersection of the role ... and the privileges
 * given in this managed policy"). The geo and kms lists are abridged; none is Kinesis.
 */
export const COGNITO_UNAUTHED_SESSION_POLICY = {
  Version: '2012-10-17',
  Statement: [{
    Effect: 'Allow',
    Action: ['rum:PutRumEvents', 'sagemaker:InvokeEndpoint', 'polly:*', 'comprehend:*', 'translate:*', 'transcribe:*',
      'rekognition:*', 'mobiletargeting:*', 'firehose:*', 'personalize:*',
      'geo:GetMap*', 'geo:SearchPlaceIndex*', 'geo:GetPlace', 'geo:CalculateRoute*', 'geo:GetDevicePosition*',
      'geo:BatchGetDevicePosition', 'geo:BatchPutDevicePosition', 'geo:BatchEvaluateGeofences',
      'kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey'],
    Resource: '*',
  }],
};

/** Who may assume a role with a Cognito-issued web identity token (the template's trust policy). */
const cognitoTrust = (amr) => ({ federated: 'cognito-identity.amazonaws.com', amr });

export const ROLES = {
  // The role the app backend assumes; its policy is the article's broad one, narrowed by
  // the session policy passed to AssumeRole.
  writer: { arn: `arn:aws:iam::${ACCOUNT}:role/general-write-access-to-kinesis`, policy: ARTICLE_POLICY },
  // Consumers: read access to the account's streams, narrowed to one stream per session.
  reader: { arn: `arn:aws:iam::${ACCOUNT}:role/kinesis-stream-reader`, policy: readPolicy('*') },
  // The Cognito identity pool's guest role: least privilege in the role itself.
  // Trusted (as in www/aws/template.json) only by the identity pool's guests: aud = the pool,
  // amr = unauthenticated.
  guest: { arn: `arn:aws:iam::${ACCOUNT}:role/kinesis-browser-producer-guest`, policy: writePolicy(), trust: cognitoTrust('unauthenticated'), maxSessionSeconds: 3600 },
  // The pool's role for signed-in users (a Cognito user pool login): the same least privilege.
  user: { arn: `arn:aws:iam::${ACCOUNT}:role/kinesis-browser-producer-user`, policy: writePolicy(), trust: cognitoTrust('authenticated'), maxSessionSeconds: 3600 },
};

export const roleByArn = (arn) => Object.entries(ROLES).find(([, r]) => r.arn === arn)?.[0];

const wildcard = (pattern, value) => {
  const re = new RegExp('^' + pattern.split('*').map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*') + '$', 'i');
  return re.test(value);
};
const list = (x) => (Array.isArray(x) ? x : [x]);

/** 'Allow' | 'Deny' | null (no statement matches). */
function decide(policy, action, resource) {
  let verdict = null;
  for (const st of policy.Statement) {
    const actionHit = list(st.Action).some((a) => wildcard(a, action));
    const resourceHit = list(st.Resource).some((r) => wildcard(r, resource));
    if (actionHit && resourceHit) {
      if (st.Effect === 'Deny') return 'Deny';
      if (st.Effect === 'Allow') verdict = 'Allow';
    }
  }
  return verdict;
}

const alnum = (n) => {
  const A = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  return [...randomBytes(n)].map((b) => A[b % 32]).join('');
};

export class Sts {
  constructor({ now = () => Date.now() } = {}) {
    this.now = now;
    this.issued = new Map();
  }

  /** STS AssumeRole: temporary credentials for `role`, narrowed by `policy` if given. */
  assumeRole({ role, sessionName, policy = null, durationSeconds = 3600 }) {
    const r = ROLES[role];
    if (!r) throw new Error(`unknown role ${role}`);
    const creds = {
      AccessKeyId: 'ASIA' + alnum(16),
      SecretAccessKey: randomBytes(30).toString('base64'),
      SessionToken: randomBytes(96).toString('base64'),
      Expiration: new Date(this.now() + durationSeconds * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    };
    this.issued.set(creds.AccessKeyId, {
      ...creds,
      role: r,
      sessionPolicy: policy,
      principal: `arn:aws:sts::${ACCOUNT}:assumed-role/${r.arn.split('/').pop()}/${sessionName}`,
    });
    return creds;
  }

  /** Every credential issued so far expires now (fault injection). */
  expireAll() {
    const past = new Date(this.now() - 1000).toISOString();
    for (const c of this.issued.values()) c.Expiration = past;
  }

  lookup(accessKeyId) {
    return this.issued.get(accessKeyId);
  }

  /** null if allowed, else the AccessDenied message AWS would give. */
  authorize(session, action, resource) {
    const byRole = decide(session.role.policy, action, resource);
    const bySession = session.sessionPolicy ? decide(session.sessionPolicy, action, resource) : 'Allow';
    if (byRole === 'Allow' && bySession === 'Allow') return null;
    const why = byRole === 'Deny' || bySession === 'Deny'
      ? 'with an explicit deny'
      : byRole !== 'Allow'
        ? 'because no identity-based policy allows the ' + action + ' action'
        : 'because no session policy allows the ' + action + ' action';
    return `User: ${session.principal} is not authorized to perform: ${action} on resource: ${resource} ${why}`;
  }
}

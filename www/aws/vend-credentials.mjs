// Reference credential vending for apps with their own sign-in: the backend endpoint behind
// `data-credentials-url` / `credentials: { url }`. It assumes a role with STS AssumeRole and
// a session policy that narrows it to the two write actions on one stream, for 15 minutes,
// and answers the STS `Credentials` shape the producer reads. The local stack vends with the
// same policy (tests/stack/iam.mjs imports `writeSessionPolicy` from here).
//
// Before vending, the app must: check its own user session (cookie or token) — never vend
// to anyone who asks; rate-limit per user; answer with `Cache-Control: no-store`; serve it
// same-origin (or CORS for your origins only); never log the answer.

/** Least privilege for a producer: kinesis:PutRecords and kinesis:PutRecord on one stream. */
export function writeSessionPolicy(streamArn) {
  return {
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Action: ['kinesis:PutRecords', 'kinesis:PutRecord'], Resource: streamArn }],
  };
}

/**
 * Temporary credentials for one browser.
 * @param {object} o
 * @param {(input: object) => Promise<{Credentials: object}>} o.assumeRole STS AssumeRole, e.g.
 *   `(input) => sts.send(new AssumeRoleCommand(input))` with `@aws-sdk/client-sts`
 * @param {string} o.roleArn a role the backend may assume (its own policy may be broader)
 * @param {string} o.streamArn the stream to write to
 * @param {string} o.sessionName shows in CloudTrail: name the user, e.g. `browser-<user id>`
 */
export async function vendCredentials({ assumeRole, roleArn, streamArn, sessionName, durationSeconds = 900 }) {
  const out = await assumeRole({
    RoleArn: roleArn,
    RoleSessionName: sessionName.replace(/[^\w+=,.@-]/g, '-').slice(0, 64),
    Policy: JSON.stringify(writeSessionPolicy(streamArn)),
    DurationSeconds: durationSeconds,
  });
  const c = out.Credentials;
  return {
    AccessKeyId: c.AccessKeyId,
    SecretAccessKey: c.SecretAccessKey,
    SessionToken: c.SessionToken,
    Expiration: new Date(c.Expiration).toISOString(),
  };
}

// Example: an AWS Lambda function URL behind your app's sign-in.
//
//   import { STSClient, AssumeRoleCommand } from '@aws-sdk/client-sts';
//   import { vendCredentials } from './vend-credentials.mjs';
//   const sts = new STSClient({});
//   export const handler = async (event) => {
//     const user = await yourSession(event.headers.cookie);          // 1. who is asking?
//     if (!user) return { statusCode: 401, body: '' };
//     const credentials = await vendCredentials({
//       assumeRole: (input) => sts.send(new AssumeRoleCommand(input)),
//       roleArn: process.env.PRODUCER_ROLE_ARN,
//       streamArn: process.env.STREAM_ARN,
//       sessionName: `browser-${user.id}`,
//     });
//     return { statusCode: 200, headers: { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' },
//              body: JSON.stringify(credentials) };
//   };

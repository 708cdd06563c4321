// What a developer writes today on the AWS SDK for JavaScript v3: Cognito guest credentials,
// hand batching every second (or at 500), PutRecords.
import { KinesisClient, PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { fromCognitoIdentityPool } from '@aws-sdk/credential-provider-cognito-identity';
import { CognitoIdentityClient } from '@aws-sdk/client-cognito-identity';
import { captureMouse } from './common.js';

export function start({ region, streamName, identityPoolId }) {
  const client = new KinesisClient({
    region,
    credentials: fromCognitoIdentityPool({ client: new CognitoIdentityClient({ region }), identityPoolId }),
  });
  const enc = new TextEncoder();
  let buffer = [];
  let sending = Promise.resolve();
  const flush = () => {
    const batch = buffer.splice(0, 500);
    if (batch.length === 0) return sending;
    sending = sending.then(() => client.send(new PutRecordsCommand({ StreamName: streamName, Records: batch })).catch(() => {}));
    return buffer.length ? flush() : sending;
  };
  const record = (obj, sid) => {
    buffer.push({ Data: enc.encode(JSON.stringify(obj)), PartitionKey: sid });
    if (buffer.length >= 500) flush();
  };
  const sid = captureMouse(record);
  setInterval(flush, 1000);
  return { record: (obj) => record(obj, sid), flush };
}

// aws4fetch (WebCrypto SigV4 + fetch) with hand batching: the smallest signer there is.
import { AwsClient } from 'aws4fetch';
import { captureMouse } from './common.js';

export function start({ region, streamName, credentialsUrl, endpoint }) {
  let aws = null;
  const creds = fetch(credentialsUrl).then((r) => r.json()).then((c) => {
    aws = new AwsClient({ accessKeyId: c.AccessKeyId, secretAccessKey: c.SecretAccessKey, sessionToken: c.SessionToken, service: 'kinesis', region });
  });
  const enc = new TextEncoder();
  const b64 = (s) => { let bin = ''; for (const b of enc.encode(s)) bin += String.fromCharCode(b); return btoa(bin); };
  let buffer = [];
  let sending = Promise.resolve();
  const flush = () => {
    const batch = buffer.splice(0, 500);
    if (batch.length === 0) return sending;
    sending = sending.then(() => creds).then(() => aws.fetch(`${endpoint}/`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-amz-json-1.1', 'X-Amz-Target': 'Kinesis_20131202.PutRecords' },
      body: JSON.stringify({ StreamName: streamName, Records: batch }),
    })).then((r) => r.text()).catch(() => {});
    return buffer.length ? flush() : sending;
  };
  const record = (obj, sid) => {
    buffer.push({ Data: b64(JSON.stringify(obj)), PartitionKey: sid });
    if (buffer.length >= 500) flush();
  };
  const sid = captureMouse(record);
  setInterval(flush, 1000);
  return { record: (obj) => record(obj, sid), flush };
}

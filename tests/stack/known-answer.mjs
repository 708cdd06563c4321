// Computes the PutRecords known-answer signature with the AWS SDK for JavaScript's signer
// (@smithy/signature-v4), independent of our Rust code. `node known-answer.mjs --write`
// stores it in tests/fixtures/put-records-known-answer.json, which the Rust test
// `signing::tests::put_records_known_answer` checks aws-sigv4 against; the node test
// known-answer.test.mjs recomputes it so the fixture cannot drift.
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { SignatureV4 } from '@smithy/signature-v4';
import { Sha256 } from '@aws-crypto/sha256-js';

export const FIXTURE = fileURLToPath(new URL('../fixtures/put-records-known-answer.json', import.meta.url));

export async function computeAuthorization(f) {
  const url = new URL(f.url);
  const signer = new SignatureV4({
    credentials: { accessKeyId: f.accessKeyId, secretAccessKey: f.secretAccessKey, sessionToken: f.sessionToken },
    region: f.region,
    service: 'kinesis',
    sha256: Sha256,
    applyChecksum: false,
  });
  const signed = await signer.sign({
    method: 'POST', protocol: url.protocol, hostname: url.hostname, path: url.pathname, query: {},
    headers: { host: url.host, 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'Kinesis_20131202.PutRecords' },
    body: f.body,
  }, { signingDate: new Date(f.date) });
  return signed.headers.authorization;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const f = JSON.parse(readFileSync(FIXTURE, 'utf8'));
  const authorization = await computeAuthorization(f);
  console.log(authorization);
  if (process.argv.includes('--write')) {
    writeFileSync(FIXTURE, JSON.stringify({ ...f, authorization }, null, 2) + '\n');
  }
}

// The AWS SDK's signer alone, with the SHA-256 the SDK's clients use (@smithy/core/checksum), for signing throughput.
import { SignatureV4 } from '@smithy/signature-v4';
import { Sha256 } from '@smithy/core/checksum';

/** Signing throughput of the SDK's signer, for comparison with ours. */
export async function benchSign(iterations, bodyBytes) {
  const signer = new SignatureV4({
    credentials: { accessKeyId: 'ASIAFAKEBENCHMARK000', secretAccessKey: 'fake-secret-for-the-benchmark', sessionToken: 'fake-token' },
    region: 'us-east-1', service: 'kinesis', sha256: Sha256,
  });
  const body = 'x'.repeat(bodyBytes);
  const t0 = performance.now();
  for (let i = 0; i < iterations; i++) {
    await signer.sign({
      method: 'POST', protocol: 'https:', hostname: 'kinesis.us-east-1.amazonaws.com', path: '/', query: {},
      headers: { host: 'kinesis.us-east-1.amazonaws.com', 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'Kinesis_20131202.PutRecords' },
      body,
    }, { signingDate: new Date(1795704302000 + i) });
  }
  return performance.now() - t0;
}

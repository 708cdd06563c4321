// Type-checked by tsc against the packed package's declarations (tests/bundlers):
// `Required<...>` makes every documented key mandatory here, so a key the types lack (or
// this file misses) fails the check, and so does a stat.
import { ready, Producer } from 'kinesis-browser-producer';
import type { CredentialsConfig, ProducerConfig, ProducerStats, DropReport, RecordOptions, PutRecordsResult } from 'kinesis-browser-producer';

const credentials: Required<CredentialsConfig> = {
  url: '/kinesis-credentials',
  cognitoIdentityPoolId: 'us-east-1:00000000-0000-4000-8000-000000000000',
  cognitoGuestRoleArn: 'arn:aws:iam::123456789012:role/guest',
  logins: async () => ({ 'cognito-idp.us-east-1.amazonaws.com/us-east-1_Abc': 'id-token' }),
  cognitoEndpoint: 'https://cognito-identity.us-east-1.amazonaws.com',
  stsEndpoint: 'https://sts.us-east-1.amazonaws.com',
  provider: async () => ({ accessKeyId: 'ASIA', secretAccessKey: 's', sessionToken: 't', expiration: new Date() }),
};

const config: Required<ProducerConfig> = {
  streamName: 'general_stream',
  streamArn: 'arn:aws:kinesis:us-east-1:123456789012:stream/general_stream',
  region: 'us-east-1',
  endpoint: 'https://kinesis.us-east-1.amazonaws.com',
  requestTimeoutMs: 6000,
  flushIntervalMs: 1000,
  maxBatchRecords: 500,
  maxBatchBytes: 1048576,
  maxRecordBytes: 1048576,
  maxBufferedRecords: 10000,
  maxBufferedBytes: 5242880,
  mousemoveMaxPerSecond: 30,
  recordTtlMs: 60000,
  aggregation: true,
  aggregationMaxBytes: 51200,
  rejectedRecords: 'drop',
  adaptiveRate: true,
  persistMaxBytes: 1048576,
  partitionKey: 'session',
  capture: ['mousemove', 'click'],
  target: '#app',
  onStats: (s: ProducerStats) => void s.recordsPut,
  onError: (e) => void e.code,
  onDrop: (d: DropReport) => void d.reason,
  credentials,
};

export async function main(): Promise<void> {
  await ready;
  const producer = Producer.start(config);
  const options: Required<RecordOptions> = { partitionKey: 'cart-77', explicitHashKey: '1' };
  const seq: number = producer.record({ action: 'checkout' }, options);
  const s: ProducerStats = await producer.flush();
  const every: Record<keyof ProducerStats, unknown> = {
    recordsReceived: s.recordsReceived, recordsPending: s.recordsPending, recordsPut: s.recordsPut,
    kinesisRecordsPut: s.kinesisRecordsPut, putRecordsRequests: s.putRecordsRequests,
    errorsByCode: s.errorsByCode, retries: s.retries, dropsByReason: s.dropsByReason,
    recordsDropped: s.recordsDropped, mousemoveCoalesced: s.mousemoveCoalesced,
    recordsRestored: s.recordsRestored, storageWriteFailures: s.storageWriteFailures,
    storageEntriesCorrupt: s.storageEntriesCorrupt,
    requestLatencyMs: s.requestLatencyMs.p99, bufferingTimeMs: s.bufferingTimeMs.p50,
  };
  const out: PutRecordsResult = await producer.putRecords([{ data: 'x', partitionKey: 'k', explicitHashKey: '2' }]);
  const id: string = producer.sessionId + producer.streamName;
  const closed: ProducerStats = await producer.close();
  void [seq, every, out, id, closed, producer.stats().recordsDropped];
  void window.kinesisBrowserProducer?.sessionId;
}

// The null sink of the benchmark: answers PutRecords (every record put), the Cognito guest
// flow and credential vending, verifies nothing, and counts what arrives. Serves the bench
// pages and bundles too, so everything is one origin... except the sink's API, on its own
// port like a real endpoint (cross-origin, preflighted).
import http from 'node:http';
import { randomUUID } from 'node:crypto';
import { deaggregate } from '../stack/auth.mjs';

export class Sink {
  constructor() {
    this.reset();
  }

  reset() {
    this.stats = { requests: 0, records: 0, userRecords: 0, bodyBytes: 0, putPayloadUnits: 0, firstRecordAt: null, lastRecordAt: null };
  }

  listen(port = 0) {
    this.server = http.createServer((req, res) => this.handle(req, res));
    return new Promise((resolve) => this.server.listen(port, '127.0.0.1', () => resolve(this.server.address().port)));
  }

  close() {
    this.server?.closeAllConnections?.();
    return new Promise((r) => this.server.close(r));
  }

  handle(req, res) {
    res.setHeader('Access-Control-Allow-Origin', req.headers.origin || '*');
    res.setHeader('Access-Control-Allow-Headers', req.headers['access-control-request-headers'] || '*');
    res.setHeader('Access-Control-Allow-Methods', 'GET, POST, OPTIONS');
    res.setHeader('Access-Control-Max-Age', '600');
    if (req.method === 'OPTIONS') return res.writeHead(200).end();
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const json = (status, obj) => {
        res.writeHead(status, { 'Content-Type': 'application/x-amz-json-1.1' });
        res.end(JSON.stringify(obj));
      };
      if (req.method === 'GET' && req.url.startsWith('/credentials')) {
        return json(200, { AccessKeyId: 'ASIAFAKESINK00000000', SecretAccessKey: 'fake-sink-secret', SessionToken: 'fake-sink-token', Expiration: new Date(Date.now() + 3600e3).toISOString() });
      }
      const target = req.headers['x-amz-target'] || '';
      let input = {};
      try { input = JSON.parse(body.toString('utf8') || '{}'); } catch { /* counted as is */ }
      if (target === 'AWSCognitoIdentityService.GetId') return json(200, { IdentityId: `us-east-1:${randomUUID()}` });
      if (target === 'AWSCognitoIdentityService.GetCredentialsForIdentity') {
        return json(200, { IdentityId: input.IdentityId, Credentials: { AccessKeyId: 'ASIAFAKESINK00000000', SecretKey: 'fake-sink-secret', SessionToken: 'fake-sink-token', Expiration: Date.now() / 1000 + 3600 } });
      }
      if (target === 'Kinesis_20131202.PutRecords' || target === 'Kinesis_20131202.PutRecord') {
        const records = target.endsWith('PutRecords') ? input.Records || [] : [input];
        const now = Date.now();
        const s = this.stats;
        s.requests++;
        s.records += records.length;
        s.bodyBytes += body.length;
        for (const r of records) {
          const size = Buffer.from(String(r.Data || ''), 'base64').length + Buffer.byteLength(String(r.PartitionKey || ''));
          s.putPayloadUnits += Math.max(1, Math.ceil(size / 25600));
          try {
            s.userRecords += deaggregate({ data: String(r.Data || ''), partitionKey: r.PartitionKey, sequenceNumber: '1' }).length;
          } catch {
            s.userRecords += 1;
          }
        }
        s.firstRecordAt ??= now;
        s.lastRecordAt = now;
        if (target.endsWith('PutRecord')) return json(200, { SequenceNumber: '1', ShardId: 'shardId-000000000000' });
        return json(200, { FailedRecordCount: 0, Records: records.map((_, i) => ({ SequenceNumber: String(i), ShardId: 'shardId-000000000000' })) });
      }
      return json(400, { __type: 'UnknownOperationException', message: target });
    });
  }
}

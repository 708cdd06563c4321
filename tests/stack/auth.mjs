// What sits beside Kinesis in a real deployment, on one local port:
//  - GET /credentials?scope=write|read: an app backend's credential vending, as it would
//    do with STS AssumeRole and a session policy (write: kinesis:PutRecords and
//    kinesis:PutRecord on general_stream only; read: what a consumer needs on it);
//  - POST / with X-Amz-Target AWSCognitoIdentityService.*: Cognito identity pools (GetId,
//    GetOpenIdToken, GetCredentialsForIdentity), unsigned, as strict as AWS (cognito.mjs);
//  - POST / form-encoded (Action=AssumeRoleWithWebIdentity): STS for the classic flow;
//  - GET /__stack/user-token?user=...: an ID token of the local Cognito user pool, as a
//    signed-in app would hold, for the Logins of the enhanced flow;
//  - /__stack/*: read-back of the stream with the AWS SDK for JavaScript (a real client,
//    signed and checked by the front door) and the front door's request log, for tests;
//  - /__test/vend?mode=...: deliberately broken vending answers, for tests.
import http from 'node:http';
import { randomUUID } from 'node:crypto';
import { KinesisClient, ListShardsCommand, GetShardIteratorCommand, GetRecordsCommand } from '@aws-sdk/client-kinesis';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import agg from 'aws-kinesis-agg';
import { REGION, STREAM, writePolicy, readPolicy } from './iam.mjs';
import { preflight, sendJson, readBody, cors } from './frontdoor.mjs';
import { Cognito, AwsFault, stsErrorXml, IDENTITY_POOL_ID } from './cognito.mjs';
import { kclKeep } from './kcl.mjs';

export { IDENTITY_POOL_ID };

/**
 * The user records inside one Kinesis record ({data: base64, partitionKey, sequenceNumber}),
 * by AWS Labs' aws-kinesis-agg with its MD5 check on; a plain record comes back as itself.
 */
export function deaggregate(record) {
  let out;
  agg.deaggregateSync(record, true, (err, users) => {
    if (err) throw err;
    out = users;
  });
  return out.map((u, i) => ({
    partitionKey: u.partitionKey,
    ...(u.explicitPartitionKey !== undefined && u.explicitPartitionKey !== null ? { explicitHashKey: String(u.explicitPartitionKey) } : {}),
    data: u.data,
    subSequenceNumber: u.subSequenceNumber ?? i,
  }));
}

const MAGIC = 'f3899ac2';

function json(req, res, status, obj) {
  cors(req, res);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' });
  res.end(JSON.stringify(obj));
}

export class AuthServer {
  constructor({ sts, frontDoor, kinesisEndpoint, streams = [STREAM] }) {
    this.sts = sts;
    this.frontDoor = frontDoor;
    this.kinesisEndpoint = kinesisEndpoint;
    this.streams = streams;
    this.cognito = new Cognito({ sts, now: sts.now });
    this.counters = { vended: 0 };
  }

  listen(port, host = '127.0.0.1') {
    this.server = http.createServer((req, res) => this.handle(req, res).catch((e) => {
      json(req, res, 500, { error: String(e && e.message) });
    }));
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => resolve(this.server.address().port));
    });
  }

  /** The vending logic an app backend runs (after checking its own user's session). */
  vend(scope, ttlSeconds = 900, stream = STREAM) {
    this.counters.vended++;
    const sessionName = `browser-${randomUUID().slice(0, 8)}`;
    if (scope === 'read') return this.sts.assumeRole({ role: 'reader', sessionName, policy: readPolicy(stream), durationSeconds: ttlSeconds });
    return this.sts.assumeRole({ role: 'writer', sessionName, policy: writePolicy(stream), durationSeconds: ttlSeconds });
  }

  async handle(req, res) {
    if (preflight(req, res)) return;
    const url = new URL(req.url, 'http://localhost');
    if (req.method === 'GET' && url.pathname === '/credentials') {
      const scope = url.searchParams.get('scope') || 'write';
      if (!['write', 'read'].includes(scope)) return json(req, res, 400, { error: 'scope must be write or read' });
      // STS allows 900 s to 12 h; shorter lives are allowed here so tests can watch expiry.
      const ttl = Math.min(43200, Math.max(1, Number(url.searchParams.get('ttl')) || 900));
      // Write scope for one of the stack's streams (general_stream unless asked).
      const stream = url.searchParams.get('stream') || STREAM;
      if (scope === 'write' && !this.streams.includes(stream)) return json(req, res, 400, { error: `no stream ${stream}` });
      return json(req, res, 200, this.vend(scope, ttl, stream));
    }
    if (req.method === 'GET' && url.pathname === '/__stack/user-token') {
      const ttl = Math.min(86400, Math.max(1, Number(url.searchParams.get('ttl')) || 3600));
      return json(req, res, 200, { idToken: this.cognito.userIdToken(url.searchParams.get('user') || 'alice', ttl) });
    }
    if (req.method === 'GET' && url.pathname === '/__test/vend') return this.brokenVend(req, res, url.searchParams.get('mode'));
    if (req.method === 'GET' && url.pathname === '/__test/slow') {
      // Answers good credentials only after `ms` milliseconds (at most 30 s), for timeout tests.
      await new Promise((r) => setTimeout(r, Math.min(30000, Number(url.searchParams.get('ms')) || 0)));
      return json(req, res, 200, this.vend('write'));
    }
    if (req.method === 'GET' && url.pathname === '/__stack/readback') {
      return json(req, res, 200, await this.readBack(url.searchParams.get('stream') || STREAM, { raw: url.searchParams.has('raw'), kcl: url.searchParams.has('kcl') }));
    }
    if (url.pathname === '/__stack/faults') {
      if (req.method === 'POST') this.frontDoor.setFaults(JSON.parse((await readBody(req, 65536)).toString('utf8') || '{}'));
      return json(req, res, 200, { faults: this.frontDoor.faults, injected: this.frontDoor.counters.faults });
    }
    if (req.method === 'POST' && url.pathname === '/__stack/deaggregate') {
      const record = JSON.parse((await readBody(req, 12 * 1024 * 1024)).toString('utf8'));
      try {
        return json(req, res, 200, { records: deaggregate(record) });
      } catch (e) {
        return json(req, res, 400, { error: String(e && e.message) });
      }
    }
    if (req.method === 'GET' && url.pathname === '/__stack/requests') {
      const akid = url.searchParams.get('accessKeyId');
      const key = url.searchParams.get('partitionKey');
      const log = akid
        ? this.frontDoor.log.filter((e) => e.accessKeyId === akid)
        : key
          ? this.frontDoor.log.filter((e) => e.partitionKeys && e.partitionKeys.includes(key))
          : this.frontDoor.log.slice(-1000);
      return json(req, res, 200, { counters: this.frontDoor.counters, auth: { ...this.counters, cognito: this.cognito.counters }, log });
    }
    if (req.method === 'POST' && url.pathname === '/') return this.awsAuth(req, res);
    return json(req, res, 404, { error: `no route ${req.method} ${url.pathname}` });
  }

  brokenVend(req, res, mode) {
    const good = this.vend('write');
    const answers = {
      'not-json': () => { cors(req, res); res.writeHead(200, { 'Content-Type': 'text/html' }).end('<html>login required</html>'); },
      'missing-fields': () => json(req, res, 200, { AccessKeyId: good.AccessKeyId, Expiration: good.Expiration }),
      'missing-token': () => json(req, res, 200, { ...good, SessionToken: undefined }),
      'missing-expiration': () => json(req, res, 200, { ...good, Expiration: undefined }),
      'long-lived': () => json(req, res, 200, { AccessKeyId: 'AKIAFAKELONGLIVED000', SecretAccessKey: 'fake-long-lived-secret' }),
      expired: () => json(req, res, 200, { ...good, Expiration: new Date(Date.now() - 60000).toISOString() }),
      'http-403': () => json(req, res, 403, { error: 'not signed in' }),
    };
    const answer = answers[mode];
    if (!answer) return json(req, res, 400, { error: `mode must be one of ${Object.keys(answers).join(', ')}` });
    return answer();
  }

  /** Cognito Identity (JSON, X-Amz-Target) or STS (form-encoded), both unsigned. */
  async awsAuth(req, res) {
    const target = req.headers['x-amz-target'] || '';
    const body = (await readBody(req, 65536)).toString('utf8');
    if (!target && /^application\/x-www-form-urlencoded/.test(req.headers['content-type'] || '')) {
      try {
        const xml = this.cognito.assumeRoleWithWebIdentity(new URLSearchParams(body));
        cors(req, res);
        return res.writeHead(200, { 'Content-Type': 'text/xml' }).end(xml);
      } catch (e) {
        if (!(e instanceof AwsFault)) throw e;
        cors(req, res);
        return res.writeHead(e.status, { 'Content-Type': 'text/xml' }).end(stsErrorXml(e));
      }
    }
    let input;
    try {
      input = JSON.parse(body);
    } catch {
      return sendJson(req, res, 400, { __type: 'SerializationException', message: 'body is not JSON' });
    }
    const [service, operation] = target.split('.');
    if (service !== 'AWSCognitoIdentityService') {
      return sendJson(req, res, 400, { __type: 'UnknownOperationException', message: `unknown operation ${target}` });
    }
    try {
      return sendJson(req, res, 200, this.cognito.call(operation, input));
    } catch (e) {
      if (!(e instanceof AwsFault)) throw e;
      return sendJson(req, res, e.status, { __type: e.type, message: e.message });
    }
  }

  /** Every record in the stream, read through the front door by the AWS SDK with read-scoped credentials. */
  async readBack(stream, { raw = false, kcl = false } = {}) {
    const c = this.vend('read', 900, stream);
    const client = new KinesisClient({
      region: REGION,
      endpoint: this.kinesisEndpoint,
      // The SDK defaults to HTTP/2 for Kinesis; the front door, like a browser's fetch here, speaks HTTP/1.1.
      requestHandler: new NodeHttpHandler(),
      credentials: { accessKeyId: c.AccessKeyId, secretAccessKey: c.SecretAccessKey, sessionToken: c.SessionToken },
    });
    try {
      const shards = (await client.send(new ListShardsCommand({ StreamName: stream }))).Shards;
      const records = [];
      const rawRecords = [];
      let kinesisRecords = 0;
      // What a KCL 2.x consumer would hand on (kcl.mjs): per shard, sub-records of
      // aggregates that stray outside the shard's hash range are dropped with their aggregate.
      const kclCounts = { kept: 0, dropped: 0, droppedAggregates: 0, byShard: {} };
      for (const shard of shards) {
        let it = (await client.send(new GetShardIteratorCommand({ StreamName: stream, ShardId: shard.ShardId, ShardIteratorType: 'TRIM_HORIZON' }))).ShardIterator;
        for (let page = 0; it && page < 10000; page++) {
          const out = await client.send(new GetRecordsCommand({ ShardIterator: it, Limit: 10000 }));
          for (const r of out.Records) {
            const data = Buffer.from(r.Data);
            const aggregated = data.subarray(0, 4).toString('hex') === MAGIC;
            kinesisRecords++;
            const users = deaggregate({ data: data.toString('base64'), partitionKey: r.PartitionKey, sequenceNumber: r.SequenceNumber });
            const kept = !aggregated || kclKeep(users, shard.HashKeyRange);
            const perShard = (kclCounts.byShard[shard.ShardId] ??= { range: shard.HashKeyRange, kept: 0, dropped: 0 });
            perShard[kept ? 'kept' : 'dropped'] += users.length;
            kclCounts[kept ? 'kept' : 'dropped'] += users.length;
            if (!kept) kclCounts.droppedAggregates++;
            if (raw) rawRecords.push({ shardId: shard.ShardId, sequenceNumber: r.SequenceNumber, partitionKey: r.PartitionKey, data: data.toString('base64'), aggregated });
            // De-aggregated by aws-kinesis-agg (AWS Labs), not by our code; MD5 checked.
            for (const u of users) {
              records.push({
                shardId: shard.ShardId,
                sequenceNumber: r.SequenceNumber,
                subSequenceNumber: u.subSequenceNumber,
                partitionKey: u.partitionKey,
                ...(u.explicitHashKey !== undefined ? { explicitHashKey: u.explicitHashKey } : {}),
                ...(kcl ? { kclDropped: !kept } : {}),
                data: u.data,
                aggregated,
                arrival: r.ApproximateArrivalTimestamp?.getTime(),
              });
            }
          }
          if (out.Records.length === 0 || out.MillisBehindLatest === 0) break;
          it = out.NextShardIterator;
        }
      }
      return { stream, shards: shards.length, kinesisRecords, count: records.length, records, ...(raw ? { raw: rawRecords } : {}), ...(kcl ? { kcl: kclCounts } : {}) };
    } finally {
      client.destroy();
    }
  }
}

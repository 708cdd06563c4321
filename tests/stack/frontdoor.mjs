// The front door: what the browser talks to instead of kinesis.<region>.amazonaws.com.
// It behaves as AWS does before a request reaches the stream: it verifies every SigV4
// signature with the AWS SDK for JavaScript's own signer (@smithy/signature-v4, not our
// Rust code), enforces credential expiry, +-5 min clock skew and the policy the credentials
// were issued under, answers CORS preflights, and returns Kinesis-shaped JSON errors. Only
// then does it forward the request to the emulator (kinesalite) that stores the stream.
import http from 'node:http';
import { createHash, timingSafeEqual } from 'node:crypto';
import { SignatureV4 } from '@smithy/signature-v4';
import { Sha256 } from '@aws-crypto/sha256-js';
import { ACCOUNT, REGION, streamArn } from './iam.mjs';

export const MAX_SKEW_MS = 5 * 60 * 1000;
/** A 10 MiB payload, base64-encoded in JSON, with room for keys and field names. */
const MAX_BODY = 15 * 1024 * 1024;
/**
 * PutRecords limits, from the Kinesis API reference (API_PutRecords, 2025): "Each PutRecords
 * request can support up to 500 records. Each record in the request can be as large as
 * 10 MiB, up to a limit of 10 MiB for the entire request, including partition keys", and
 * PutRecordsRequestEntry: data "added to the partition key size ... must not exceed the
 * maximum record size", which is 1 MiB unless the stream opted in to more
 * (UpdateMaxRecordSize). The error texts are modelled, not copied from AWS.
 */
export const MAX_REQUEST_PAYLOAD = 10 * 1024 * 1024;
export const MAX_RECORD_SIZE = 1024 * 1024;
/** kinesalite refuses request bodies over 7 MiB (its MAX_REQUEST_BYTES): bigger ones are split. */
const STORE_MAX_BODY = 6 * 1024 * 1024;
/**
 * What Kinesis lets pages read of its answers: a public probe of kinesis.us-east-1 (Feb 2021,
 * AllanZhengYP/cors-test output.md) saw `Access-Control-Expose-Headers:
 * x-amzn-RequestId,x-amzn-ErrorType,x-amz-request-id,x-amz-id-2,x-amzn-ErrorMessage,Date`.
 * So the Date path of clock-skew learning is the one pages take; the `hideDate` fault
 * removes Date to keep the error-message path tested.
 */
const EXPOSE = 'x-amzn-RequestId, x-amzn-ErrorType, x-amz-request-id, x-amz-id-2, x-amzn-ErrorMessage, Date';
const EXPOSE_NO_DATE = EXPOSE.replace(', Date', '');
const ALLOWED_HEADERS = /^(authorization|content-type|x-amz-[a-z0-9-]+|amz-sdk-[a-z0-9-]+)$/;

const amzDate = (ms) => new Date(ms).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
function parseAmzDate(s) {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(s || '');
  return m ? Date.UTC(+m[1], m[2] - 1, +m[3], +m[4], +m[5], +m[6]) : NaN;
}

export class AwsError extends Error {
  constructor(status, type, message) {
    super(message);
    this.status = status;
    this.type = type;
  }
}

export function cors(req, res, { exposeDate = true } = {}) {
  res.setHeader('Access-Control-Allow-Origin', req.headers.origin || '*');
  res.setHeader('Vary', 'Origin');
  res.setHeader('Access-Control-Expose-Headers', exposeDate ? EXPOSE : EXPOSE_NO_DATE);
}

/** Answers a CORS preflight if this is one; true when answered. */
export function preflight(req, res) {
  if (req.method !== 'OPTIONS') return false;
  const asked = (req.headers['access-control-request-headers'] || '').split(',').map((h) => h.trim().toLowerCase()).filter(Boolean);
  const refused = asked.filter((h) => !ALLOWED_HEADERS.test(h));
  cors(req, res);
  if (refused.length === 0) {
    res.setHeader('Access-Control-Allow-Methods', 'POST, GET, OPTIONS');
    res.setHeader('Access-Control-Allow-Headers', asked.join(', ') || 'authorization, content-type, x-amz-date, x-amz-security-token, x-amz-target');
    res.setHeader('Access-Control-Max-Age', '600');
  }
  res.writeHead(200).end();
  return true;
}

export function sendJson(req, res, status, obj, headers = {}, corsOptions = {}) {
  cors(req, res, corsOptions);
  res.writeHead(status, { 'Content-Type': 'application/x-amz-json-1.1', 'x-amzn-RequestId': crypto.randomUUID(), ...headers });
  res.end(JSON.stringify(obj));
}

export function readBody(req, limit = MAX_BODY) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    req.on('data', (c) => {
      size += c.length;
      if (size > limit) {
        reject(new AwsError(413, 'SerializationException', `Request body over ${limit} bytes`));
        req.destroy();
      } else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** A seeded PRNG (mulberry32), so a run's fault draws are the same every time. */
function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const safeEqual = (a, b) => a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));

export class FrontDoor {
  /**
   * @param {object} o
   * @param {import('./iam.mjs').Sts} o.sts issued credentials and their policies
   * @param {string} o.storeUrl the emulator behind the door
   * @param {() => number} [o.now] the server's clock
   */
  constructor({ sts, storeUrl, now = () => Date.now(), region = REGION }) {
    this.sts = sts;
    this.storeUrl = storeUrl;
    this.clock = now;
    this.now = () => this.clock() + (this.faults.clockOffsetMs || 0);
    this.faults = {};
    this.reseed(1);
    this.putCount = 0;
    this.region = region;
    this.iterators = new Map();
    this.log = [];
    this.counters = { requests: 0, preflights: 0, unsigned: 0, accepted: 0, byCode: {}, faults: {} };
  }

  /**
   * Faults for PutRecords, switchable at run time (POST /__stack/faults on the auth port):
   *   throttleEvery: N        every Nth PutRecords answers ProvisionedThroughputExceededException
   *   partialFailureRate: p   that share of records fails inside a 200 (throttled or InternalFailure)
   *   serverErrorRate: p      that share of requests answers 500 InternalFailure
   *   latencyMs: n            added before answering
   *   dropConnectionRate: p   that share of connections is cut (half before storing, half after)
   *   clockOffsetMs: n        the server's clock is off by n (signatures checked against it)
   *   downForMs: n            the endpoint refuses every PutRecords connection for n ms
   *   failWith: {code, status, message}  every PutRecords fails so (non-retryable errors)
   *   expireCredentials: true all credentials issued so far expire now (one-shot)
   *   hideDate: true          answers do not expose Date to pages (Access-Control-Expose-Headers)
   *   tamperHeader: name      that signed header is changed on the way in (InvalidSignatureException)
   *   messageClockOffsetMs: n the time in "Signature expired" messages is off by n from Date
   *   seed: n                 the draws behind the rates start again from seed n (when it
   *                           changes): one stream per fault kind, drawn once per request
   *                           (per record for partial failures), so which requests are hit
   *                           does not depend on how many records each carried
   */
  setFaults(faults) {
    const f = { ...faults };
    if (f.seed !== undefined && f.seed !== this.seed) this.reseed(f.seed);
    if (f.downForMs) f.downUntil = Date.now() + f.downForMs;
    if (f.expireCredentials) {
      this.sts.expireAll();
      delete f.expireCredentials;
    }
    this.faults = f;
  }

  reseed(seed) {
    this.seed = seed;
    const [drop, server, partial, partialKind] = [1, 2, 3, 4].map((k) => mulberry32(seed * 4 + k));
    this.draw = { drop, server, partial, partialKind };
    // Dropped connections alternate before and after the store; the turn passes only when
    // a drop is made, so an "after" drop pre-empted by another answer (a throttle, a 500)
    // stays due (a coin per drop left a run of 126 requests with none before, 2%).
    this.nextDrop = 'before';
  }

  fault(kind) {
    this.counters.faults[kind] = (this.counters.faults[kind] || 0) + 1;
  }

  record(entry) {
    this.log.push({ at: Date.now(), ...entry });
    if (this.log.length > 20000) this.log.splice(0, this.log.length - 20000);
    const key = entry.code || 'OK';
    this.counters.byCode[key] = (this.counters.byCode[key] || 0) + 1;
  }

  listen(port, host = '127.0.0.1') {
    this.server = http.createServer((req, res) => this.handle(req, res).catch((e) => {
      sendJson(req, res, 500, { __type: 'InternalFailure', message: String(e && e.message) });
    }));
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => resolve(this.server.address().port));
    });
  }

  async handle(req, res) {
    if (preflight(req, res)) {
      this.counters.preflights++;
      return;
    }
    this.counters.requests++;
    let body;
    const entry = { method: req.method, origin: req.headers.origin || null };
    const corsOptions = { exposeDate: !this.faults.hideDate };
    // The server's own clock (moved by the clockOffsetMs fault), as Kinesis's Date would be.
    const dated = () => ({ Date: new Date(this.now()).toUTCString() });
    try {
      if (req.method !== 'POST') throw new AwsError(400, 'UnknownOperationException', `${req.method} is not supported; Kinesis takes POST`);
      body = await readBody(req);
      entry.bytes = body.length;
      const target = req.headers['x-amz-target'] || '';
      const [prefix, operation] = target.split('.');
      entry.action = operation;
      if (prefix !== 'Kinesis_20131202' || !operation) throw new AwsError(400, 'UnknownOperationException', `X-Amz-Target ${JSON.stringify(target)} is not a Kinesis operation`);
      const f = operation === 'PutRecords' ? this.faults : {};
      if (f.downUntil && Date.now() < f.downUntil) {
        this.fault('down');
        req.socket.destroy();
        return;
      }
      if (f.latencyMs) await new Promise((r) => setTimeout(r, f.latencyMs));
      const drop = f.dropConnectionRate && this.draw.drop() < f.dropConnectionRate ? this.nextDrop : null;
      if (drop === 'before') {
        this.nextDrop = 'after';
        this.fault('dropBeforeStore');
        req.socket.destroy();
        return;
      }
      if (!req.headers.authorization) {
        this.counters.unsigned++;
        throw new AwsError(400, 'MissingAuthenticationTokenException', 'Missing Authentication Token');
      }
      if (f.tamperHeader && typeof req.headers[f.tamperHeader] === 'string') {
        // As a proxy that rewrites a header would: the signature no longer matches.
        this.fault('tamperHeader');
        req.headers[f.tamperHeader] += ';tampered';
      }
      const session = await this.verify(req, body, entry);
      let input;
      try {
        input = JSON.parse(body.toString('utf8') || '{}');
      } catch {
        throw new AwsError(400, 'SerializationException', 'Start of structure or map found where not expected');
      }
      if (Array.isArray(input.Records)) {
        entry.records = input.Records.length;
        // What the API counts against its limits: data bytes plus partition key bytes.
        const sizes = input.Records.map((r) => Buffer.from(String(r.Data || ''), 'base64').length + Buffer.byteLength(String(r.PartitionKey || '')));
        entry.payloadBytes = sizes.reduce((a, b) => a + b, 0);
        // What Kinesis bills: provisioned mode in 25 KB PUT payload units per record, on-demand in 1 KB per record.
        entry.putPayloadUnits = sizes.reduce((a, n) => a + Math.max(1, Math.ceil(n / 25600)), 0);
        entry.onDemandKb = sizes.reduce((a, n) => a + Math.max(1, Math.ceil(n / 1024)), 0);
        entry.partitionKeys = [...new Set(input.Records.map((r) => r.PartitionKey))].slice(0, 5);
        const over = sizes.findIndex((n) => n > MAX_RECORD_SIZE);
        if (over >= 0) {
          throw new AwsError(400, 'InvalidArgumentException', `Record ${over} has ${sizes[over]} bytes of data and partition key, over the stream's maximum record size of ${MAX_RECORD_SIZE} bytes.`);
        }
        if (entry.payloadBytes > MAX_REQUEST_PAYLOAD) {
          throw new AwsError(400, 'InvalidArgumentException', `The request has ${entry.payloadBytes} bytes of data and partition keys, over the PutRecords limit of ${MAX_REQUEST_PAYLOAD} bytes.`);
        }
      }
      const stream = this.streamOf(input, operation);
      entry.stream = stream;
      const action = `kinesis:${operation}`;
      const denied = this.sts.authorize(session, action, stream ? streamArn(stream, this.region) : '*');
      if (denied) throw new AwsError(400, 'AccessDeniedException', denied);
      if (input.StreamARN) {
        input.StreamName = stream;
        delete input.StreamARN;
      }
      let failed = [];
      if (operation === 'PutRecords') {
        this.putCount++;
        if (f.throttleEvery && this.putCount % f.throttleEvery === 0) {
          this.fault('throttle');
          throw new AwsError(400, 'ProvisionedThroughputExceededException', `Rate exceeded for shard shardId-000000000000 in stream ${stream} under account ${ACCOUNT}.`);
        }
        if (f.serverErrorRate && this.draw.server() < f.serverErrorRate) {
          this.fault('serverError');
          throw new AwsError(500, 'InternalFailure', 'The request processing has failed because of an unknown error, exception or failure.');
        }
        if (f.failWith) {
          this.fault('failWith');
          throw new AwsError(f.failWith.status || 400, f.failWith.code, f.failWith.message || f.failWith.code);
        }
        if (f.partialFailureRate && Array.isArray(input.Records)) {
          failed = input.Records.map(() => this.draw.partial() < f.partialFailureRate);
          if (failed.some(Boolean)) this.fault('partialFailure');
        }
      }
      const all = input.Records;
      if (failed.some(Boolean)) input.Records = all.filter((_, i) => !failed[i]);
      if (failed.length && input.Records.length === 0) {
        const out = { FailedRecordCount: all.length, Records: all.map(() => ({ ErrorCode: 'InternalFailure', ErrorMessage: 'Internal service failure.' })) };
        entry.status = 200;
        entry.failed = all.length;
        this.record(entry);
        return sendJson(req, res, 200, out, dated(), corsOptions);
      }
      const upstream = await this.forward(req, target, input, operation);
      let text = upstream.text;
      entry.status = upstream.status;
      if (upstream.ok && failed.some(Boolean)) {
        // Put the injected per-record failures back in request order.
        const stored = JSON.parse(text).Records;
        let j = 0;
        const merged = all.map((_, i) => (failed[i]
          ? (this.draw.partialKind() < 0.5
            ? { ErrorCode: 'ProvisionedThroughputExceededException', ErrorMessage: `Rate exceeded for shard shardId-000000000000 in stream ${stream} under account ${ACCOUNT}.` }
            : { ErrorCode: 'InternalFailure', ErrorMessage: 'Internal service failure.' })
          : stored[j++]));
        text = JSON.stringify({ FailedRecordCount: merged.filter((r) => r.ErrorCode).length, Records: merged });
      }
      if (drop === 'after') {
        // Stored, but the client never hears: it must retry, and may duplicate.
        this.nextDrop = 'before';
        this.fault('dropAfterStore');
        entry.status = 'dropped';
        this.record(entry);
        req.socket.destroy();
        return;
      }
      if (upstream.ok) {
        this.counters.accepted++;
        this.trackIterators(operation, stream, text);
        if (operation === 'PutRecords') {
          try {
            const out = JSON.parse(text);
            entry.failed = out.FailedRecordCount;
            // What each record became, in request order: where it was stored, or its error.
            entry.results = out.Records.map((r) => r.SequenceNumber || r.ErrorCode);
          } catch { /* relayed as is */ }
        }
      } else {
        try {
          entry.code = JSON.parse(text).__type;
        } catch {
          entry.code = `HTTP ${upstream.status}`;
        }
      }
      this.record(entry);
      cors(req, res, corsOptions);
      res.writeHead(upstream.status, {
        'Content-Type': upstream.contentType || 'application/x-amz-json-1.1',
        ...dated(),
        'x-amzn-RequestId': crypto.randomUUID(),
      });
      res.end(text);
    } catch (e) {
      if (!(e instanceof AwsError)) throw e;
      entry.status = e.status;
      entry.code = e.type;
      this.record(entry);
      sendJson(req, res, e.status, { __type: e.type, message: e.message }, dated(), corsOptions);
    }
  }

  /**
   * Sends the request on to the store: {status, ok, text, contentType}. A PutRecords body
   * over what kinesalite takes (7 MiB, where Kinesis takes a 10 MiB payload) goes in parts,
   * whose answers are joined in request order.
   */
  async forward(req, target, input, operation) {
    const send = async (body) => {
      const r = await fetch(this.storeUrl, {
        method: 'POST',
        headers: {
          'content-type': req.headers['content-type'] || 'application/x-amz-json-1.1',
          'x-amz-target': target,
          authorization: req.headers.authorization,
          'x-amz-date': req.headers['x-amz-date'],
        },
        body: JSON.stringify(body),
      });
      return { status: r.status, ok: r.ok, text: await r.text(), contentType: r.headers.get('content-type') };
    };
    const whole = JSON.stringify(input);
    if (operation !== 'PutRecords' || whole.length <= STORE_MAX_BODY || !Array.isArray(input.Records) || input.Records.length < 2) {
      return send(input);
    }
    const half = Math.ceil(input.Records.length / 2);
    const parts = [input.Records.slice(0, half), input.Records.slice(half)];
    const answers = [];
    for (const Records of parts) {
      const a = await this.forward(req, target, { ...input, Records }, operation);
      if (!a.ok) return a;
      answers.push(JSON.parse(a.text));
    }
    const Records = answers.flatMap((a) => a.Records);
    return { ...answers[0], status: 200, ok: true, text: JSON.stringify({ ...answers[0], FailedRecordCount: Records.filter((r) => r.ErrorCode).length, Records }) };
  }

  /** Which stream a request is about, as IAM sees it. */
  streamOf(input, operation) {
    if (typeof input.StreamARN === 'string') {
      const m = /^arn:aws:kinesis:([^:]+):(\d{12}):stream\/([a-zA-Z0-9_.-]{1,128})$/.exec(input.StreamARN);
      if (!m || m[1] !== this.region || m[2] !== ACCOUNT) {
        throw new AwsError(400, 'ResourceNotFoundException', `Stream ${input.StreamARN} under account ${ACCOUNT} not found.`);
      }
      return m[3];
    }
    if (typeof input.StreamName === 'string') return input.StreamName;
    if (operation === 'GetRecords' && typeof input.ShardIterator === 'string') {
      return this.iterators.get(input.ShardIterator) || null;
    }
    return null;
  }

  trackIterators(operation, stream, text) {
    if (operation !== 'GetShardIterator' && operation !== 'GetRecords') return;
    try {
      const out = JSON.parse(text);
      const it = out.ShardIterator || out.NextShardIterator;
      if (it && stream) {
        if (this.iterators.size > 100000) this.iterators.clear();
        this.iterators.set(it, stream);
      }
    } catch { /* not ours to fix */ }
  }

  /** SigV4 verification as AWS does it; returns the issued session or throws an AwsError. */
  async verify(req, body, entry) {
    const auth = req.headers.authorization;
    const m = /^AWS4-HMAC-SHA256 Credential=([^/,\s]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request,\s*SignedHeaders=([a-z0-9;-]+),\s*Signature=([0-9a-f]{64})$/.exec(auth);
    if (!m) throw new AwsError(400, 'IncompleteSignatureException', `Authorization header requires 'Credential', 'SignedHeaders' and 'Signature' parameters. Authorization=${auth.split(' ')[0]}`);
    const [, accessKeyId, scopeDate, scopeRegion, scopeService, signedHeaders, signature] = m;
    entry.accessKeyId = accessKeyId;
    const session = this.sts.lookup(accessKeyId);
    if (!session || !safeEqual(req.headers['x-amz-security-token'] || '', session.SessionToken)) {
      throw new AwsError(400, 'UnrecognizedClientException', 'The security token included in the request is invalid.');
    }
    entry.principal = session.principal;
    const dateHeader = req.headers['x-amz-date'];
    const signedAt = parseAmzDate(dateHeader);
    if (Number.isNaN(signedAt)) throw new AwsError(400, 'IncompleteSignatureException', 'Authorization header requires existence of either a \'X-Amz-Date\' or a \'Date\' header.');
    const now = this.now();
    if (signedAt < now - MAX_SKEW_MS) {
      // (messageClockOffsetMs: a message whose time disagrees with Date, for tests.)
      const said = now + (this.faults.messageClockOffsetMs || 0);
      throw new AwsError(400, 'InvalidSignatureException', `Signature expired: ${dateHeader} is now earlier than ${amzDate(said - MAX_SKEW_MS)} (${amzDate(said)} - 5 min.)`);
    }
    if (signedAt > now + MAX_SKEW_MS) {
      const said = now + (this.faults.messageClockOffsetMs || 0);
      throw new AwsError(400, 'InvalidSignatureException', `Signature not yet current: ${dateHeader} is still later than ${amzDate(said + MAX_SKEW_MS)} (${amzDate(said)} + 5 min.)`);
    }
    if (scopeDate !== dateHeader.slice(0, 8)) throw new AwsError(400, 'InvalidSignatureException', `Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '${scopeDate}' != '${dateHeader.slice(0, 8)}', from '${dateHeader}'.`);
    if (scopeRegion !== this.region) throw new AwsError(400, 'InvalidSignatureException', `Credential should be scoped to a valid region, not '${scopeRegion}'.`);
    if (scopeService !== 'kinesis') throw new AwsError(400, 'InvalidSignatureException', `Credential should be scoped to correct service: 'kinesis'.`);
    const names = signedHeaders.split(';');
    if (!names.includes('host') || !names.includes('x-amz-date')) {
      throw new AwsError(400, 'InvalidSignatureException', 'The host and x-amz-date headers must be signed.');
    }
    const headers = {};
    for (const n of names) {
      const v = req.headers[n];
      if (v === undefined) throw new AwsError(400, 'InvalidSignatureException', `Signed header ${n} is missing from the request.`);
      headers[n] = Array.isArray(v) ? v.join(',') : v;
    }
    const [hostname, port] = (req.headers.host || '').split(':');
    const url = new URL(req.url, 'http://placeholder');
    const signer = new SignatureV4({
      credentials: { accessKeyId, secretAccessKey: session.SecretAccessKey, sessionToken: session.SessionToken },
      region: scopeRegion,
      service: scopeService,
      sha256: Sha256,
      applyChecksum: false,
    });
    const signed = await signer.sign(
      {
        method: req.method, protocol: 'http:', hostname, port: port ? Number(port) : undefined,
        path: url.pathname, query: Object.fromEntries(url.searchParams), headers, body,
      },
      { signingDate: new Date(signedAt) },
    );
    const expected = /SignedHeaders=([^,]+), Signature=([0-9a-f]{64})/.exec(signed.headers.authorization);
    if (!expected || expected[1] !== signedHeaders || !safeEqual(expected[2], signature)) {
      // As AWS answers a mismatch: the canonical request and string to sign it expected,
      // which hold the x-amz-security-token line (seen in Kinesis answers quoted in
      // awslabs/amazon-kinesis-producer#33 and snowplow/snowplow#2968, and with the token in
      // aws/aws-sdk-cpp#17). So a client must never pass the message on as it is.
      const canonical = [req.method, url.pathname, url.search.slice(1),
        ...names.map((n) => `${n}:${String(headers[n]).trim().replace(/\s+/g, ' ')}`), '', signedHeaders,
        createHash('sha256').update(body).digest('hex')].join('\n');
      const scope = `${scopeDate}/${scopeRegion}/${scopeService}/aws4_request`;
      const toSign = ['AWS4-HMAC-SHA256', dateHeader, scope, createHash('sha256').update(canonical).digest('hex')].join('\n');
      throw new AwsError(400, 'InvalidSignatureException', `The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.\n\nThe Canonical String for this request should have been\n'${canonical}'\n\nThe String-to-Sign should have been\n'${toSign}'\n`);
    }
    if (Date.parse(session.Expiration) <= now) {
      throw new AwsError(400, 'ExpiredTokenException', 'The security token included in the request is expired');
    }
    return session;
  }
}

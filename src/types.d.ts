// Generated from src/config_keys.rs and the core's JSON by its tests: do not edit.
export type CapturedEvent = "mousemove" | "mousedown" | "mouseup" | "click" | "wheel";
export interface Timing { last: number; max: number; mean: number; p50: number; p99: number }
export interface ProducerStats {
  bufferingTimeMs: Timing;
  dropsByReason: Record<string, number>;
  errorsByCode: Record<string, number>;
  kinesisRecordsPut: number;
  mousemoveCoalesced: number;
  putRecordsRequests: number;
  recordsDropped: number;
  recordsPending: number;
  recordsPut: number;
  recordsReceived: number;
  recordsRestored: number;
  requestLatencyMs: Timing;
  retries: number;
  storageEntriesCorrupt: number;
  storageWriteFailures: number;
}
export interface DropReport { code: string | null; count: number; reason: "bufferFull" | "oversize" | "invalid" | "rejected" | "expired" | "closed" | "persistFull"; type: string }
export interface RecordOptions {
  /** Routes and orders the record: records of one key stay in order on one shard. */
  partitionKey?: string;
  /** A decimal 128-bit number (no leading zeros) that picks the shard instead of the key's hash. */
  explicitHashKey?: string;
}
export interface PutRecordsInput { data: string | Uint8Array | ArrayBuffer; partitionKey: string; explicitHashKey?: string }
export type PutRecordsResultEntry = { sequenceNumber: string; shardId: string } | { errorCode: string; errorMessage: string };
export interface PutRecordsResult { failedRecordCount: number; records: PutRecordsResultEntry[] }
export interface CredentialsConfig {
  /** your backend's endpoint; a GET answers the STS shape {"AccessKeyId","SecretAccessKey","SessionToken","Expiration"} (bare, or under Credentials as aws sts assume-role prints it); sent with same-origin cookies */
  url?: string;
  /** a Cognito identity pool; with cognitoGuestRoleArn for guests, or logins for signed-in users (or both: guests while logins gives none) */
  cognitoIdentityPoolId?: string;
  /** the pool's unauthenticated role: guests run the classic flow (GetId, GetOpenIdToken, STS AssumeRoleWithWebIdentity), unsigned; the pool needs AllowClassicFlow */
  cognitoGuestRoleArn?: string;
  /** {"cognito-idp.<region>.amazonaws.com/<user pool id>": idToken}, or a function returning it (or a promise of it; null when signed out), called at every refresh — use a function, ID tokens expire; the enhanced flow. No attribute: tokens do not belong in HTML */
  logins?: Record<string, string> | (() => Record<string, string> | null | Promise<Record<string, string> | null>);
  /** default https://cognito-identity.<pool region>.amazonaws.com */
  cognitoEndpoint?: string;
  /** default https://sts.<pool region>.amazonaws.com (the classic flow) */
  stsEndpoint?: string;
  /** an async function resolving to {accessKeyId, secretAccessKey, sessionToken, expiration} (expiration: Date, ISO text or epoch ms) */
  provider?: () => Promise<{ accessKeyId: string; secretAccessKey: string; sessionToken: string; expiration: Date | string | number }>;
}
export interface ProducerConfig {
  /** 1–128 characters of a-z A-Z 0-9 _ . - */
  streamName?: string;
  /** arn:aws:kinesis:<region>:<account>:stream/<name>; sets region too */
  streamArn?: string;
  /** e.g. us-east-1 */
  region?: string;
  /** default https://kinesis.<region>.amazonaws.com; an origin only; http only for localhost */
  endpoint?: string;
  /** 100–120000, default 6000 (the KPL's RequestTimeout); also how long a page function (provider, logins) may take */
  requestTimeoutMs?: number;
  /** 10–600000, default 1000; below recordTtlMs */
  flushIntervalMs?: number;
  /** 1–500, default 500 */
  maxBatchRecords?: number;
  /** 1 KiB–10 MiB, default 1 MiB; at least maxRecordBytes */
  maxBatchBytes?: number;
  /** default 1 MiB (a stream can opt in to 10 MiB) */
  maxRecordBytes?: number;
  /** default 10,000 */
  maxBufferedRecords?: number;
  /** default 5 MiB */
  maxBufferedBytes?: number;
  /** 1–1000, default 30 */
  mousemoveMaxPerSecond?: number;
  /** 1000–86400000, default 60000 */
  recordTtlMs?: number;
  /** KPL aggregation, default true */
  aggregation?: boolean;
  /** 256–10 MiB, default 51,200; never over maxRecordBytes */
  aggregationMaxBytes?: number;
  /** "drop" (default: count and report) or "keep" (hold, retry each minute until recordTtlMs) */
  rejectedRecords?: "drop" | "keep";
  /** slow down when the stream throttles and grow back when it does not (the AWS SDKs' adaptive retry mode, per page, in bytes a second), default false */
  adaptiveRate?: boolean;
  /** 0–4 MiB, default 1 MiB: what a page going away keeps in localStorage for the next one; 0 for nothing */
  persistMaxBytes?: number;
  /** "session" (default: ordered per session) or "random"; or per record in record() */
  partitionKey?: "session" | "random";
  /** events to capture, default all five; false (attribute: none) for none; the attribute is a comma-separated list */
  capture?: CapturedEvent[] | false;
  /** CSS selector of the element to listen on; default the document */
  target?: string;
  /** after every request, with the stats */
  onStats?: (stats: ProducerStats) => void;
  /** an error to tell the page about (see Errors) */
  onError?: (error: Error & { code: string }) => void;
  /** records dropped, with the reason */
  onDrop?: (drop: DropReport) => void;
  /** exactly one of url, cognitoIdentityPoolId, provider */
  credentials: CredentialsConfig;
}

// Starts the local stack: kinesalite (the store) behind the verifying front door, and the
// credential vending / Cognito server. Everything binds to 127.0.0.1.
import kinesalite from 'kinesalite';
import { Sts, STREAM, REGION, ROLES } from './iam.mjs';
import { FrontDoor } from './frontdoor.mjs';
import { AuthServer } from './auth.mjs';
import { IDENTITY_POOL_ID, ENHANCED_ONLY_POOL_ID, USER_POOL_PROVIDER } from './cognito.mjs';

export const DEFAULT_PORTS = { kinesis: 4566, auth: 4577, store: 4567 };
/**
 * Streams created at start: ours (2 shards), a 4-shard one (for the KCL shard filter at
 * another split of the hash key space), and one the default write scope must NOT reach.
 */
export const STREAMS = [{ name: STREAM, shards: 2 }, { name: 'wide_stream', shards: 4 }, { name: 'other_stream', shards: 1 }];
const WRITABLE = [STREAM, 'wide_stream'];

async function storeCall(url, target, body) {
  const res = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-amz-json-1.1',
      'x-amz-target': `Kinesis_20131202.${target}`,
      // kinesalite wants a well-formed header; it checks no signature (the front door does).
      authorization: 'AWS4-HMAC-SHA256 Credential=LOCALADMIN/20000101/us-east-1/kinesis/aws4_request, SignedHeaders=host, Signature=0',
      'x-amz-date': '20000101T000000Z',
    },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: await res.json().catch(() => null) };
}

export async function startStack({ ports = {}, quiet = false } = {}) {
  const p = {
    kinesis: Number(ports.kinesis ?? process.env.KBP_KINESIS_PORT ?? DEFAULT_PORTS.kinesis),
    auth: Number(ports.auth ?? process.env.KBP_AUTH_PORT ?? DEFAULT_PORTS.auth),
    store: Number(ports.store ?? process.env.KBP_STORE_PORT ?? DEFAULT_PORTS.store),
  };
  const store = kinesalite({ createStreamMs: 0, deleteStreamMs: 0, updateStreamMs: 0, shardLimit: 100 });
  await new Promise((resolve, reject) => {
    store.once('error', reject);
    store.listen(p.store, '127.0.0.1', resolve);
  });
  const storeUrl = `http://127.0.0.1:${store.address().port}/`;
  for (const s of STREAMS) {
    const r = await storeCall(storeUrl, 'CreateStream', { StreamName: s.name, ShardCount: s.shards });
    if (r.status !== 200) throw new Error(`CreateStream ${s.name}: ${r.status} ${JSON.stringify(r.body)}`);
  }
  for (const s of STREAMS) {
    for (let i = 0; i < 100; i++) {
      const d = await storeCall(storeUrl, 'DescribeStreamSummary', { StreamName: s.name });
      if (d.body?.StreamDescriptionSummary?.StreamStatus === 'ACTIVE') break;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  // STS and the front door share one clock, so a server clock set off by fault injection
  // moves credential expirations with it, as AWS's would.
  let frontDoor = null;
  const sts = new Sts({ now: () => (frontDoor ? frontDoor.now() : Date.now()) });
  frontDoor = new FrontDoor({ sts, storeUrl });
  const kinesisPort = await frontDoor.listen(p.kinesis);
  const kinesisEndpoint = `http://127.0.0.1:${kinesisPort}`;
  const auth = new AuthServer({ sts, frontDoor, kinesisEndpoint, streams: WRITABLE });
  const authPort = await auth.listen(p.auth);
  const info = {
    region: REGION,
    stream: STREAM,
    kinesisEndpoint,
    authEndpoint: `http://127.0.0.1:${authPort}`,
    credentialsUrl: `http://127.0.0.1:${authPort}/credentials`,
    identityPoolId: IDENTITY_POOL_ID,
    enhancedOnlyPoolId: ENHANCED_ONLY_POOL_ID,
    // The classic flow: the pool's guest role, and STS (served by the same local server).
    guestRoleArn: ROLES.guest.arn,
    stsEndpoint: `http://127.0.0.1:${authPort}`,
    userPoolProvider: USER_POOL_PROVIDER,
  };
  if (!quiet) console.log(`local stack: Kinesis ${kinesisEndpoint} (stream ${STREAM}, ${STREAMS[0].shards} shards), credentials ${info.credentialsUrl}, Cognito and STS ${info.authEndpoint} (${IDENTITY_POOL_ID}, guest role ${ROLES.guest.arn})`);
  const stop = () => Promise.all([
    new Promise((r) => frontDoor.server.close(r)),
    new Promise((r) => auth.server.close(r)),
    new Promise((r) => store.close(r)),
  ]);
  return { info, sts, frontDoor, auth, stop };
}

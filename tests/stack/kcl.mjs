// What a KCL 2.x consumer does with an aggregated record it read from a shard, modelled so
// the tests see the records KCL would lose. KCL 2.x de-aggregates, then checks every
// sub-record's effective hash key (its explicit hash key, else the MD5 of its partition key
// as an unsigned 128-bit integer) against the hash key range of the shard the aggregate
// was read from, both ends inclusive; if one sub-record is outside, the whole aggregate is
// dropped, silently (no error, no log line). Lambda and the aws-kinesis-agg libraries do
// not filter, so only a check like this one sees the loss.
// Source: awslabs/amazon-kinesis-client, amazon-kinesis-client/src/main/java/software/
// amazon/kinesis/retrieval/AggregatorUtil.java (`effectiveHashKey`, and the
// `compareTo(startingHashKey) < 0 || compareTo(endingHashKey) > 0` check in `deaggregate`,
// which removes the aggregate's sub-records added so far and breaks); and
// awslabs/kinesis-aggregation, potential_data_loss.md ("messages which are not destined for
// the 'assigned' consumer are dropped silently by the KCL").
import { createHash } from 'node:crypto';

/** The effective hash key KCL computes for a (sub-)record, as a BigInt. */
export function effectiveHashKey({ partitionKey, explicitHashKey }) {
  if (explicitHashKey !== undefined && explicitHashKey !== null) return BigInt(explicitHashKey);
  return BigInt(`0x${createHash('md5').update(Buffer.from(partitionKey, 'utf8')).digest('hex')}`);
}

/** Whether `key` (BigInt) lies in a shard's `HashKeyRange` (decimal strings), ends included. */
export function inRange(key, range) {
  return key >= BigInt(range.StartingHashKey) && key <= BigInt(range.EndingHashKey);
}

/**
 * The sub-records of one aggregated record read from a shard with `range`, as KCL 2.x hands
 * them on: all of them, or none when any lies outside the shard's range.
 * @param {{partitionKey: string, explicitHashKey?: string}[]} subRecords
 */
export function kclKeep(subRecords, range) {
  return subRecords.every((s) => inRange(effectiveHashKey(s), range));
}

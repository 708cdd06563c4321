//! The Kinesis Producer Library's aggregated record format, so many small records share one
//! Kinesis record (and its PUT payload unit) and KCL, Lambda and the aws-kinesis-agg
//! libraries unpack them:
//!
//! ```text
//! F3 89 9A C2 | protobuf AggregatedRecord | MD5 of the protobuf bytes (16)
//! AggregatedRecord { repeated string partition_key_table = 1;
//!                    repeated string explicit_hash_key_table = 2;
//!                    repeated Record records = 3; }
//! Record { required uint64 partition_key_index = 1; optional uint64 explicit_hash_key_index = 2;
//!          required bytes data = 3; repeated Tag tags = 4; }
//! ```
//!
//! In scope: sizing as records are added, encoding, and decoding (for tests and consumers).
//! Out of scope: which records go together (see `producer`).

use crate::md5;

/// The magic bytes that open an aggregated record.
pub const MAGIC: [u8; 4] = [0xF3, 0x89, 0x9A, 0xC2];
/// Magic plus checksum.
pub const OVERHEAD: usize = MAGIC.len() + 16;
/// The KPL's default `AggregationMaxSize`.
pub const DEFAULT_MAX_BYTES: usize = 51_200;

fn varint_len(mut v: u64) -> usize {
    let mut n = 1;
    while v >= 0x80 {
        v >>= 7;
        n += 1;
    }
    n
}

fn push_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// Bytes of a length-delimited field with a one-byte tag.
fn field_len(len: usize) -> usize {
    1 + varint_len(len as u64) + len
}

/// A `Record`: key index, the explicit hash key index (0, one byte) when `hashed`, data.
fn record_len(key_index: usize, data_len: usize, hashed: bool) -> usize {
    1 + varint_len(key_index as u64) + 2 * usize::from(hashed) + field_len(data_len)
}

/// Tracks the encoded size of an aggregated record as records are added, without holding
/// their data.
#[derive(Debug, Clone, Default)]
pub struct Sizer {
    keys: Vec<String>,
    protobuf_len: usize,
    count: usize,
    hashed: bool,
}

impl Sizer {
    /// An empty aggregate; with `explicit_hash_key`, every record in it carries that key
    /// (see [`encode`]).
    pub fn new(explicit_hash_key: Option<&str>) -> Self {
        Sizer {
            protobuf_len: explicit_hash_key.map_or(0, |h| field_len(h.len())),
            hashed: explicit_hash_key.is_some(),
            ..Self::default()
        }
    }

    /// Records added so far.
    pub fn count(&self) -> usize {
        self.count
    }

    /// The encoded size (magic, protobuf, checksum) if a record of `data_len` bytes under
    /// `key` were added.
    pub fn size_with(&self, key: &str, data_len: usize) -> usize {
        let (index, key_cost) = match self.keys.iter().position(|k| k == key) {
            Some(i) => (i, 0),
            None => (self.keys.len(), field_len(key.len())),
        };
        OVERHEAD
            + self.protobuf_len
            + key_cost
            + field_len(record_len(index, data_len, self.hashed))
    }

    /// The encoded size now.
    pub fn size(&self) -> usize {
        OVERHEAD + self.protobuf_len
    }

    pub fn add(&mut self, key: &str, data_len: usize) {
        let index = match self.keys.iter().position(|k| k == key) {
            Some(i) => i,
            None => {
                self.keys.push(key.to_string());
                self.protobuf_len += field_len(key.len());
                self.keys.len() - 1
            }
        };
        self.protobuf_len += field_len(record_len(index, data_len, self.hashed));
        self.count += 1;
    }
}

/// The aggregated record holding `records` (partition key, data), in order. With
/// `explicit_hash_key`, every record gets it as its own explicit hash key: put the
/// aggregate under the same key, and a KCL 2.x consumer finds every sub-record on the
/// aggregate's shard (it drops an aggregate with a sub-record whose effective hash key lies
/// outside the shard's range; see tests/stack/kcl.mjs).
pub fn encode(records: &[(&str, &[u8])], explicit_hash_key: Option<&str>) -> Vec<u8> {
    let mut keys: Vec<&str> = Vec::new();
    let mut indexed = Vec::with_capacity(records.len());
    for (key, data) in records {
        let index = keys.iter().position(|k| k == key).unwrap_or_else(|| {
            keys.push(key);
            keys.len() - 1
        });
        indexed.push((index, *data));
    }
    let mut out = Vec::with_capacity(
        OVERHEAD
            + records
                .iter()
                .map(|(k, d)| k.len() + d.len() + 12)
                .sum::<usize>(),
    );
    out.extend_from_slice(&MAGIC);
    for key in &keys {
        out.push(0x0A); // field 1: partition_key_table, length-delimited
        push_varint(&mut out, key.len() as u64);
        out.extend_from_slice(key.as_bytes());
    }
    if let Some(h) = explicit_hash_key {
        out.push(0x12); // field 2: explicit_hash_key_table, length-delimited
        push_varint(&mut out, h.len() as u64);
        out.extend_from_slice(h.as_bytes());
    }
    let hashed = explicit_hash_key.is_some();
    for (index, data) in indexed {
        out.push(0x1A); // field 3: records, length-delimited
        push_varint(&mut out, record_len(index, data.len(), hashed) as u64);
        out.push(0x08); // Record.partition_key_index, varint
        push_varint(&mut out, index as u64);
        if hashed {
            out.extend_from_slice(&[0x10, 0]); // Record.explicit_hash_key_index = 0
        }
        out.push(0x1A); // Record.data, length-delimited
        push_varint(&mut out, data.len() as u64);
        out.extend_from_slice(data);
    }
    let checksum = md5::digest(&out[MAGIC.len()..]);
    out.extend_from_slice(&checksum);
    out
}

/// Why bytes are not an aggregated record we can read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DecodeError {
    NotAggregated,
    Checksum,
    Malformed(&'static str),
}

fn read_varint(b: &[u8], pos: &mut usize) -> Result<u64, DecodeError> {
    let mut v = 0u64;
    for shift in (0..64).step_by(7) {
        let byte = *b
            .get(*pos)
            .ok_or(DecodeError::Malformed("truncated varint"))?;
        *pos += 1;
        v |= u64::from(byte & 0x7F) << shift;
        if byte & 0x80 == 0 {
            return Ok(v);
        }
    }
    Err(DecodeError::Malformed("varint too long"))
}

fn read_bytes<'b>(b: &'b [u8], pos: &mut usize) -> Result<&'b [u8], DecodeError> {
    let len = read_varint(b, pos)? as usize;
    let end = pos
        .checked_add(len)
        .filter(|&e| e <= b.len())
        .ok_or(DecodeError::Malformed("field past the end"))?;
    let out = &b[*pos..end];
    *pos = end;
    Ok(out)
}

fn skip(b: &[u8], pos: &mut usize, wire: u8) -> Result<(), DecodeError> {
    match wire {
        0 => read_varint(b, pos).map(|_| ()),
        2 => read_bytes(b, pos).map(|_| ()),
        _ => Err(DecodeError::Malformed("unsupported wire type")),
    }
}

/// The (partition key, data) of every record inside an aggregated record, checksum checked.
pub fn decode(bytes: &[u8]) -> Result<Vec<(String, Vec<u8>)>, DecodeError> {
    Ok(decode_with_hash_keys(bytes)?
        .into_iter()
        .map(|(k, _, d)| (k, d))
        .collect())
}

/// (partition key, explicit hash key, data) of every record inside an aggregated record.
pub fn decode_with_hash_keys(bytes: &[u8]) -> Result<Vec<SubRecord>, DecodeError> {
    if bytes.len() < OVERHEAD || bytes[..4] != MAGIC {
        return Err(DecodeError::NotAggregated);
    }
    let body = &bytes[4..bytes.len() - 16];
    if md5::digest(body)[..] != bytes[bytes.len() - 16..] {
        return Err(DecodeError::Checksum);
    }
    let text = |b: &[u8]| {
        String::from_utf8(b.to_vec()).map_err(|_| DecodeError::Malformed("key not UTF-8"))
    };
    let (mut keys, mut hash_keys, mut records) = (Vec::new(), Vec::new(), Vec::new());
    let mut pos = 0;
    while pos < body.len() {
        let tag = read_varint(body, &mut pos)?;
        match (tag >> 3, (tag & 7) as u8) {
            (1, 2) => keys.push(text(read_bytes(body, &mut pos)?)?),
            (2, 2) => hash_keys.push(text(read_bytes(body, &mut pos)?)?),
            (3, 2) => {
                let rec = read_bytes(body, &mut pos)?;
                let (mut p, mut index, mut hash, mut data) = (0, None, None, None);
                while p < rec.len() {
                    let t = read_varint(rec, &mut p)?;
                    match (t >> 3, (t & 7) as u8) {
                        (1, 0) => index = Some(read_varint(rec, &mut p)? as usize),
                        (2, 0) => hash = Some(read_varint(rec, &mut p)? as usize),
                        (3, 2) => data = Some(read_bytes(rec, &mut p)?.to_vec()),
                        (_, wire) => skip(rec, &mut p, wire)?,
                    }
                }
                records.push((
                    index.ok_or(DecodeError::Malformed("record without key index"))?,
                    hash,
                    data.ok_or(DecodeError::Malformed("record without data"))?,
                ));
            }
            (_, wire) => skip(body, &mut pos, wire)?,
        }
    }
    let out_of_range = DecodeError::Malformed("key index out of range");
    records
        .into_iter()
        .map(|(i, h, d)| {
            let key = keys.get(i).ok_or(out_of_range.clone())?.clone();
            let hash = match h {
                Some(h) => Some(hash_keys.get(h).ok_or(out_of_range.clone())?.clone()),
                None => None,
            };
            Ok((key, hash, d))
        })
        .collect()
}

/// A record inside an aggregated record: partition key, explicit hash key, data.
pub type SubRecord = (String, Option<String>, Vec<u8>);

#[cfg(test)]
mod tests {
    use super::*;

    /// xorshift64*, for reproducible random cases.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
        }
        fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }
    }

    #[test]
    fn any_records_round_trip_and_sizes_are_exact() {
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        for case in 0..500 {
            let n = 1 + rng.below(60) as usize;
            let keys: Vec<String> = (0..1 + rng.below(5))
                .map(|k| format!("key-{k}-{}", "é".repeat(rng.below(200) as usize)))
                .collect();
            let records: Vec<(String, Vec<u8>)> = (0..n)
                .map(|_| {
                    let len = match rng.below(10) {
                        0 => 0,
                        1 => 200 + rng.below(20_000) as usize,
                        _ => rng.below(200) as usize,
                    };
                    (
                        keys[rng.below(keys.len() as u64) as usize].clone(),
                        (0..len).map(|_| rng.next() as u8).collect(),
                    )
                })
                .collect();
            let hash_key = (case % 3 == 0).then(|| (rng.next() as u128 * 7).to_string());
            let mut sizer = Sizer::new(hash_key.as_deref());
            for (k, d) in &records {
                let predicted = sizer.size_with(k, d.len());
                sizer.add(k, d.len());
                assert_eq!(sizer.size(), predicted, "case {case}");
            }
            let borrowed: Vec<(&str, &[u8])> = records
                .iter()
                .map(|(k, d)| (k.as_str(), d.as_slice()))
                .collect();
            let bytes = encode(&borrowed, hash_key.as_deref());
            assert_eq!(bytes.len(), sizer.size(), "case {case}");
            assert_eq!(decode(&bytes).unwrap(), records, "case {case}");
            let hashes: Vec<Option<String>> = decode_with_hash_keys(&bytes)
                .unwrap()
                .into_iter()
                .map(|(_, h, _)| h)
                .collect();
            assert!(hashes.iter().all(|h| *h == hash_key), "case {case}");
        }
    }

    #[test]
    fn corruption_is_detected() {
        let good = encode(&[("k", b"hello"), ("k", b"world")], None);
        assert_eq!(&good[..4], &MAGIC);
        for i in 4..good.len() {
            let mut bad = good.clone();
            bad[i] ^= 0x01;
            assert!(decode(&bad).is_err(), "byte {i} flipped");
        }
        assert_eq!(decode(b"{\"plain\":true}"), Err(DecodeError::NotAggregated));
    }
}

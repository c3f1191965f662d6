//! How the fuzz targets read their input bytes, and how the seed generator (`gen_corpus`) writes
//! them: one module per target that needs more than raw bytes, each with a `decode` (used by the
//! target, total: any bytes decode to something) and an `encode` (used by the generator), so
//! seeds and targets cannot drift apart. Holds no engine logic; the store is reached only
//! through `strata_lsm::fuzzing` (WAL, segments) and `strata_engine::fuzzing` (items, queries).
//! See docs/reliability.md ("Coverage-guided fuzzing").

/// Reads a little-endian u16 length, then that many bytes (fewer if the input ends first).
fn chunk<'a>(rest: &mut &'a [u8]) -> Option<&'a [u8]> {
    let (len, tail) = match rest {
        [a, b, tail @ ..] => (usize::from(u16::from_le_bytes([*a, *b])), tail),
        _ => return None,
    };
    let n = len.min(tail.len());
    let (c, tail) = tail.split_at(n);
    *rest = tail;
    Some(c)
}

fn put_chunk(out: &mut Vec<u8>, c: &[u8]) {
    let len = u16::try_from(c.len()).unwrap_or(u16::MAX);
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(&c[..usize::from(len)]);
}

/// The first byte of a file-reader input: which shape follows (low two bits) and whether the
/// file is sealed twice (customer and service layer, bit 2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mode {
    pub shape: u8,
    pub customer_layer: bool,
}

impl Mode {
    fn decode(b: u8) -> Mode {
        Mode {
            shape: b & 3,
            customer_layer: b & 4 != 0,
        }
    }

    fn encode(self) -> u8 {
        (self.shape & 3) | if self.customer_layer { 4 } else { 0 }
    }
}

/// A file-reader input that is a whole file (shape 0), for the seed corpus of `wal_read` and
/// `segment_read`.
pub fn encode_file(customer_layer: bool, bytes: &[u8]) -> Vec<u8> {
    let mut out = vec![Mode {
        shape: 0,
        customer_layer,
    }
    .encode()];
    out.extend_from_slice(bytes);
    out
}

/// `wal_read` input: a mode byte, then either a whole WAL file (shape 0, and 3) or the
/// plaintexts of records to seal behind a valid header (shape 1 and 2; each a u16 length and
/// bytes), so the record decoder behind the AEAD is reached.
pub mod wal {
    use super::{chunk, put_chunk, Mode};

    pub enum Input<'a> {
        File {
            customer_layer: bool,
            bytes: &'a [u8],
        },
        Sealed {
            customer_layer: bool,
            records: Vec<&'a [u8]>,
        },
    }

    pub fn decode(data: &[u8]) -> Option<Input<'_>> {
        let (&m, mut rest) = data.split_first()?;
        let m = Mode::decode(m);
        Some(match m.shape {
            1 | 2 => {
                let mut records = Vec::new();
                while let Some(c) = chunk(&mut rest) {
                    records.push(c);
                }
                Input::Sealed {
                    customer_layer: m.customer_layer,
                    records,
                }
            }
            _ => Input::File {
                customer_layer: m.customer_layer,
                bytes: rest,
            },
        })
    }

    pub use super::encode_file;

    pub fn encode_sealed(customer_layer: bool, records: &[Vec<u8>]) -> Vec<u8> {
        let mut out = vec![Mode {
            shape: 1,
            customer_layer,
        }
        .encode()];
        for r in records {
            put_chunk(&mut out, r);
        }
        out
    }
}

/// `segment_read` input: a mode byte, then a whole segment file (shape 0), forged data blocks
/// sealed with the right key (shape 1), or a forged index block (shape 2; 3 is 0 again).
pub mod segment {
    use super::{chunk, put_chunk, Mode};

    /// One forged data block: its plaintext as is, or compressed the way the writer does
    /// (with its true size or a claimed one).
    pub enum Block<'a> {
        Plain(&'a [u8]),
        Compressed { raw: &'a [u8], claimed: Option<u32> },
    }

    pub enum Input<'a> {
        File {
            customer_layer: bool,
            bytes: &'a [u8],
        },
        /// Data blocks, the last keys the index names them by, and the keys probed (and put in the
        /// filter so that point reads reach the blocks).
        Blocks {
            customer_layer: bool,
            blocks: Vec<Block<'a>>,
            last_keys: Vec<Vec<u8>>,
            probes: Vec<Vec<u8>>,
        },
        Index {
            customer_layer: bool,
            count: u32,
            body: &'a [u8],
        },
    }

    /// Tags of the items of a `Blocks` input: each is a tag byte, then a u16 length and bytes.
    const PLAIN: u8 = 0;
    const COMPRESSED: u8 = 1;
    const CLAIMED: u8 = 2;
    const LAST_KEY: u8 = 3;
    const PROBE: u8 = 4;

    pub fn decode(data: &[u8]) -> Option<Input<'_>> {
        let (&m, mut rest) = data.split_first()?;
        let m = Mode::decode(m);
        let customer_layer = m.customer_layer;
        Some(match m.shape {
            1 => {
                let (mut blocks, mut last_keys, mut probes) = (Vec::new(), Vec::new(), Vec::new());
                while let Some((&tag, tail)) = rest.split_first() {
                    rest = tail;
                    let Some(c) = chunk(&mut rest) else { break };
                    match tag % 5 {
                        PLAIN => blocks.push(Block::Plain(c)),
                        COMPRESSED => blocks.push(Block::Compressed {
                            raw: c,
                            claimed: None,
                        }),
                        CLAIMED => {
                            let (claimed, raw) = match c {
                                [a, b, d, e, raw @ ..] => (u32::from_le_bytes([*a, *b, *d, *e]), raw),
                                _ => (0, c),
                            };
                            blocks.push(Block::Compressed {
                                raw,
                                claimed: Some(claimed),
                            });
                        }
                        LAST_KEY => last_keys.push(c.to_vec()),
                        _ => probes.push(c.to_vec()),
                    }
                }
                Input::Blocks {
                    customer_layer,
                    blocks,
                    last_keys,
                    probes,
                }
            }
            2 => {
                let (count, body) = match rest {
                    [a, b, c, d, body @ ..] => (u32::from_le_bytes([*a, *b, *c, *d]), body),
                    _ => (0, rest),
                };
                Input::Index {
                    customer_layer,
                    count,
                    body,
                }
            }
            _ => Input::File {
                customer_layer,
                bytes: rest,
            },
        })
    }

    pub use super::encode_file;

    /// A `Blocks` input: `blocks` as (raw records, compressed?) pairs, then last keys and probes.
    pub fn encode_blocks(
        customer_layer: bool,
        blocks: &[(Vec<u8>, bool)],
        last_keys: &[Vec<u8>],
        probes: &[Vec<u8>],
    ) -> Vec<u8> {
        let mut out = vec![Mode {
            shape: 1,
            customer_layer,
        }
        .encode()];
        for (b, compressed) in blocks {
            out.push(if *compressed { COMPRESSED } else { PLAIN });
            put_chunk(&mut out, b);
        }
        for k in last_keys {
            out.push(LAST_KEY);
            put_chunk(&mut out, k);
        }
        for k in probes {
            out.push(PROBE);
            put_chunk(&mut out, k);
        }
        out
    }

    pub fn encode_index(customer_layer: bool, count: u32, body: &[u8]) -> Vec<u8> {
        let mut out = vec![Mode {
            shape: 2,
            customer_layer,
        }
        .encode()];
        out.extend_from_slice(&count.to_le_bytes());
        out.extend_from_slice(body);
        out
    }
}

/// `query_parse` input: the query text, optionally followed by a NUL and a JSON object of extra
/// parameters (name to value).
pub mod query {
    pub fn decode(data: &[u8]) -> Option<(&str, &[u8])> {
        let (text, params) = match data.iter().position(|b| *b == 0) {
            Some(i) => (&data[..i], &data[i + 1..]),
            None => (data, &[][..]),
        };
        Some((std::str::from_utf8(text).ok()?, params))
    }

    pub fn encode(text: &str, params: Option<&str>) -> Vec<u8> {
        let mut out = text.as_bytes().to_vec();
        if let Some(p) = params {
            out.push(0);
            out.extend_from_slice(p.as_bytes());
        }
        out
    }
}

/// Keys every segment read probes besides those of the input: some the seeds hold, some not.
pub const SEGMENT_PROBES: [&[u8]; 6] = [b"", b"key0000", b"key0005", b"key0042", b"key0299", b"zzz"];

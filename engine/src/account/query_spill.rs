//! The query spill file and the sort run file: a sequence of query results (or, for a run,
//! of sort records) written once, in sealed chunks, and read back in order from any result on
//! (see docs/format.md, "Query spill" and "Sort run"). A spill is the rest of a result computed
//! whole, written when its first page is served; a run is a sorted slice of an ORDER BY sorted
//! outside memory (`sort_runs.rs`). Owns the file format only: when to write, where, and when to
//! delete is `spill_registry.rs`'s. Holds no key material in the file: each chunk is sealed by a
//! `FileCipher` of the account's layers (the service layer, and the customer layer under a
//! customer-managed key) over the file's fresh random salt, so a withheld customer key refuses
//! it as it refuses the store. The two kinds differ in magic and in the HKDF info of their file
//! keys, so one never opens as the other.
//!
//! ```text
//! header := magic | version: u8 = 1 | layers: u8 | file id: u64 LE | salt[32]           (50 bytes)
//!           (magic "STRSPIL1" for a spill, "STRSORT1" for a sort run)
//! chunk  := sealed_len: u32 LE | final: u8 (0 or 1) | sealed[sealed_len]
//! sealed := FileCipher(QuerySpill or QuerySortRun, file id, salt, layers)
//!             .seal(chunk number, final ? SpillFinal : SpillChunk, plain)
//! plain  := count: u32 LE | (len: u32 LE | compact JSON of one result) × count
//! ```

use std::fs::File;
use std::io::{BufReader, BufWriter, ErrorKind, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::Value;

use crate::error::{Error, Result};
use strata_lsm::cipher::{BlockKind, CipherSuite, FileCipher, FileKind, SALT_LEN};

const VERSION: u8 = 1;
const HEADER_LEN: usize = 8 + 1 + 1 + 8 + SALT_LEN;
/// Plaintext bytes of results after which a chunk is sealed (one result larger than this is a
/// chunk of its own).
const CHUNK_BYTES: usize = 64 * 1024;
const FRAME_LEN: usize = 5;

/// Which of the two files: its magic, the kind its keys are derived for, and its name in errors.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Sealed {
    magic: &'static [u8; 8],
    kind: FileKind,
    what: &'static str,
}

/// The rest of a result, read a page at a time.
pub(crate) const SPILL: Sealed = Sealed {
    magic: b"STRSPIL1",
    kind: FileKind::QuerySpill,
    what: "query spill",
};

/// A sorted run of an ORDER BY sorted outside memory.
pub(crate) const SORT_RUN: Sealed = Sealed {
    magic: b"STRSORT1",
    kind: FileKind::QuerySortRun,
    what: "sort run",
};

/// Where the chunks of a written file start, and how many results it holds: what the reader
/// needs to go straight to a result. Kept in memory by the registry (never in the file).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct SpillLayout {
    /// Per chunk: the index of its first result and its offset in the file.
    chunks: Vec<(u64, u64)>,
    /// Results in the file.
    pub(crate) results: u64,
    /// Size of the file.
    pub(crate) bytes: u64,
}

/// Writes results one at a time to a new file, sealed with the account's current layers. A
/// chunk is written once the next result shows it is not the last, so the final flag is always
/// on the file's last chunk. Dropped unfinished, it leaves a file without its final chunk, which
/// no reader accepts (the registry deletes it).
pub(crate) struct SpillWriter {
    out: BufWriter<File>,
    path: PathBuf,
    cipher: FileCipher,
    what: &'static str,
    layout: SpillLayout,
    plain: Vec<u8>,
    count: u32,
    first: u64,
}

impl SpillWriter {
    /// Creates file `id` of kind `sealed` at `path` (mode 0600; an existing file is an error).
    pub(crate) fn create(path: &Path, suite: &CipherSuite, sealed: Sealed, id: u64) -> Result<SpillWriter> {
        let file = create_private(path, sealed.what)?;
        let mut out = BufWriter::new(file);
        let (cipher, salt) = suite.new_file(sealed.kind, id);
        let mut header = Vec::with_capacity(HEADER_LEN);
        header.extend_from_slice(sealed.magic);
        header.extend_from_slice(&[VERSION, cipher.layers()]);
        header.extend_from_slice(&id.to_le_bytes());
        header.extend_from_slice(&salt);
        out.write_all(&header)
            .map_err(|e| Error::io_path(&format!("writing the {}", sealed.what), path, e))?;
        Ok(SpillWriter {
            out,
            path: path.to_path_buf(),
            cipher,
            what: sealed.what,
            layout: SpillLayout {
                chunks: Vec::new(),
                results: 0,
                bytes: HEADER_LEN as u64,
            },
            plain: vec![0u8; 4],
            count: 0,
            first: 0,
        })
    }

    /// Appends one result.
    pub(crate) fn push(&mut self, value: &Value) -> Result<()> {
        if self.plain.len() >= CHUNK_BYTES {
            self.seal_chunk(false)?;
        }
        let json = serde_json::to_vec(value)
            .map_err(|e| Error::Internal(format!("a query result does not serialize: {e}")))?;
        let len = u32::try_from(json.len())
            .map_err(|_| Error::Internal("a query result is larger than 4 GiB".into()))?;
        self.plain.extend_from_slice(&len.to_le_bytes());
        self.plain.extend_from_slice(&json);
        self.count += 1;
        self.layout.results += 1;
        Ok(())
    }

    /// Bytes written so far, and those of the chunk being filled.
    pub(crate) fn bytes(&self) -> u64 {
        self.layout.bytes + self.plain.len() as u64
    }

    /// Writes the final chunk (empty for a file of no results) and returns the layout.
    pub(crate) fn finish(mut self) -> Result<SpillLayout> {
        self.seal_chunk(true)?;
        self.out
            .flush()
            .map_err(|e| Error::io_path(&format!("writing the {}", self.what), &self.path, e))?;
        Ok(self.layout)
    }

    fn seal_chunk(&mut self, last: bool) -> Result<()> {
        self.layout.chunks.push((self.first, self.layout.bytes));
        let no = self.layout.chunks.len() - 1;
        self.layout.bytes += write_chunk(&mut self.out, &self.cipher, no, last, self.count, &mut self.plain)
            .map_err(|e| e.in_file(&self.path, self.what))?;
        self.first = self.layout.results;
        self.count = 0;
        Ok(())
    }
}

/// Writes `results` to a new spill file at `path` as spill `id`.
#[cfg(test)]
pub(crate) fn write_spill(
    path: &Path,
    suite: &CipherSuite,
    id: u64,
    results: &[Value],
) -> Result<SpillLayout> {
    let mut w = SpillWriter::create(path, suite, SPILL, id)?;
    for v in results {
        w.push(v)?;
    }
    w.finish()
}

/// Seals `plain` (its first 4 bytes reserved for `count`) as chunk `no`, writes its frame and
/// clears `plain` for the next chunk; returns the bytes written.
fn write_chunk(
    out: &mut impl Write,
    cipher: &FileCipher,
    no: usize,
    last: bool,
    count: u32,
    plain: &mut Vec<u8>,
) -> std::result::Result<u64, ChunkError> {
    if let Some(head) = plain.get_mut(..4) {
        head.copy_from_slice(&count.to_le_bytes());
    }
    let body = std::mem::replace(plain, vec![0u8; 4]);
    let sealed = cipher.seal(no as u64, block_kind(last), body)?;
    let len = u32::try_from(sealed.len())
        .map_err(|_| ChunkError::Other(Error::Internal("a spill chunk is larger than 4 GiB".into())))?;
    out.write_all(&len.to_le_bytes())?;
    out.write_all(&[u8::from(last)])?;
    out.write_all(&sealed)?;
    Ok((FRAME_LEN + sealed.len()) as u64)
}

fn block_kind(last: bool) -> BlockKind {
    if last {
        BlockKind::SpillFinal
    } else {
        BlockKind::SpillChunk
    }
}

/// Reads a written file in order, one chunk in memory at a time.
pub(crate) struct SpillReader {
    input: BufReader<File>,
    path: PathBuf,
    cipher: FileCipher,
    what: &'static str,
    layout: SpillLayout,
    size: u64,
    /// The next chunk to read, and its offset.
    no: usize,
    offset: u64,
    /// Results of the chunk read last, not yet taken (in reverse order).
    held: Vec<(Value, usize)>,
}

impl SpillReader {
    /// Opens file `id` of kind `sealed` at `path`, positioned at result `from`. `Ok(None)` when
    /// the file is gone or was sealed with a number of layers the account no longer reads (an
    /// enable-CMK migration completed since). A file that is not file `id` of this kind is a
    /// corruption error (500); 403.4002 while the customer key is withheld (on the first read).
    pub(crate) fn open(
        path: &Path,
        suite: &CipherSuite,
        sealed: Sealed,
        id: u64,
        layout: &SpillLayout,
        from: u64,
    ) -> Result<Option<SpillReader>> {
        let what = sealed.what;
        let file = match File::open(path) {
            Ok(f) => f,
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(Error::io_path(&format!("opening the {what}"), path, e)),
        };
        let size = file
            .metadata()
            .map_err(|e| Error::io_path("reading the size of", path, e))?
            .len();
        let mut input = BufReader::new(file);
        let mut header = [0u8; HEADER_LEN];
        input
            .read_exact(&mut header)
            .map_err(|_| Error::corruption(path, 0, format!("the {what}'s header is cut short")))?;
        let (magic, rest) = header.split_at(8);
        let (version, layers, id_bytes, salt) = match rest {
            [v, l, tail @ ..] if tail.len() == 8 + SALT_LEN => (*v, *l, &tail[..8], &tail[8..]),
            _ => {
                return Err(Error::corruption(
                    path,
                    0,
                    format!("the {what}'s header is malformed"),
                ))
            }
        };
        if magic != sealed.magic || version != VERSION || !(1..=2).contains(&layers) {
            return Err(Error::corruption(
                path,
                0,
                format!("not a {what} of this version"),
            ));
        }
        if id_bytes != id.to_le_bytes() {
            return Err(Error::corruption(
                path,
                10,
                format!("the {what} names another file id"),
            ));
        }
        let mut salt_arr = [0u8; SALT_LEN];
        salt_arr.copy_from_slice(salt);
        let cipher = match suite.file(sealed.kind, id, &salt_arr, layers) {
            Ok(c) => c,
            Err(strata_lsm::Error::Internal(_)) => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        let no = layout
            .chunks
            .partition_point(|&(first, _)| first <= from)
            .saturating_sub(1);
        let mut reader = SpillReader {
            input,
            path: path.to_path_buf(),
            cipher,
            what,
            layout: layout.clone(),
            size,
            no,
            offset: 0,
            held: Vec::new(),
        };
        match layout.chunks.get(no) {
            Some(&(first, offset)) if from < layout.results => {
                reader.offset = offset;
                reader
                    .input
                    .seek(SeekFrom::Start(offset))
                    .map_err(|e| Error::io_path(&format!("seeking in the {what}"), path, e))?;
                reader.fill()?;
                let skip = from.saturating_sub(first) as usize;
                reader.held.truncate(reader.held.len().saturating_sub(skip));
            }
            _ => reader.no = layout.chunks.len(),
        }
        Ok(Some(reader))
    }

    /// The next result and the length of its compact JSON; `None` at the end. A file that is
    /// damaged, cut short or extended is a corruption error (500), never data.
    pub(crate) fn next_result(&mut self) -> Result<Option<(Value, usize)>> {
        while self.held.is_empty() {
            if self.no >= self.layout.chunks.len() {
                return Ok(None);
            }
            self.fill()?;
        }
        Ok(self.held.pop())
    }

    /// Reads and checks chunk `no` into `held`.
    fn fill(&mut self) -> Result<()> {
        let (no, path, offset) = (self.no, &self.path, self.offset);
        let what = self.what;
        let (first, _) = self.layout.chunks.get(no).copied().unwrap_or_default();
        let expected = self
            .layout
            .chunks
            .get(no + 1)
            .map_or(self.layout.results, |&(next, _)| next)
            .saturating_sub(first);
        let left = self.size - offset.min(self.size);
        let chunk = read_chunk(&mut self.input, &self.cipher, no, left, what)
            .map_err(|e| e.at(path, offset, what))?;
        if chunk.results.len() as u64 != expected || chunk.last != (no + 1 == self.layout.chunks.len()) {
            return Err(Error::corruption(
                path,
                offset,
                format!("chunk {no} does not hold the results it should"),
            ));
        }
        self.offset += chunk.len;
        if chunk.last && self.offset != self.size {
            return Err(Error::corruption(
                path,
                self.offset,
                format!("bytes follow the {what}'s final chunk"),
            ));
        }
        self.no += 1;
        self.held = chunk.results;
        self.held.reverse();
        Ok(())
    }
}

/// Reads spill `id` at `path` from result `from` on, handing each result and the length of its
/// compact JSON to `take` until `take` refuses one (returns false) or the spill ends. `Ok(None)`
/// as `SpillReader::open`; a file that is damaged, cut short or extended, or that is not spill
/// `id`, is a corruption error (500), never data; 403.4002 while the customer key is withheld.
pub(crate) fn read_spill(
    path: &Path,
    suite: &CipherSuite,
    id: u64,
    layout: &SpillLayout,
    from: u64,
    take: &mut dyn FnMut(Value, usize) -> bool,
) -> Result<Option<()>> {
    let Some(mut reader) = SpillReader::open(path, suite, SPILL, id, layout, from)? else {
        return Ok(None);
    };
    while let Some((value, len)) = reader.next_result()? {
        if !take(value, len) {
            break;
        }
    }
    Ok(Some(()))
}

/// Reads and opens chunk `no` at the reader's position (at most `left` bytes remain in the
/// file): its results with their JSON lengths, whether it is the final chunk, and its length.
fn read_chunk(
    input: &mut impl Read,
    cipher: &FileCipher,
    no: usize,
    left: u64,
    what: &str,
) -> std::result::Result<Chunk, ChunkError> {
    let mut frame = [0u8; FRAME_LEN];
    input
        .read_exact(&mut frame)
        .map_err(|_| ChunkError::Damaged(format!("the {what} ends before its final chunk")))?;
    let [a, b, c, d, flag] = frame;
    let len = u32::from_le_bytes([a, b, c, d]) as u64;
    let last = match flag {
        0 => false,
        1 => true,
        _ => return Err(ChunkError::Damaged(format!("chunk {no} has no valid final flag"))),
    };
    if len + FRAME_LEN as u64 > left {
        return Err(ChunkError::Damaged(format!("chunk {no} is cut short")));
    }
    let mut sealed = vec![0u8; len as usize];
    input
        .read_exact(&mut sealed)
        .map_err(|_| ChunkError::Damaged(format!("chunk {no} is cut short")))?;
    let plain = cipher
        .open(no as u64, block_kind(last), &sealed)?
        .ok_or_else(|| ChunkError::Damaged(format!("chunk {no} does not authenticate")))?;
    let results =
        parse_plain(&plain).ok_or_else(|| ChunkError::Damaged(format!("chunk {no} is malformed")))?;
    Ok(Chunk {
        results,
        last,
        len: len + FRAME_LEN as u64,
    })
}

/// One opened chunk: its results with the lengths of their JSON, whether it is the final one,
/// and its length in the file.
struct Chunk {
    results: Vec<(Value, usize)>,
    last: bool,
    len: u64,
}

/// The results of an opened chunk; `None` if it is malformed.
fn parse_plain(plain: &[u8]) -> Option<Vec<(Value, usize)>> {
    let (count, mut rest) = split_u32(plain)?;
    let mut out = Vec::with_capacity((count as usize).min(rest.len() / 4));
    for _ in 0..count {
        let (len, tail) = split_u32(rest)?;
        let (json, tail) = tail.split_at_checked(len as usize)?;
        let mut de = serde_json::Deserializer::from_slice(json);
        // Results are as deep as the query made them; the writer serialized them whole.
        de.disable_recursion_limit();
        let value = Value::deserialize(&mut de).ok()?;
        de.end().ok()?;
        out.push((value, json.len()));
        rest = tail;
    }
    rest.is_empty().then_some(out)
}

fn split_u32(bytes: &[u8]) -> Option<(u32, &[u8])> {
    let (head, rest) = bytes.split_first_chunk::<4>()?;
    Some((u32::from_le_bytes(*head), rest))
}

/// Creates a new file with mode 0600 from its first byte; an existing one is an error.
fn create_private(path: &Path, what: &str) -> Result<File> {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    opts.open(path)
        .map_err(|e| Error::io_path(&format!("creating the {what}"), path, e))
}

/// A chunk's failure before the file's path and offset are known.
enum ChunkError {
    Damaged(String),
    Io(std::io::Error),
    Other(Error),
}

impl From<std::io::Error> for ChunkError {
    fn from(e: std::io::Error) -> Self {
        ChunkError::Io(e)
    }
}

impl From<strata_lsm::Error> for ChunkError {
    fn from(e: strata_lsm::Error) -> Self {
        ChunkError::Other(e.into())
    }
}

impl ChunkError {
    fn at(self, path: &Path, offset: u64, what: &str) -> Error {
        match self {
            ChunkError::Damaged(detail) => Error::corruption(path, offset, detail),
            ChunkError::Io(e) => Error::io_path(&format!("reading the {what}"), path, e),
            ChunkError::Other(e) => e,
        }
    }

    fn in_file(self, path: &Path, what: &str) -> Error {
        match self {
            ChunkError::Io(e) => Error::io_path(&format!("writing the {what}"), path, e),
            other => other.at(path, 0, what),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn results(n: usize, pad: usize) -> Vec<Value> {
        (0..n)
            .map(|i| json!({"k": format!("SPILLCANARY-{i:06}"), "pad": "p".repeat(pad), "n": i}))
            .collect()
    }

    fn read_all(
        path: &Path,
        suite: &CipherSuite,
        id: u64,
        layout: &SpillLayout,
        from: u64,
    ) -> Result<Option<Vec<Value>>> {
        let mut got = Vec::new();
        let read = read_spill(path, suite, id, layout, from, &mut |v, len| {
            assert_eq!(len, v.to_string().len());
            got.push(v);
            true
        })?;
        Ok(read.map(|()| got))
    }

    #[test]
    fn round_trips_from_any_result_in_both_modes() {
        let dir = tempfile::tempdir().unwrap();
        for cmk in [false, true] {
            let suite = CipherSuite::ephemeral(cmk);
            let all = results(3000, 40);
            let path = dir.path().join(format!("{cmk}.spill"));
            let layout = write_spill(&path, &suite, 77, &all).unwrap();
            assert!(
                layout.chunks.len() > 2,
                "several chunks: {:?}",
                layout.chunks.len()
            );
            assert_eq!(layout.bytes, std::fs::metadata(&path).unwrap().len());
            for from in [0u64, 1, 1500, 2999, 3000] {
                assert_eq!(
                    read_all(&path, &suite, 77, &layout, from).unwrap().unwrap(),
                    all[from as usize..]
                );
            }
            // `take` stops the reading at the first result it refuses.
            let mut n = 0;
            read_spill(&path, &suite, 77, &layout, 10, &mut |_, _| {
                n += 1;
                n <= 5
            })
            .unwrap()
            .unwrap();
            assert_eq!(n, 6);
            let bytes = std::fs::read(&path).unwrap();
            assert!(
                !bytes.windows(12).any(|w| w == b"SPILLCANARY-"),
                "results are sealed"
            );
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                assert_eq!(
                    std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
                    0o600
                );
            }
            assert!(write_spill(&path, &suite, 78, &all).is_err(), "never overwritten");
        }
        let suite = CipherSuite::ephemeral(false);
        let path = dir.path().join("empty.spill");
        let layout = write_spill(&path, &suite, 1, &[]).unwrap();
        assert_eq!(
            read_all(&path, &suite, 1, &layout, 0).unwrap().unwrap(),
            Vec::<Value>::new()
        );
        assert_eq!(
            read_all(&dir.path().join("gone"), &suite, 1, &layout, 0).unwrap(),
            None
        );
    }

    #[test]
    fn damage_is_an_error_never_data() {
        let dir = tempfile::tempdir().unwrap();
        let suite = CipherSuite::ephemeral(true);
        let path = dir.path().join("s");
        let all = results(40, 4000);
        let layout = write_spill(&path, &suite, 5, &all).unwrap();
        assert!(layout.chunks.len() >= 2);
        let good = std::fs::read(&path).unwrap();
        let check = |bytes: &[u8], what: &str| {
            std::fs::write(&path, bytes).unwrap();
            let e = read_all(&path, &suite, 5, &layout, 0).unwrap_err();
            assert_eq!(e.status(), 500, "{what}: {e}");
        };
        // Every byte of the header and frames, and a sample of the sealed bytes.
        let step = (good.len() / 700).max(1);
        for i in (0..good.len()).filter(|i| *i < HEADER_LEN + 16 || i % step == 0) {
            let mut bad = good.clone();
            bad[i] ^= 0x01;
            check(&bad, &format!("flip at {i}"));
        }
        for cut in [
            HEADER_LEN - 1,
            HEADER_LEN,
            HEADER_LEN + 3,
            good.len() / 2,
            good.len() - 1,
        ] {
            check(&good[..cut], &format!("cut at {cut}"));
        }
        let mut longer = good.clone();
        longer.push(0);
        check(&longer, "a byte appended");
        // Cut exactly after a chunk: the final chunk is missing.
        let second = layout.chunks[1].1 as usize;
        check(&good[..second], "cut after chunk 0");
        // Another spill id, or another account's keys, do not open it.
        std::fs::write(&path, &good).unwrap();
        assert_eq!(read_all(&path, &suite, 6, &layout, 0).unwrap_err().status(), 500);
        let other = CipherSuite::ephemeral(true);
        assert_eq!(read_all(&path, &other, 5, &layout, 0).unwrap_err().status(), 500);
        assert_eq!(read_all(&path, &suite, 5, &layout, 0).unwrap().unwrap(), all);
    }

    #[test]
    fn a_withheld_customer_key_refuses_the_spill() {
        let dir = tempfile::tempdir().unwrap();
        let suite = CipherSuite::ephemeral(true);
        let path = dir.path().join("s");
        let layout = write_spill(&path, &suite, 9, &results(10, 10)).unwrap();
        suite.customer_layer().withhold();
        let e = read_all(&path, &suite, 9, &layout, 0).unwrap_err();
        assert_eq!(
            (e.status(), e.substatus()),
            (403, crate::error::substatus::KEY_VAULT_ACCESS)
        );
        // The service layer alone does not make a single-layer reader of it.
        let service_only = CipherSuite::ephemeral(false);
        assert_eq!(read_all(&path, &service_only, 9, &layout, 0).unwrap(), None);
    }
}

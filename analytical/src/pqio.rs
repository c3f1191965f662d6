//! Encrypted Parquet files: the only place that sets writer and reader properties.
//! Uniform modular encryption (footer key only, encrypted footer, AES_GCM_V1), DataPage V1, zstd.
//! Knows nothing of merge, schema inference or the state file.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::Path;
use std::sync::Arc;

use arrow_array::RecordBatch;
use parquet::arrow::arrow_reader::{ArrowReaderOptions, ParquetRecordBatchReaderBuilder};
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::encryption::decrypt::FileDecryptionProperties;
use parquet::encryption::encrypt::FileEncryptionProperties;
use parquet::errors::ParquetError;
use parquet::file::metadata::PageIndexPolicy;
use parquet::file::properties::{WriterProperties, WriterVersion};
use sha2::{Digest, Sha256};

use crate::error::{AnalyticalError, Result};
use crate::fsutil;
use crate::key::AnalyticalKey;

/// First and last four bytes of a Parquet file with an encrypted footer.
const ENCRYPTED_MAGIC: &[u8; 4] = b"PARE";

/// Rows per row group; bounded so a reader never needs the whole file at once.
const MAX_ROW_GROUP_ROWS: usize = 128 * 1024;

fn parquet_err(file: &Path, source: ParquetError) -> AnalyticalError {
    // parquet-rs reports AEAD failures as general errors; name them for what they are.
    let msg = source.to_string().to_ascii_lowercase();
    if msg.contains("decrypt") || msg.contains("encrypted") || msg.contains("tag") {
        AnalyticalError::Decrypt {
            file: file.to_path_buf(),
        }
    } else {
        AnalyticalError::Parquet {
            file: file.to_path_buf(),
            source,
        }
    }
}

pub(crate) fn writer_properties(key: &AnalyticalKey) -> std::result::Result<WriterProperties, ParquetError> {
    // No footer key metadata and no column keys: uniform encryption, the reader supplies the key.
    // Plaintext-footer mode stays off (the default), so column names and statistics are sealed too.
    let encryption = FileEncryptionProperties::builder(key.parquet_key()).build()?;
    Ok(WriterProperties::builder()
        // PARQUET_1_0 writes DataPage V1; DuckDB cannot read encrypted DataPage V2 pages.
        .set_writer_version(WriterVersion::PARQUET_1_0)
        .set_compression(Compression::ZSTD(ZstdLevel::default()))
        .set_max_row_group_row_count(Some(MAX_ROW_GROUP_ROWS))
        .set_created_by("strata-analytical".to_string())
        .with_file_encryption_properties(encryption)
        .build())
}

/// SHA-256 of a whole file as written: the state file records it for every data file.
pub(crate) type FileDigest = [u8; 32];

/// A writer that hashes every byte on its way to the file.
struct HashingWriter {
    file: File,
    hasher: Sha256,
}

impl Write for HashingWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.file.write(buf)?;
        self.hasher.update(buf.get(..n).unwrap_or(buf));
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.file.flush()
    }
}

/// Writes `batch` to `path` atomically, encrypted under `key`; returns the file's SHA-256.
pub(crate) fn write_file(path: &Path, key: &AnalyticalKey, batch: &RecordBatch) -> Result<FileDigest> {
    let tmp = fsutil::tmp_path(path);
    let props = writer_properties(key).map_err(|e| parquet_err(path, e))?;
    let mut digest = FileDigest::default();
    fsutil::write_atomic(path, |file| {
        let sink = HashingWriter {
            file,
            hasher: Sha256::new(),
        };
        let mut writer =
            ArrowWriter::try_new(sink, batch.schema(), Some(props)).map_err(|e| parquet_err(&tmp, e))?;
        writer.write(batch).map_err(|e| parquet_err(&tmp, e))?;
        let sink = writer.into_inner().map_err(|e| parquet_err(&tmp, e))?;
        digest = sink.hasher.finalize().into();
        Ok(sink.file)
    })?;
    Ok(digest)
}

/// Checks a file against the digest recorded when it was written.
///
/// Parquet modular encryption authenticates every module's contents, but a few framing bytes (the
/// leading magic, the length prefixes of page modules) are not covered by a tag and parquet-rs
/// ignores them; the whole-file digest, kept in the sealed state file, makes every byte count.
pub(crate) fn verify_digest(path: &Path, expected: &FileDigest) -> Result<()> {
    let mut file = File::open(path).map_err(|e| AnalyticalError::io(path, e))?;
    let mut hasher = Sha256::new();
    std::io::copy(&mut file, &mut hasher).map_err(|e| AnalyticalError::io(path, e))?;
    let actual: FileDigest = hasher.finalize().into();
    if &actual != expected {
        return Err(AnalyticalError::Corrupt {
            file: path.to_path_buf(),
            detail: "file digest does not match the one recorded in STATE (altered or replaced)".into(),
        });
    }
    Ok(())
}

/// Reads every batch of an encrypted file. The page index is loaded too, so every encrypted
/// module of the file is authenticated, not only the ones a projection touches.
pub(crate) fn read_file(path: &Path, key: &AnalyticalKey) -> Result<Vec<RecordBatch>> {
    let mut file = File::open(path).map_err(|e| AnalyticalError::io(path, e))?;
    // Readers locate everything from the end of the file; check the leading magic too, so that no
    // byte of the file can change without an error.
    let mut magic = [0u8; 4];
    file.read_exact(&mut magic)
        .map_err(|e| AnalyticalError::io(path, e))?;
    if &magic != ENCRYPTED_MAGIC {
        return Err(AnalyticalError::Corrupt {
            file: path.to_path_buf(),
            detail: "not an encrypted-footer Parquet file (leading magic is not PARE)".into(),
        });
    }
    file.seek(SeekFrom::Start(0))
        .map_err(|e| AnalyticalError::io(path, e))?;
    let decryption = FileDecryptionProperties::builder(key.parquet_key())
        .build()
        .map_err(|e| parquet_err(path, e))?;
    let options = ArrowReaderOptions::new()
        .with_page_index_policy(PageIndexPolicy::Required)
        .with_file_decryption_properties(Arc::clone(&decryption));
    let reader = ParquetRecordBatchReaderBuilder::try_new_with_options(file, options)
        .and_then(|b| b.build())
        .map_err(|e| parquet_err(path, e))?;
    reader
        .map(|b| {
            b.map_err(|e| AnalyticalError::Parquet {
                file: path.to_path_buf(),
                source: e.into(),
            })
        })
        .collect()
}

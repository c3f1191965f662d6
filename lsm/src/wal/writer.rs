//! Appends sealed, framed records to one WAL file. Owned by the db's write path, which serialises
//! callers (requires external synchronisation). A file is never reopened for append: after a
//! restart the db starts a new file with a new salt, so record numbers (nonces) never repeat
//! under one file key.

use std::fs::File;
use std::path::{Path, PathBuf};

use super::format::{encode_frame, encode_record};
use crate::cipher::{BlockKind, CipherSuite, FileCipher, FileKind};
use crate::error::{Error, Result};
use crate::file_header::FileHeader;
use crate::format_version::{WAL_MAGIC, WAL_VERSION};
use strata_base::faults;
use strata_base::fs::{create_file, sync_dir};

pub(crate) struct WalWriter {
    id: u64,
    path: PathBuf,
    file: File,
    cipher: FileCipher,
    next_record: u64,
    /// Bytes of the header and of every complete frame appended so far: a shippable prefix.
    len: u64,
}

impl WalWriter {
    /// Creates `dir/<id>.wal` with its header, durably (file and directory entry).
    pub(crate) fn create(dir: &Path, id: u64, suite: &CipherSuite) -> Result<WalWriter> {
        let path = dir.join(wal_file_name(id));
        let (cipher, salt) = suite.new_file(FileKind::Wal, id);
        let header = FileHeader {
            version: WAL_VERSION,
            file_id: id,
            layers: cipher.layers(),
            salt,
        };
        let mut file = create_file(&path, false)?;
        let header = header.encode(WAL_MAGIC);
        faults::write_all(&mut file, &header, &path)
            .map_err(|e| Error::io_path("writing WAL header", &path, e))?;
        faults::sync_all(&file, &path).map_err(|e| Error::io_path("syncing", &path, e))?;
        sync_dir(dir)?;
        Ok(WalWriter {
            id,
            path,
            file,
            cipher,
            next_record: 0,
            len: header.len() as u64,
        })
    }

    pub(crate) fn id(&self) -> u64 {
        self.id
    }

    /// Length of the file up to the end of its last complete frame.
    pub(crate) fn complete_len(&self) -> u64 {
        self.len
    }

    /// The seal layers of this file.
    pub(crate) fn layers(&self) -> u8 {
        self.cipher.layers()
    }

    /// Seals and appends one batch (one record) committed at `commit_ms` (Unix ms). Not durable
    /// until `sync`. A seal refused with 403 (customer key withheld) leaves the file untouched
    /// and consumes no record number; any other error is an I/O error.
    pub fn append(&mut self, commit_ms: u64, first_seq: u64, ops: &[(&[u8], Option<&[u8]>)]) -> Result<()> {
        self.append_plain(encode_record(commit_ms, first_seq, ops))
    }

    /// Seals and appends `plain` as the next record, whatever it holds: `append`'s second half,
    /// and how the fuzz targets put arbitrary plaintext behind a valid seal (`crate::fuzzing`).
    pub(crate) fn append_plain(&mut self, plain: Vec<u8>) -> Result<()> {
        let sealed = self.cipher.seal(self.next_record, BlockKind::WalRecord, plain)?;
        // The record number is consumed even if the write fails: a retried write must not reuse
        // the nonce. (After a failed write the db is poisoned anyway.)
        self.next_record += 1;
        let frame = encode_frame(&sealed);
        faults::write_all(&mut self.file, &frame, &self.path)
            .map_err(|e| Error::io_path("appending to WAL", &self.path, e))?;
        self.len += frame.len() as u64;
        Ok(())
    }

    pub(crate) fn sync(&mut self) -> Result<()> {
        faults::sync_data(&self.file, &self.path).map_err(|e| Error::io_path("syncing WAL", &self.path, e))
    }
}

pub fn wal_file_name(id: u64) -> String {
    format!("{id:016}.wal")
}

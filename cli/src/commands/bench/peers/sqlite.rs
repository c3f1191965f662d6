//! SQLite through rusqlite, plain and SQLCipher: the library is SQLCipher's build, which does not
//! encrypt until given a key. Items as JSON text in a rowid table with a unique index on
//! (pk, id), loaded in transactions of `BATCH` rows and read by (pk, id) with a cached prepared
//! statement; WAL, synchronous=NORMAL, 64 MiB page cache. Used only by bench/peers.rs.

use std::path::Path;

use rusqlite::{params, Connection};
use serde_json::Value;

use super::{parse, Peer, CACHE_BYTES};
use crate::error::{CliError, CliResult};

/// Rows per load transaction.
const BATCH: usize = 1000;
const INSERT: &str = "INSERT INTO items (pk, id, body) VALUES (?1, ?2, ?3)";
const SELECT: &str = "SELECT body FROM items WHERE pk = ?1 AND id = ?2";

pub(super) struct Sqlite {
    conn: Connection,
    /// Rows inserted in the open transaction (0: none open).
    pending: usize,
}

impl Sqlite {
    /// Creates (`fresh`) or opens `dir/items.db`; with `key` (64 hex digits) encrypted by
    /// SQLCipher with that raw key (no passphrase derivation).
    pub(super) fn open(dir: &Path, key: Option<&str>, fresh: bool) -> CliResult<Sqlite> {
        let conn = Connection::open(dir.join("items.db")).map_err(err)?;
        if let Some(hex) = key {
            conn.execute_batch(&format!("PRAGMA key = \"x'{hex}'\";"))
                .map_err(err)?;
            let version: Option<String> = conn.query_row("PRAGMA cipher_version", [], |r| r.get(0)).ok();
            if version.is_none_or(|v| v.is_empty()) {
                return Err(CliError::internal("the SQLite library is not SQLCipher"));
            }
        }
        conn.execute_batch(&format!(
            "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA cache_size = -{};",
            CACHE_BYTES / 1024
        ))
        .map_err(err)?;
        if fresh {
            conn.execute_batch(
                "CREATE TABLE items (pk TEXT NOT NULL, id TEXT NOT NULL, body TEXT NOT NULL);
                 CREATE UNIQUE INDEX items_pk_id ON items (pk, id);",
            )
            .map_err(err)?;
        }
        Ok(Sqlite { conn, pending: 0 })
    }

    fn commit(&mut self) -> CliResult<()> {
        if self.pending > 0 {
            self.conn.execute_batch("COMMIT").map_err(err)?;
            self.pending = 0;
        }
        Ok(())
    }
}

impl Peer for Sqlite {
    fn put(&mut self, pk: &str, id: &str, body: &[u8]) -> CliResult<()> {
        let body = std::str::from_utf8(body)
            .map_err(|e| CliError::internal(format!("item {id} is not UTF-8 ({e})")))?;
        if self.pending == 0 {
            self.conn.execute_batch("BEGIN").map_err(err)?;
        }
        self.conn
            .prepare_cached(INSERT)
            .and_then(|mut st| st.execute(params![pk, id, body]))
            .map_err(err)?;
        self.pending += 1;
        if self.pending == BATCH {
            self.commit()?;
        }
        Ok(())
    }

    /// Commits the last batch and checkpoints the WAL into the database file (synced).
    fn finish_load(&mut self) -> CliResult<()> {
        self.commit()?;
        self.conn
            .execute_batch("PRAGMA wal_checkpoint(TRUNCATE);")
            .map_err(err)
    }

    fn get(&mut self, pk: &str, id: &str) -> CliResult<Option<Value>> {
        let mut st = self.conn.prepare_cached(SELECT).map_err(err)?;
        let mut rows = st.query(params![pk, id]).map_err(err)?;
        match rows.next().map_err(err)? {
            Some(row) => {
                let body = row.get_ref(0).and_then(|v| Ok(v.as_bytes()?)).map_err(err)?;
                parse(body).map(Some)
            }
            None => Ok(None),
        }
    }
}

/// Whether `dir/items.db` starts with SQLite's plaintext magic (SQLCipher encrypts the header
/// too): checks, outside the timings, that the SQLCipher peer really encrypts.
pub(super) fn has_plaintext_header(dir: &Path) -> CliResult<bool> {
    let path = dir.join("items.db");
    let mut head = [0u8; 16];
    std::fs::File::open(&path)
        .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut head))
        .map_err(|e| CliError::internal(format!("cannot read {} ({e})", path.display())))?;
    Ok(&head == b"SQLite format 3\0")
}

fn err(e: rusqlite::Error) -> CliError {
    CliError::internal(format!("sqlite: {e}"))
}

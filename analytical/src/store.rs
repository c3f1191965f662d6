//! `AnalyticalStore`: one container's analytical tier in one directory. Orchestrates schema
//! inference, encrypted Parquet files, the state file, merge on read, compaction and export.
//! Requires external synchronisation for `&mut self` methods (one writer); reads take `&self`.
//!
//! Layout: `DIR/STATE` (sealed state, the list of live files) and `DIR/data/<seq:016>.parquet`.

use std::fs;
use std::path::{Path, PathBuf};

use arrow_array::RecordBatch;
use arrow_schema::SchemaRef;
use serde_json::Value;

use crate::batch::{self, RowIn};
use crate::change::{Change, ChangeOp};
use crate::error::{AnalyticalError, Result};
use crate::fsutil;
use crate::key::AnalyticalKey;
use crate::pqio;
use crate::query::{self, QueryResult};
use crate::schema::{Schema, SchemaMode};
use crate::state::{DataFile, State, STATE_FILE};
use crate::ttl::AnalyticalTtl;

const DATA_DIR: &str = "data";
/// File name of the snapshot written by [`AnalyticalStore::export`].
pub const EXPORT_FILE: &str = "part-00000.parquet";

/// What one [`AnalyticalStore::apply`] call did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ApplyReport {
    /// Changes written (LSN above the applied LSN).
    pub applied: usize,
    /// Changes ignored because their LSN was already applied (replay).
    pub skipped: usize,
    /// Property values not stored: type conflicts (well-defined mode) or beyond the limits.
    pub dropped_values: u64,
    /// The data file written, if any.
    pub file: Option<PathBuf>,
}

/// One container's analytical store.
pub struct AnalyticalStore {
    dir: PathBuf,
    key: AnalyticalKey,
    state: State,
}

/// Shows no key material and no schema (property names are document data).
impl std::fmt::Debug for AnalyticalStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AnalyticalStore")
            .field("dir", &self.dir)
            .field("mode", &self.mode())
            .field("ttl", &self.state.ttl)
            .field("applied_lsn", &self.state.applied_lsn)
            .field("files", &self.state.files.len())
            .field("columns", &self.state.schema.columns().len())
            .finish_non_exhaustive()
    }
}

impl AnalyticalStore {
    /// Creates an empty store in `dir` (created if missing). 409 if a store is already there.
    pub fn create(
        dir: impl AsRef<Path>,
        key: AnalyticalKey,
        mode: SchemaMode,
        ttl: AnalyticalTtl,
    ) -> Result<Self> {
        let dir = dir.as_ref().to_path_buf();
        let state_path = dir.join(STATE_FILE);
        if state_path.exists() {
            return Err(AnalyticalError::AlreadyExists(dir));
        }
        let data = dir.join(DATA_DIR);
        fs::create_dir_all(&data).map_err(|e| AnalyticalError::io(&data, e))?;
        fsutil::sync_dir(&dir)?;
        let state = State::new(ttl, Schema::new(mode));
        state.save(&state_path, &key)?;
        Ok(AnalyticalStore { dir, key, state })
    }

    /// Opens the store in `dir`. 404 if there is none; 500 `Decrypt` if `key` is not its key.
    /// Files left over by an interrupted write or compaction are removed.
    pub fn open(dir: impl AsRef<Path>, key: AnalyticalKey) -> Result<Self> {
        let dir = dir.as_ref().to_path_buf();
        let state_path = dir.join(STATE_FILE);
        if !state_path.exists() {
            return Err(AnalyticalError::NotFound(dir));
        }
        let state = State::load(&state_path, &key)?;
        let store = AnalyticalStore { dir, key, state };
        store.remove_orphans()?;
        Ok(store)
    }

    /// Opens the store in `dir`, creating it if missing. 400 if it exists with another mode
    /// (the mode cannot change after creation); an existing store keeps its TTL.
    pub fn open_or_create(
        dir: impl AsRef<Path>,
        key: AnalyticalKey,
        mode: SchemaMode,
        ttl: AnalyticalTtl,
    ) -> Result<Self> {
        let dir = dir.as_ref();
        if !dir.join(STATE_FILE).exists() {
            return Self::create(dir, key, mode, ttl);
        }
        let store = Self::open(dir, key)?;
        if store.mode() != mode {
            return Err(AnalyticalError::BadRequest(format!(
                "the analytical schema mode is {:?} and cannot be changed to {:?}",
                store.mode(),
                mode
            )));
        }
        Ok(store)
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn mode(&self) -> SchemaMode {
        self.state.schema.mode()
    }

    pub fn ttl(&self) -> AnalyticalTtl {
        self.state.ttl
    }

    /// The inferred schema (user columns).
    pub fn schema(&self) -> &Schema {
        &self.state.schema
    }

    /// The Arrow schema of [`Self::scan`] output.
    pub fn arrow_schema(&self) -> SchemaRef {
        self.state.schema.arrow_schema(false)
    }

    /// The highest LSN applied; changes at or below it are ignored by [`Self::apply`].
    pub fn applied_lsn(&self) -> u64 {
        self.state.applied_lsn
    }

    /// The live data files, oldest first.
    pub fn files(&self) -> Vec<PathBuf> {
        self.state
            .files
            .iter()
            .map(|f| self.data_dir().join(&f.name))
            .collect()
    }

    /// Changes the analytical TTL (durably). It applies to reads from now on.
    pub fn set_ttl(&mut self, ttl: AnalyticalTtl) -> Result<()> {
        let mut next = self.state.clone();
        next.ttl = ttl;
        self.commit(next)
    }

    /// Appends `changes` as one Parquet file and advances the applied LSN. Changes with an LSN at
    /// or below the applied LSN are skipped, so replaying a feed is harmless. The whole call is
    /// validated first: an upsert without an object document or an LSN above `i64::MAX` is a 400
    /// and nothing is written.
    pub fn apply(&mut self, changes: &[Change]) -> Result<ApplyReport> {
        for c in changes {
            if i64::try_from(c.lsn).is_err() {
                return Err(AnalyticalError::BadRequest(format!(
                    "LSN {} exceeds i64::MAX",
                    c.lsn
                )));
            }
            if c.op == ChangeOp::Upsert && !matches!(c.doc, Some(Value::Object(_))) {
                return Err(AnalyticalError::BadRequest(format!(
                    "upsert at LSN {} has no JSON object document",
                    c.lsn
                )));
            }
        }
        let applied_before = self.state.applied_lsn;
        let fresh: Vec<&Change> = changes.iter().filter(|c| c.lsn > applied_before).collect();
        let mut report = ApplyReport {
            skipped: changes.len() - fresh.len(),
            ..ApplyReport::default()
        };
        let Some(max_lsn) = fresh.iter().map(|c| c.lsn).max() else {
            return Ok(report);
        };
        report.applied = fresh.len();
        let mut next = self.state.clone();
        next.applied_lsn = max_lsn;
        if self.state.ttl != AnalyticalTtl::Off {
            let mut rows = Vec::with_capacity(fresh.len());
            for c in &fresh {
                let mut cells = Vec::new();
                if let (ChangeOp::Upsert, Some(Value::Object(doc))) = (c.op, &c.doc) {
                    report.dropped_values += next.schema.flatten(doc, &mut cells);
                }
                rows.push(RowIn {
                    id: c.id.clone(),
                    pk: c.partition_key.to_string(),
                    // Checked above.
                    lsn: i64::try_from(c.lsn).unwrap_or(i64::MAX),
                    ts: c.ts,
                    deleted: c.op == ChangeOp::Delete,
                    cells,
                });
            }
            let batch = batch::build_batch(&next.schema, &rows)?;
            let name = format!("{:016}.parquet", next.next_file);
            next.next_file += 1;
            let path = self.data_dir().join(&name);
            let digest = pqio::write_file(&path, &self.key, &batch)?;
            next.files.push(DataFile::new(name, &digest));
            report.file = Some(path);
        }
        self.commit(next)?;
        Ok(report)
    }

    /// Merge on read at `now_secs`: the latest version of every live item, ordered by
    /// (partition key, id), in one batch with the columns of [`Self::arrow_schema`].
    pub fn scan(&self, now_secs: i64) -> Result<RecordBatch> {
        batch::without_deleted(&self.merged(now_secs)?)
    }

    /// Runs a query of the supported SQL subset (see [`crate::query`]) over [`Self::scan`].
    pub fn query(&self, sql: &str, now_secs: i64) -> Result<QueryResult> {
        let parsed = query::parse(sql)?;
        let rows = self.scan(now_secs)?;
        query::execute(&parsed, &self.state.schema, &rows)
    }

    /// Rewrites all live rows into one file and removes the old files. The new file is durable
    /// before the state switches to it; a crash at any point leaves a readable store (leftovers
    /// are removed on the next open). Deleted and expired items are physically dropped.
    pub fn compact(&mut self, now_secs: i64) -> Result<()> {
        if self.state.files.is_empty() {
            return Ok(());
        }
        let merged = self.merged(now_secs)?;
        let old = self.files();
        let mut next = self.state.clone();
        next.files.clear();
        if merged.num_rows() > 0 {
            let name = format!("{:016}.parquet", next.next_file);
            next.next_file += 1;
            let digest = pqio::write_file(&self.data_dir().join(&name), &self.key, &merged)?;
            next.files.push(DataFile::new(name, &digest));
        }
        self.commit(next)?;
        for path in old {
            fs::remove_file(&path).map_err(|e| AnalyticalError::io(&path, e))?;
        }
        fsutil::sync_dir(&self.data_dir())
    }

    /// Writes a compacted snapshot (live rows at `now_secs`, without `_deleted`) to
    /// `out_dir/part-00000.parquet`, encrypted with the store's key. Returns the file path.
    pub fn export(&self, out_dir: impl AsRef<Path>, now_secs: i64) -> Result<PathBuf> {
        let out_dir = out_dir.as_ref();
        fs::create_dir_all(out_dir).map_err(|e| AnalyticalError::io(out_dir, e))?;
        let rows = self.scan(now_secs)?;
        let path = out_dir.join(EXPORT_FILE);
        pqio::write_file(&path, &self.key, &rows)?;
        Ok(path)
    }

    fn data_dir(&self) -> PathBuf {
        self.dir.join(DATA_DIR)
    }

    fn merged(&self, now_secs: i64) -> Result<RecordBatch> {
        let target = self.state.schema.arrow_schema(true);
        let mut batches = Vec::new();
        for file in &self.state.files {
            let path = self.data_dir().join(&file.name);
            let digest = file.digest().ok_or_else(|| AnalyticalError::Corrupt {
                file: self.dir.join(STATE_FILE),
                detail: format!("malformed digest for {}", file.name),
            })?;
            pqio::verify_digest(&path, &digest)?;
            for b in pqio::read_file(&path, &self.key)? {
                let aligned = batch::align(&b, &target).map_err(|detail| AnalyticalError::Corrupt {
                    file: path.clone(),
                    detail,
                })?;
                batches.push(aligned);
            }
        }
        batch::merge(&target, &batches, self.state.ttl, now_secs)
    }

    fn commit(&mut self, next: State) -> Result<()> {
        next.save(&self.dir.join(STATE_FILE), &self.key)?;
        self.state = next;
        Ok(())
    }

    fn remove_orphans(&self) -> Result<()> {
        let data = self.data_dir();
        let entries = fs::read_dir(&data).map_err(|e| AnalyticalError::io(&data, e))?;
        let mut removed = false;
        for entry in entries {
            let entry = entry.map_err(|e| AnalyticalError::io(&data, e))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if !self.state.files.iter().any(|f| f.name == name) {
                fs::remove_file(entry.path()).map_err(|e| AnalyticalError::io(entry.path(), e))?;
                removed = true;
            }
        }
        let state_tmp = fsutil::tmp_path(&self.dir.join(STATE_FILE));
        if state_tmp.exists() {
            fs::remove_file(&state_tmp).map_err(|e| AnalyticalError::io(&state_tmp, e))?;
        }
        if removed {
            fsutil::sync_dir(&data)?;
        }
        Ok(())
    }
}

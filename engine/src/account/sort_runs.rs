//! The sort runs of one query: the `RunStore` a query's `Collector` writes its sorted runs to
//! when an ORDER BY sorted outside the index passes its memory budget, as sealed files in the
//! spill directory (`spill_registry.rs`, format in query_spill.rs). Owns the runs' lifetime
//! within the query: each is deleted when the store is dropped, that is when the merge is done
//! or the query failed. Must not sort nor merge (that is `query/sort_merge.rs`).

use serde_json::Value;

use super::query_spill::SpillLayout;
use super::spill_registry::Spills;
use crate::error::Result;
use crate::query::{RunReader, RunStore};
use strata_lsm::CipherSuite;

/// The runs one query wrote, by id, with their layouts.
pub(crate) struct SortRuns<'a> {
    spills: &'a Spills,
    suite: &'a CipherSuite,
    runs: Vec<(u64, SpillLayout)>,
}

impl<'a> SortRuns<'a> {
    pub(crate) fn new(spills: &'a Spills, suite: &'a CipherSuite) -> SortRuns<'a> {
        SortRuns {
            spills,
            suite,
            runs: Vec::new(),
        }
    }
}

impl RunStore for SortRuns<'_> {
    fn write_run(&mut self, records: &mut dyn Iterator<Item = Value>) -> Result<()> {
        let run = self.spills.write_run(self.suite, records)?;
        self.runs.push(run);
        Ok(())
    }

    fn open_runs(&mut self) -> Result<Vec<RunReader>> {
        self.runs
            .iter()
            .map(|(id, layout)| {
                let mut reader = self.spills.open_run(self.suite, *id, layout)?;
                Ok(Box::new(std::iter::from_fn(move || {
                    reader.next_result().map(|r| r.map(|(v, _)| v)).transpose()
                })) as RunReader)
            })
            .collect()
    }
}

impl Drop for SortRuns<'_> {
    fn drop(&mut self) {
        for (id, _) in self.runs.drain(..) {
            self.spills.drop_run(id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::substatus;
    use crate::query::{Collector, Prepared};
    use serde_json::json;
    use strata_lsm::CipherSuite;

    fn run_files(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
        std::fs::read_dir(dir.join(super::super::spill_registry::SPILL_DIR))
            .map(|d| {
                d.map(|e| e.unwrap().path())
                    .filter(|p| p.extension().is_some_and(|e| e == "run"))
                    .collect()
            })
            .unwrap_or_default()
    }

    fn docs(n: usize) -> impl Iterator<Item = (Vec<u8>, Value)> {
        (0..n).map(move |i| {
            let key = (i as u32).to_be_bytes().to_vec();
            (
                key,
                json!({"id": format!("RUNCANARY-{i:05}"), "n": (i * 7919) % n, "pad": "p".repeat(50)}),
            )
        })
    }

    /// Runs are sealed files in the spill directory, read back by the merge in order, with no
    /// plaintext, and gone once the merge is dropped.
    #[test]
    fn runs_are_sealed_merged_and_deleted() {
        let dir = tempfile::tempdir().unwrap();
        for cmk in [false, true] {
            let suite = CipherSuite::ephemeral(cmk);
            let spills = Spills::open(dir.path(), Default::default()).unwrap();
            let p = Prepared::new("SELECT VALUE c.id FROM c ORDER BY c.n DESC", &[]).unwrap();
            let mut c = Collector::new(&p)
                .unwrap()
                .with_runs(Box::new(SortRuns::new(&spills, &suite)), 4096);
            for (key, doc) in docs(2000) {
                c.push(&key, doc).unwrap();
            }
            let files = run_files(dir.path());
            assert!(files.len() > 10, "{} runs", files.len());
            for f in &files {
                let bytes = std::fs::read(f).unwrap();
                assert!(!bytes.windows(10).any(|w| w == b"RUNCANARY-"), "runs are sealed");
                #[cfg(unix)]
                {
                    use std::os::unix::fs::PermissionsExt;
                    assert_eq!(std::fs::metadata(f).unwrap().permissions().mode() & 0o777, 0o600);
                }
            }
            let merged: Vec<Value> = c.finish_stream().unwrap().collect::<Result<_>>().unwrap();
            let want: Vec<Value> = (0..2000usize)
                .rev()
                .map(|n| {
                    json!(format!(
                        "RUNCANARY-{:05}",
                        (0..2000).find(|i| (i * 7919) % 2000 == n).unwrap()
                    ))
                })
                .collect();
            assert_eq!(merged, want);
            assert!(run_files(dir.path()).is_empty(), "runs deleted after the merge");
        }
    }

    /// A run with one byte flipped is an error, never data; the runs go all the same.
    #[test]
    fn a_damaged_run_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let suite = CipherSuite::ephemeral(false);
        let spills = Spills::open(dir.path(), Default::default()).unwrap();
        let p = Prepared::new("SELECT VALUE c.id FROM c ORDER BY c.n", &[]).unwrap();
        for at in [3usize, 60, 200] {
            let mut c = Collector::new(&p)
                .unwrap()
                .with_runs(Box::new(SortRuns::new(&spills, &suite)), 8192);
            for (key, doc) in docs(500) {
                c.push(&key, doc).unwrap();
            }
            let files = run_files(dir.path());
            let victim = &files[files.len() / 2];
            let mut bytes = std::fs::read(victim).unwrap();
            let i = at.min(bytes.len() - 1);
            bytes[i] ^= 0x20;
            std::fs::write(victim, bytes).unwrap();
            let result: Result<Vec<Value>> = c.finish_stream().and_then(|m| m.collect());
            assert_eq!(result.unwrap_err().status(), 500, "flip at {at}");
            assert!(run_files(dir.path()).is_empty());
        }
    }

    /// A customer key withheld while the sort writes or merges its runs refuses the query with
    /// 403.4002, as every read; its runs are deleted.
    #[test]
    fn a_withheld_key_refuses_the_sort() {
        let dir = tempfile::tempdir().unwrap();
        let p = Prepared::new("SELECT VALUE c.id FROM c ORDER BY c.n", &[]).unwrap();
        let refused = |e: crate::error::Error| {
            assert_eq!(
                (e.status(), e.substatus()),
                (403, substatus::KEY_VAULT_ACCESS),
                "{e}"
            );
        };
        // Withheld while the runs are written.
        let suite = CipherSuite::ephemeral(true);
        let spills = Spills::open(dir.path(), Default::default()).unwrap();
        let mut c = Collector::new(&p)
            .unwrap()
            .with_runs(Box::new(SortRuns::new(&spills, &suite)), 4096);
        let mut failed = None;
        for (i, (key, doc)) in docs(500).enumerate() {
            if i == 250 {
                suite.customer_layer().withhold();
            }
            if let Err(e) = c.push(&key, doc) {
                failed = Some(e);
                break;
            }
        }
        refused(failed.expect("a run written after the withhold fails"));
        drop(c);
        assert!(run_files(dir.path()).is_empty());
        // Withheld before the merge reads them.
        let suite = CipherSuite::ephemeral(true);
        let mut c = Collector::new(&p)
            .unwrap()
            .with_runs(Box::new(SortRuns::new(&spills, &suite)), 4096);
        for (key, doc) in docs(500) {
            c.push(&key, doc).unwrap();
        }
        suite.customer_layer().withhold();
        let result: Result<Vec<Value>> = c.finish_stream().and_then(|m| m.collect());
        refused(result.unwrap_err());
        assert!(run_files(dir.path()).is_empty());
    }

    /// Runs past their byte cap fail the query with 400 and leave no file.
    #[test]
    fn runs_over_their_cap_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let suite = CipherSuite::ephemeral(false);
        let limits = crate::account::spill_registry::SpillLimits {
            max_run_bytes: 20_000,
            ..Default::default()
        };
        let spills = Spills::open(dir.path(), limits).unwrap();
        let p = Prepared::new("SELECT * FROM c ORDER BY c.n", &[]).unwrap();
        let mut c = Collector::new(&p)
            .unwrap()
            .with_runs(Box::new(SortRuns::new(&spills, &suite)), 4096);
        let e = docs(2000).find_map(|(key, doc)| c.push(&key, doc).err()).unwrap();
        assert_eq!(e.status(), 400, "{e}");
        drop(c);
        assert!(run_files(dir.path()).is_empty());
    }
}

//! One mode's account and container in the bench's temporary directory: created with the
//! service-managed or a customer-managed key, and reopened cold for `read-cold` (closed, its
//! files evicted from the page cache, opened again). Public engine API only; it must not time
//! anything or read the engine's files other than to evict them.

use std::path::{Path, PathBuf};
use std::time::Duration;

use strata_engine::vault::VaultHome;
use strata_engine::{Account, AccountOptions, Container, ContainerOptions, Encryption, IndexingPolicy};

use super::sys::evict_page_cache;
use super::Mode;
use crate::args::Globals;
use crate::error::{CliError, CliResult};

const KEY_BITS: usize = 2048;
/// The bench container's default indexing policy (`--index-policy default`): everything but the padding (a user would not index
/// a blob of filler either; it would add a 512-byte entry per item).
pub(super) const BENCH_POLICY: &str =
    r#"{"includedPaths": [{"path": "/*"}], "excludedPaths": [{"path": "/pad/?"}]}"#;
/// How long a reopen waits for the previous handle's directory lock to be released.
const REOPEN_PATIENCE: Duration = Duration::from_secs(5);

/// The SMK store in slot 0 and the CMK store in slot 1; `None` where `--stores` left one out.
pub(super) type Sides = [Option<Side>; 2];

/// The store in slot `i` (0 SMK, 1 CMK), or `None` when this run has none there.
pub(super) fn present(sides: &Sides, i: usize) -> Option<&Side> {
    sides.get(i).and_then(Option::as_ref)
}

pub(super) struct Side {
    pub account: Account,
    pub items: Container,
    pub data: PathBuf,
    opts: AccountOptions,
}

impl Side {
    /// Creates `root/<mode>/` with an account (a block cache of `cache_bytes`), a database and
    /// the `items` container under `policy`.
    pub fn create(
        g: &Globals,
        root: &Path,
        mode: Mode,
        policy: &IndexingPolicy,
        cache_bytes: usize,
    ) -> CliResult<Side> {
        let dir = root.join(mode.label().to_lowercase());
        let data = dir.join("data");
        let opts = AccountOptions::new(&data, dir.join("home"))
            .durability(g.durability.into())
            .cache_bytes(cache_bytes);
        let encryption = match mode {
            Mode::Smk => Encryption::ServiceManaged,
            Mode::Cmk => {
                let vault = VaultHome::new(&opts.home).open_local(None)?;
                let uri = vault.create_key("bench-key", KEY_BITS)?;
                Encryption::CustomerManaged {
                    key_uri: uri.to_string(),
                }
            }
        };
        let account = Account::create(opts.clone(), "bench", encryption)?;
        let items = account.create_database("bench")?.create_container_with(
            "items",
            "/pk",
            ContainerOptions {
                indexing_policy: Some(policy.clone()),
                ..ContainerOptions::default()
            },
        )?;
        Ok(Side {
            account,
            items,
            data,
            opts,
        })
    }

    /// Closes the account (its drop syncs the log and joins the background thread), evicts every
    /// file under its data directory from the OS page cache, and opens it again: an empty block
    /// cache and no data pages in memory, as after a restart with a cold page cache.
    pub fn reopen_cold(self) -> CliResult<Side> {
        let Side {
            account,
            items,
            data,
            opts,
        } = self;
        drop(items);
        drop(account);
        evict_page_cache(&data).map_err(|e| {
            CliError::internal(format!(
                "cannot evict {} from the page cache ({e})",
                data.display()
            ))
        })?;
        let started = std::time::Instant::now();
        let account = loop {
            match Account::open(opts.clone()) {
                // The last handle's close may finish on another thread a moment later.
                Err(e) if e.status() == 423 && started.elapsed() < REOPEN_PATIENCE => {
                    std::thread::sleep(Duration::from_millis(10));
                }
                other => break other?,
            }
        };
        let items = account.database("bench").container("items");
        Ok(Side {
            account,
            items,
            data,
            opts,
        })
    }
}

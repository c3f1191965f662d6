//! What an account holds, for listings (`strata ls`): `Account::catalog_at` reads the databases
//! and containers with their settings from the catalog with the service key only (plaintext
//! metadata by contract, so it works while the customer key is revoked), and
//! `Container::stats` counts a container's live items and their bytes by scanning them.
//! Read-only; charges no request units.

use super::analytical::AnalyticalSettings;
use super::container::{parse_stored, public_size, Container};
use super::handle::{Account, Encryption};
use super::keys::open_service;
use crate::catalog::Catalog;
use crate::document::{container_prefix, ConflictResolutionPolicy};
use crate::error::{Error, Result};
use crate::index::encode::prefix_end;
use crate::options::AccountOptions;
use strata_lsm::CipherSuite;

/// Items read per step of `Container::stats`: bounds its memory, not its time.
const STATS_CHUNK: usize = 1024;

/// A container's item count and size, as `Container::stats` computes them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ContainerStats {
    /// Live items (expired ones, see TTL, do not count).
    pub item_count: u64,
    /// The items' JSON size with their system properties, as reads return them and charges
    /// count them: the logical size, not the (compressed, encrypted) bytes on disk.
    pub bytes: u64,
}

/// One container as the catalog describes it.
#[derive(Clone, Debug, PartialEq)]
pub struct ContainerListing {
    pub name: String,
    /// The first (for a `Hash` key, the only) partition-key path.
    pub partition_key_path: String,
    /// Every path: one, or two or three for a hierarchical (`MultiHash`) key.
    pub partition_key_paths: Vec<String>,
    /// The container's own RU/s (`None`: its database's shared throughput, else unlimited).
    pub throughput: Option<u32>,
    /// `defaultTtl`: `None` = TTL off, `-1` = on without a default, n = seconds.
    pub default_ttl: Option<i64>,
    pub conflict_resolution_policy: ConflictResolutionPolicy,
    /// The analytical tier's settings, `None` while it is off.
    pub analytical: Option<AnalyticalSettings>,
    /// The URI of the container's own customer key (from KEYRING); `None`: the account's keys.
    pub customer_key: Option<String>,
}

/// One database as the catalog describes it.
#[derive(Clone, Debug, PartialEq)]
pub struct DatabaseListing {
    pub name: String,
    /// RU/s shared by the containers without their own (`None`: unlimited).
    pub throughput: Option<u32>,
    pub containers: Vec<ContainerListing>,
}

/// An account's catalog: its name, encryption mode, databases and containers.
#[derive(Clone, Debug, PartialEq)]
pub struct AccountListing {
    pub account: String,
    pub encryption: Encryption,
    pub databases: Vec<DatabaseListing>,
}

impl Account {
    /// The catalog of the account in `opts.data_dir`, read and authenticated with the service
    /// key only: works while the customer key is revoked (names, partition-key paths and
    /// settings are plaintext metadata by contract), and takes no lock, so it also works while
    /// another process has the account open. 404 if there is no account, 403.x if the service
    /// key store refuses, 500 if the catalog is damaged.
    pub fn catalog_at(opts: &AccountOptions) -> Result<AccountListing> {
        let data_dir = &opts.data_dir;
        let missing = || {
            Error::NotFound(format!(
                "no account at {}; create one with `strata init`",
                data_dir.display()
            ))
        };
        if !Catalog::exists(data_dir) {
            return Err(missing());
        }
        let (ring, service) = open_service(opts, data_dir)?;
        let catalog = Catalog::read(data_dir, &CipherSuite::new(service, None))?.ok_or_else(missing)?;
        let own_key = |id: u32| {
            ring.containers
                .iter()
                .find(|e| e.container_id == id)
                .map(|e| e.key_uri.clone())
        };
        let databases = catalog
            .databases
            .iter()
            .map(|d| DatabaseListing {
                name: d.name.clone(),
                throughput: d.throughput,
                containers: d
                    .containers
                    .iter()
                    .map(|c| ContainerListing {
                        name: c.name.clone(),
                        partition_key_path: c.partition_key_path.clone(),
                        partition_key_paths: c.pk_paths(),
                        throughput: c.throughput,
                        default_ttl: c.default_ttl,
                        conflict_resolution_policy: c.conflict_policy.clone().unwrap_or_default(),
                        analytical: c.analytical,
                        customer_key: own_key(c.id),
                    })
                    .collect(),
            })
            .collect();
        Ok(AccountListing {
            encryption: match catalog.key_uri {
                Some(key_uri) => Encryption::CustomerManaged { key_uri },
                None => Encryption::ServiceManaged,
            },
            account: catalog.account,
            databases,
        })
    }
}

impl Container {
    /// The container's live item count and their size, by reading every item: O(items) time
    /// (memory is bounded: the scan goes in steps of 1024 items, each on the then-current
    /// state, so writes during the call may or may not be counted). Expired items (TTL) do not
    /// count. Charges nothing and draws nothing from the provisioned throughput. 404 if the
    /// container does not exist, 403.x while the account's customer key is revoked.
    pub fn stats(&self) -> Result<ContainerStats> {
        let r = self.resolve()?;
        let prefix = container_prefix(r.id);
        // The container prefix starts with the item tag, so it is never all 0xFF.
        let end = prefix_end(&prefix).unwrap_or_default();
        let mut start = prefix.clone();
        let mut stats = ContainerStats::default();
        loop {
            let chunk = self
                .inner
                .store_for(r.id)?
                .scan_range(&start, &end, STATS_CHUNK)?;
            let full = chunk.len() == STATS_CHUNK;
            for (_, bytes) in &chunk {
                let doc = parse_stored(bytes)?;
                if self.is_live(&r, &doc) {
                    stats.item_count += 1;
                    stats.bytes += public_size(bytes.len(), &doc) as u64;
                }
            }
            match chunk.into_iter().next_back() {
                // The smallest key after the last one read.
                Some((mut last, _)) if full => {
                    last.push(0);
                    start = last;
                }
                _ => return Ok(stats),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use serde_json::{json, Value};

    use super::*;
    use crate::account::{ContainerOptions, Encryption};
    use crate::options::Durability;
    use strata_base::wall_clock::ManualWallClock;

    #[test]
    fn stats_count_live_items_and_their_bytes_and_the_catalog_reads_without_opening() {
        let dir = tempfile::tempdir().unwrap();
        let clock = ManualWallClock::at(1_700_000_000);
        let opts = AccountOptions::new(dir.path().join("data"), dir.path().join("home"))
            .durability(Durability::Buffered)
            .wall_clock(Arc::new(clock.clone()));
        let account = Account::create(opts.clone(), "acct", Encryption::ServiceManaged).unwrap();
        let db = account.create_database("d").unwrap();
        let c = db
            .create_container_with(
                "c",
                "/pk",
                ContainerOptions {
                    default_ttl: Some(-1),
                    ..Default::default()
                },
            )
            .unwrap();
        let other = db.create_container("other", "/pk").unwrap();
        assert_eq!(c.stats().unwrap(), ContainerStats::default());

        // More than one scan step, in two partitions, plus one item that expires.
        let mut bytes = 0u64;
        for i in 0..(STATS_CHUNK + 10) {
            let pk = if i % 2 == 0 { "a" } else { "b" };
            let r = c
                .create_item(pk, &json!({"id": format!("i{i}"), "pk": pk}))
                .unwrap();
            bytes += serde_json::to_vec(&r.item.unwrap()).unwrap().len() as u64;
        }
        other.create_item("a", &json!({"id": "x", "pk": "a"})).unwrap();
        c.create_item("a", &json!({"id": "short-lived", "pk": "a", "ttl": 5}))
            .unwrap();
        let read: Value = c.read_item("a", "i0").unwrap().item.unwrap();
        assert!(read.get("_lsn").is_none());
        clock.advance(10);
        let s = c.stats().unwrap();
        assert_eq!(s.item_count, (STATS_CHUNK + 10) as u64);
        assert_eq!(s.bytes, bytes, "the size of the items as reads return them");
        assert_eq!(other.stats().unwrap().item_count, 1);
        account.flush().unwrap();
        assert_eq!(c.stats().unwrap(), s, "the same after a flush to segments");
        assert_eq!(db.container("nope").stats().unwrap_err().status(), 404);

        // The catalog reads while the account is open elsewhere (no lock taken).
        let listing = Account::catalog_at(&opts).unwrap();
        assert_eq!(listing.account, "acct");
        assert_eq!(listing.encryption, Encryption::ServiceManaged);
        let names: Vec<(&str, &str, Option<i64>)> = listing.databases[0]
            .containers
            .iter()
            .map(|c| (c.name.as_str(), c.partition_key_path.as_str(), c.default_ttl))
            .collect();
        assert_eq!(names, [("c", "/pk", Some(-1)), ("other", "/pk", None)]);
        let empty = AccountOptions::new(dir.path().join("none"), dir.path().join("home"));
        assert_eq!(Account::catalog_at(&empty).unwrap_err().status(), 404);
    }
}

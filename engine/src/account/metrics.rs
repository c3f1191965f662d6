//! Charging an operation to its container: the provisioned-throughput check (429) and the
//! container's metrics in one place, so no charge is taken without being counted. Also the
//! metrics API (`Container::metrics`, `Account::metrics`), and the lifetime counts kept across
//! sessions (`lifetime_metrics`, stored as the account closes). See docs/ru-model.md#metrics.

use super::container::{Container, Resolved};
use super::handle::{Account, AccountInner};
use crate::error::{Error, Result};
use crate::keyspace::KeySpace;
use crate::metering::ContainerMetrics;
use crate::options::Durability;
use strata_lsm::WriteBatch;

impl Container {
    /// Takes `ru` for an operation whose charge is known before it runs (429 otherwise, counted).
    pub(crate) fn charge(&self, r: &Resolved, ru: f64) -> Result<()> {
        let t = &self.inner.throttles;
        match t.try_charge(r.throughput.as_ref(), ru) {
            Ok(()) => self.inner.metrics.charged(r.id, ru, t.now()),
            Err(e) => self.count_throttled(r, e),
        }
    }

    /// Admits an operation charged after it runs (429 while the bucket is spent, counted).
    pub(crate) fn admit(&self, r: &Resolved) -> Result<()> {
        match self.inner.throttles.admit(r.throughput.as_ref()) {
            Ok(()) => Ok(()),
            Err(e) => self.count_throttled(r, e),
        }
    }

    /// Takes the charge of an admitted operation.
    pub(crate) fn debit(&self, r: &Resolved, ru: f64) -> Result<()> {
        let t = &self.inner.throttles;
        t.debit(r.throughput.as_ref(), ru)?;
        self.inner.metrics.charged(r.id, ru, t.now())
    }

    fn count_throttled(&self, r: &Resolved, e: Error) -> Result<()> {
        if e.status() == 429 {
            self.inner.metrics.throttled(r.id)?;
        }
        Err(e)
    }

    /// What this container has been charged since the account was opened (in memory: a new
    /// process starts from zero). 404 if the container does not exist.
    pub fn metrics(&self) -> Result<ContainerMetrics> {
        let id = self
            .inner
            .catalog()?
            .container(self.database_name(), self.name())?
            .id;
        self.inner.metrics.snapshot(id, self.inner.throttles.now())
    }
}

impl Account {
    /// Time and bytes this account's files have spent sealing and opening blocks since it was
    /// opened (every layer; background flushes and compactions included). For benchmarks.
    pub fn crypto_stats(&self) -> strata_lsm::CryptoStats {
        self.inner.suite.crypto_stats()
    }

    /// `(database, container, metrics)` for every container, in catalog order.
    pub fn metrics(&self) -> Result<Vec<(String, String, ContainerMetrics)>> {
        let names: Vec<(String, String)> = self
            .inner
            .catalog()?
            .databases
            .iter()
            .flat_map(|d| d.containers.iter().map(|c| (d.name.clone(), c.name.clone())))
            .collect();
        names
            .into_iter()
            .map(|(db, c)| {
                let m = self.database(&db).container(&c).metrics()?;
                Ok((db, c, m))
            })
            .collect()
    }
}

/// `KeySpace::LifetimeMetrics | container_id`: the container's counts from earlier sessions
/// (sealed like every key).
fn lifetime_key(container_id: u32) -> Vec<u8> {
    KeySpace::LifetimeMetrics.container_prefix(container_id)
}

/// `total_ru: f64 bits BE | operations: u64 BE | throttled: u64 BE`.
fn decode_lifetime(bytes: &[u8]) -> Result<(f64, u64, u64)> {
    let word = |i: usize| {
        bytes
            .get(i * 8..i * 8 + 8)
            .and_then(|b| b.try_into().ok())
            .map(u64::from_be_bytes)
            .ok_or_else(|| Error::Internal("a container's lifetime metrics record is damaged".into()))
    };
    Ok((f64::from_bits(word(0)?), word(1)?, word(2)?))
}

fn encode_lifetime((ru, ops, throttled): (f64, u64, u64)) -> Vec<u8> {
    let mut v = Vec::with_capacity(24);
    v.extend_from_slice(&ru.to_bits().to_be_bytes());
    v.extend_from_slice(&ops.to_be_bytes());
    v.extend_from_slice(&throttled.to_be_bytes());
    v
}

impl AccountInner {
    /// Adds this session's counts to each container's stored lifetime counts; called as the
    /// account closes. Best effort by nature: a crash loses the session's counts. Containers
    /// deleted during the session are skipped: their keys are gone (purge.rs) and must stay so.
    pub(crate) fn persist_metrics(&self) -> Result<()> {
        let live: std::collections::HashSet<u32> = self
            .catalog()?
            .databases
            .iter()
            .flat_map(|d| d.containers.iter().map(|c| c.id))
            .collect();
        // One batch per store (containers sharing the account's store share one write).
        let mut batches: Vec<(std::sync::Arc<strata_lsm::db::Db>, WriteBatch)> = Vec::new();
        let mut refused = None;
        for (id, ru, ops, throttled) in self.metrics.totals()? {
            if (ops == 0 && throttled == 0) || !live.contains(&id) {
                continue;
            }
            // A container whose own key is refused keeps its session's counts unrecorded; the
            // others are still written.
            let store = match self.store_for(id) {
                Ok(s) => s,
                Err(e) => {
                    refused.get_or_insert(e);
                    continue;
                }
            };
            let key = lifetime_key(id);
            let (r0, o0, t0) = match store.get(&key)? {
                Some(b) => decode_lifetime(&b)?,
                None => (0.0, 0, 0),
            };
            let i = match batches
                .iter()
                .position(|(s, _)| std::sync::Arc::ptr_eq(s, &store))
            {
                Some(i) => i,
                None => {
                    batches.push((store, WriteBatch::new()));
                    batches.len() - 1
                }
            };
            if let Some((_, batch)) = batches.get_mut(i) {
                batch.put(key, encode_lifetime((r0 + ru, o0 + ops, t0 + throttled)));
            }
        }
        for (store, batch) in batches {
            store.write(batch, Durability::Sync)?;
        }
        refused.map_or(Ok(()), Err)
    }
}

impl Container {
    /// What this container has been charged over its life: the counts of earlier sessions (kept
    /// when an account closes) plus this session's; RU/s over the last minute is this session's.
    pub fn lifetime_metrics(&self) -> Result<ContainerMetrics> {
        let now = self.metrics()?;
        let id = self.resolve()?.id;
        let (ru, ops, throttled) = match self.inner.store_for(id)?.get(&lifetime_key(id))? {
            Some(b) => decode_lifetime(&b)?,
            None => (0.0, 0, 0),
        };
        Ok(ContainerMetrics {
            total_ru: ((ru + now.total_ru) * 100.0).round() / 100.0,
            operations: ops + now.operations,
            throttled: throttled + now.throttled,
            ru_per_sec_last_minute: now.ru_per_sec_last_minute,
        })
    }
}

impl Account {
    /// `(database, container, lifetime metrics)` for every container, in catalog order.
    pub fn lifetime_metrics(&self) -> Result<Vec<(String, String, ContainerMetrics)>> {
        self.metrics()?
            .into_iter()
            .map(|(db, c, _)| {
                let m = self.database(&db).container(&c).lifetime_metrics()?;
                Ok((db, c, m))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lifetime_records_round_trip() {
        let v = (12.5, 7, 2);
        assert_eq!(decode_lifetime(&encode_lifetime(v)).unwrap(), v);
        assert!(decode_lifetime(&[0; 10]).is_err());
    }
}

//! Charging an operation to its container: the provisioned-throughput check (429) and the
//! container's metrics in one place, so no charge is taken without being counted. Also the
//! metrics API (`Container::metrics`, `Account::metrics`). See docs/ru-model.md#metrics.

use super::container::{Container, Resolved};
use super::handle::Account;
use crate::error::{Error, Result};
use crate::metering::ContainerMetrics;

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

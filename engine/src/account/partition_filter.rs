//! `PartitionFilter`: a query scope that is not a key range of the store, given as a predicate
//! over the items' partition keys (the gateway's effective-partition-key ranges, which hash the
//! key and so cannot be turned back into a key prefix). The scan still reads, and charges, every
//! item of the range it covers; only the items the predicate accepts are evaluated. Owns the
//! predicate and its check of one item; must not decide which items are read.

use std::sync::Arc;

use serde_json::Value;

use super::container::{Container, Resolved};
use crate::document::PartitionKey;
use crate::error::Result;

/// A predicate over partition keys, named by `label` (in continuation tokens: a token is valid
/// only with the same label).
#[derive(Clone)]
pub struct PartitionFilter {
    label: String,
    keep: Arc<dyn Fn(&PartitionKey) -> bool + Send + Sync>,
}

impl PartitionFilter {
    pub fn new(
        label: impl Into<String>,
        keep: impl Fn(&PartitionKey) -> bool + Send + Sync + 'static,
    ) -> Self {
        PartitionFilter {
            label: label.into(),
            keep: Arc::new(keep),
        }
    }

    pub fn label(&self) -> &str {
        &self.label
    }

    pub fn keeps(&self, pk: &PartitionKey) -> bool {
        (self.keep)(pk)
    }
}

impl std::fmt::Debug for PartitionFilter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PartitionFilter")
            .field("label", &self.label)
            .finish()
    }
}

impl Container {
    /// Whether a stored item is part of a query's result set before its WHERE clause: live
    /// (not expired) and, under a filter, in a partition the filter keeps.
    pub(crate) fn in_query_scope(&self, r: &Resolved, doc: &Value) -> Result<bool> {
        if !self.is_live(r, doc) {
            return Ok(false);
        }
        match &r.scope_filter {
            None => Ok(true),
            Some(f) => Ok(f.keeps(&r.pk.extract(doc)?)),
        }
    }
}

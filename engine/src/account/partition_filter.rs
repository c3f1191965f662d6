//! `PartitionFilter`: a query scope that is not a key range of the store, given as a predicate
//! over the items' partition keys (the gateway's effective-partition-key ranges, which hash the
//! key and so cannot be turned back into a key prefix). The scan still reads, and charges, every
//! item of the range it covers; only the items the predicate accepts are evaluated, unless the
//! filter says it depends on the first levels of a hierarchical key alone, in which case
//! filter_scope.rs turns it into the key range of the one prefix it keeps. Owns the predicate and
//! its check of one item; must not decide which items are read.

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
    /// `Some(d)`: the predicate depends on the first `d` levels of a hierarchical key only.
    depth: Option<usize>,
}

impl PartitionFilter {
    pub fn new(
        label: impl Into<String>,
        keep: impl Fn(&PartitionKey) -> bool + Send + Sync + 'static,
    ) -> Self {
        PartitionFilter {
            label: label.into(),
            keep: Arc::new(keep),
            depth: None,
        }
    }

    /// A filter over hierarchical keys that depends only on their first `depth` levels, and
    /// answers for a key of exactly those levels as for every key that starts with them. The
    /// query then reads the key range of the prefixes it keeps instead of the container
    /// (filter_scope.rs). The caller vouches for both properties: a predicate that looks
    /// further, or answers a prefix otherwise, loses items.
    pub fn of_leading_levels(
        label: impl Into<String>,
        depth: usize,
        keep: impl Fn(&PartitionKey) -> bool + Send + Sync + 'static,
    ) -> Self {
        PartitionFilter {
            depth: Some(depth),
            ..PartitionFilter::new(label, keep)
        }
    }

    /// The number of leading levels the predicate depends on, when it says so.
    pub fn depth(&self) -> Option<usize> {
        self.depth
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
            .field("depth", &self.depth)
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

//! The key range a query reads when it has no partition key but a partition filter that
//! depends on the first levels of a hierarchical key alone (the gateway's effective-partition-key
//! ranges of a prefix: a hash of the prefix, which cannot be turned back into the prefix). The
//! container's distinct prefixes of that depth are found by seeking, one seek per prefix, not per
//! item: the first key from a position gives the next prefix, and the next position is past every
//! key under it. The one prefix the filter keeps is the scope; none kept is an empty scope. Owns
//! that walk; must not read items' values or evaluate the query.

use super::container::{Container, Resolved};
use crate::document::{
    hierarchical_prefix, leading_levels, partition_prefix, PartitionKey, PartitionKeyKind,
};
use crate::error::{Error, Result};
use crate::index::encode::prefix_end;

/// What a query without a partition key reads.
pub(crate) enum FilterScope {
    /// The whole container (each item still passes the filter, if any).
    Container,
    /// The key range of this key or prefix of levels.
    Partition(PartitionKey),
    /// Nothing: no prefix of the container passes the filter.
    Empty,
}

/// The key prefix of an empty scope in container `id`: every item key of a hierarchical
/// container continues its `hierarchical_prefix` with the tag 5 (`PartitionKey::encode`), so none
/// continues it with 6.
pub(crate) fn empty_scope(id: u32) -> Vec<u8> {
    let mut k = hierarchical_prefix(id);
    k.push(6);
    k
}

impl Container {
    /// The scope of a query of `r` that names no partition key, and the number of seeks it took
    /// (each charged as an index entry read). A filter without a depth, a container with a
    /// single-path key, or two prefixes kept (two keys whose prefixes hash alike: not met in
    /// practice) leave the container as the scope.
    pub(crate) fn filter_scope(&self, r: &Resolved) -> Result<(FilterScope, usize)> {
        let (Some(filter), PartitionKeyKind::MultiHash) = (&r.scope_filter, r.pk.kind()) else {
            return Ok((FilterScope::Container, 0));
        };
        let levels = r.pk.paths().len();
        let Some(depth) = filter.depth().filter(|d| (1..=levels).contains(d)) else {
            return Ok((FilterScope::Container, 0));
        };
        let id = r.id;
        let base = hierarchical_prefix(id);
        let mut from = base.clone();
        let mut kept = None;
        let mut seeks = 0;
        loop {
            seeks += 1;
            let within = |k: &[u8]| k.starts_with(&base);
            let Some((key, _)) = self.inner.store_for(id)?.first_from(&from, within)? else {
                break;
            };
            let levels = leading_levels(id, &key, depth).ok_or_else(|| {
                Error::Internal("an item key of a hierarchical container is damaged".into())
            })?;
            let prefix = PartitionKey::Hierarchical(levels);
            let under = partition_prefix(id, &prefix)?;
            if filter.keeps(&prefix) {
                if kept.is_some() {
                    return Ok((FilterScope::Container, seeks));
                }
                kept = Some(prefix);
            }
            match prefix_end(&under) {
                Some(next) => from = next,
                None => break,
            }
        }
        Ok((kept.map_or(FilterScope::Empty, FilterScope::Partition), seeks))
    }
}

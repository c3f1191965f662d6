//! Copying every stored item of one container into another, as it is (`_ts`, `_etag`, `_rid`
//! kept; a new `_lsn`; index entries written): how a container restored from a backup is put
//! back into an existing account (backup/undelete.rs). Thread-safe: each item is written under
//! its lock in the target. Streams the source one item at a time; never collects it.

use serde_json::Value;

use super::container::{parse_stored, Container};
use crate::document::{container_prefix, item_key};
use crate::error::{Error, Result};

impl Container {
    /// Copies every item stored in `from` (live or expired) into this container, which must not
    /// hold those items yet; returns how many. Buffered: the caller syncs.
    pub(crate) fn copy_items_from(&self, from: &Container) -> Result<u64> {
        let (fr, tr) = (from.resolve()?, self.resolve()?);
        let mut n = 0;
        // Streamed over one snapshot of `from`: memory is bounded by one item, not by the
        // container.
        let prefix = container_prefix(fr.id);
        for record in from.inner.store_for(fr.id)?.iter_prefix_from(&prefix, &prefix)? {
            let (_, bytes) = record?;
            let mut item = parse_stored(&bytes)?;
            if let Some(o) = item.as_object_mut() {
                o.shift_remove("_lsn");
            }
            let pk = tr.pk.extract(&item)?;
            let id = item
                .get("id")
                .and_then(Value::as_str)
                .ok_or_else(|| Error::Internal("a stored item has no string id".into()))?
                .to_string();
            let key = item_key(tr.id, &pk, &id)?;
            let _guard = self.inner.item_lock(&key)?;
            let mut index = self.index_change(tr.id, None)?;
            self.put_replicated(&tr, key, (&pk, &id), item, (false, None), &mut index)?;
            n += 1;
        }
        Ok(n)
    }
}

//! `Container::patch_item`: a partial update of one item (document/patch.rs applies the
//! operations), with an optional filter predicate and If-Match, written as a replace: new etag,
//! index entries, change-feed record and charge as for a replace. Reads and writes under the
//! item's lock, so concurrent patches (e.g. two `incr`) never lose an update. See docs/patch.md.

use serde_json::Value;

use super::container::{without_lsn, Container, Resolved, WriteKind};
use super::response::ItemResponse;
use super::staged::Current;
use crate::document::{
    apply_patch, remove_system_properties, validate_item, validate_patch, ItemRules, PartitionKey,
    PatchOperation,
};
use crate::error::{Error, Result};
use crate::options::Durability;
use crate::query::Predicate;

/// Options of a patch, as the SDKs' patch request options.
#[derive(Clone, Debug, Default)]
pub struct PatchOptions {
    /// Patch only if the current etag equals this one (else 412).
    pub if_match: Option<String>,
    /// Patch only if the item satisfies this predicate, `FROM c WHERE …` (else 412).
    pub filter_predicate: Option<String>,
    /// Override the account's default durability for this write.
    pub durability: Option<Durability>,
}

/// What a patch needs besides the operations: its conditions, parsed once.
pub(crate) struct Conditions<'a> {
    pub(crate) if_match: Option<&'a str>,
    pub(crate) filter: Option<&'a Predicate>,
}

impl Container {
    /// Applies `ops` (1 to 10, in order) to the item `id`: 200 with the patched item; 400 for a
    /// malformed operation or predicate, or a path the item does not have as the operation
    /// needs; 404 if the item does not exist; 412 if If-Match or the filter predicate does not
    /// match; 413 if the result is too large. Nothing is written on any error.
    pub fn patch_item(
        &self,
        pk: impl Into<PartitionKey>,
        id: &str,
        ops: &[PatchOperation],
        opts: &PatchOptions,
    ) -> Result<ItemResponse<Value>> {
        let pk = pk.into();
        let filter = opts.filter_predicate.as_deref().map(Predicate::new).transpose()?;
        let cond = Conditions {
            if_match: opts.if_match.as_deref(),
            filter: filter.as_ref(),
        };
        self.retrying(|| self.patch_item_once(&pk, id, ops, &cond, opts.durability))
    }

    fn patch_item_once(
        &self,
        pk: &PartitionKey,
        id: &str,
        ops: &[PatchOperation],
        cond: &Conditions<'_>,
        durability: Option<Durability>,
    ) -> Result<ItemResponse<Value>> {
        let r = self.resolve()?;
        validate_patch(ops, r.pk.segments())?;
        let key = r.item_key(pk, id)?;
        let _guard = self.inner.item_lock(&key)?;
        let current = self.current(&key)?;
        let mut value = self.patched(&r, (pk, id), current.as_ref(), ops, cond)?;
        let staged = self.stage_write(&r, WriteKind::Replace, (pk, id, key), &mut value, None, current)?;
        self.commit_one(&r, &staged, durability)?;
        Ok(ItemResponse {
            item: Some(without_lsn(value)),
            status_code: 200,
            etag: staged.etag.clone(),
            request_charge: staged.charge,
        })
    }

    /// The item `current` patched by `ops`, without its system properties (the write stamps
    /// new ones): 404 if absent or expired, 412 if a condition fails, 400 if an operation does
    /// not apply. The caller holds the item's lock.
    pub(crate) fn patched(
        &self,
        r: &Resolved,
        (pk, id): (&PartitionKey, &str),
        current: Option<&Current>,
        ops: &[PatchOperation],
        cond: &Conditions<'_>,
    ) -> Result<Value> {
        let Some(current) = current.filter(|c| self.is_live(r, &c.item)) else {
            return Err(self.not_found(pk, id));
        };
        self.check_if_match(cond.if_match, &current.item)?;
        let visible = without_lsn(current.item.clone());
        if let Some(filter) = cond.filter {
            if !filter.matches(&visible)? {
                return Err(Error::PreconditionFailed(format!(
                    "item '{id}' does not satisfy the patch's filter predicate; nothing was changed"
                )));
            }
        }
        let mut value = visible;
        remove_system_properties(&mut value);
        apply_patch(&mut value, ops, r.pk.segments())?;
        // The result is an item like any other written: the same rules (ttl, nesting, reserved
        // names) hold for it.
        validate_item(
            &value,
            &ItemRules {
                cmk: self.inner.container_cmk(r.id),
            },
        )?;
        Ok(value)
    }
}

//! What an item operation returns (status, etag, request charge, the item) and its options.

use crate::options::Durability;

/// Per-operation options, as the official SDKs' request options.
#[derive(Clone, Debug, Default)]
pub struct ItemOptions {
    /// Replace/upsert/delete only if the current etag equals this one (else 412).
    pub if_match: Option<String>,
    /// Override the account's default durability for this write.
    pub durability: Option<Durability>,
}

impl ItemOptions {
    pub fn if_match(etag: impl Into<String>) -> Self {
        ItemOptions {
            if_match: Some(etag.into()),
            durability: None,
        }
    }

    pub fn with_durability(mut self, d: Durability) -> Self {
        self.durability = Some(d);
        self
    }
}

/// The result of an item operation.
#[derive(Clone, Debug)]
pub struct ItemResponse<T> {
    /// The item as stored (with system properties), where the operation returns one.
    pub item: Option<T>,
    /// HTTP-style status: 200, 201 or 204.
    pub status_code: u16,
    pub etag: Option<String>,
    /// Request units charged (see docs/ru-model.md).
    pub request_charge: f64,
}

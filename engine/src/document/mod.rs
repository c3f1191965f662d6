//! Items: partition-key values, validation against the item rules, system properties, TTL expiry, and the
//! encoding of (container, partition key, id) into LSM keys. Uses only serde_json and the error
//! type; never touches storage (the account layer calls `db`).

mod item;
mod key;
mod partition_key;
mod ttl;

pub(crate) use item::{stamp_system_properties, validate_item, ItemRules, MAX_ITEM_BYTES};
pub(crate) use key::{container_of, container_prefix, item_key, partition_prefix};
pub use partition_key::PartitionKey;
pub(crate) use ttl::{is_expired, validate_default_ttl};

//! Items: partition-key values, validation against the item rules, system properties, TTL expiry, and the
//! encoding of (container, partition key, id) into LSM keys. Uses only serde_json and the error
//! type; never touches storage (the account layer calls `db`).

mod change;
mod conflict_policy;
mod item;
mod key;
mod partition_key;
mod patch;
mod pk_definition;
mod ttl;

pub use change::OperationType;
pub(crate) use change::{
    image_value, item_lsn, latest_value, lsn_key, lsn_keys_end, lsn_mark_key, lsn_of, record_partition_key,
    split_value, Change, INLINE_IMAGE_OVERHEAD,
};
pub use conflict_policy::ConflictResolutionPolicy;
pub(crate) use conflict_policy::Verdict;
pub use item::{json_nesting_depth, MAX_ITEM_DEPTH};
pub(crate) use item::{
    remove_system_properties, stamp_system_properties, validate_item, ItemRules, MAX_ITEM_BYTES,
};
pub(crate) use key::{
    container_of, container_prefix, hierarchical_prefix, item_key, leading_levels, partition_prefix,
};
pub use partition_key::{PartitionKey, MAX_LEVELS as MAX_PARTITION_KEY_LEVELS};
pub use patch::{
    apply_patch, parse_patch_operations, validate_patch, PatchOp, PatchOperation, MAX_PATCH_OPERATIONS,
};
pub use pk_definition::{PartitionKeyDefinition, PartitionKeyKind};
pub(crate) use ttl::{expires_at, is_expired, validate_default_ttl};

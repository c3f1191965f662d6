//! Secondary indexes over documents: the indexing policy (which paths), the terms a document
//! yields under it (spatial indexes included), and their order-preserving encoding as LSM keys. Pure: maintenance during
//! writes, rebuilds and lookups live in `account::index`, which stores these keys; the planner
//! that decides which lookups a query may use lives in `query::plan`. See docs/indexing.md.

pub(crate) mod encode;
pub(crate) mod path;
mod policy;
pub(crate) mod spatial;
mod terms;

pub(crate) use policy::CompiledPolicy;
pub use policy::{
    CompositeOrder, CompositePath, IndexingMode, IndexingPolicy, PolicyPath, SpatialIndex, SpatialType,
    MAX_COMPOSITE_PATHS,
};
pub(crate) use terms::terms;

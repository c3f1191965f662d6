//! The request-unit (RU) model: the charge of each operation, a pure function of sizes and the
//! encryption mode (never of timing or cache state); and provisioned throughput, the token
//! buckets that refuse work beyond the RU/s provisioned (429). See docs/ru-model.md.

mod charge;
mod metrics;
mod throughput;

pub(crate) use charge::{
    feed_charge, index_read_charge, point_read_charge, query_charge, query_load_charge, script_charge,
    summed_charge, write_charge,
};
pub use metrics::ContainerMetrics;
pub(crate) use metrics::Metrics;
pub(crate) use throughput::{validate_throughput, with_retry, BucketKey, Provisioned, Throttles};
pub use throughput::{Clock, ManualClock, MonotonicClock, RetryPolicy, MIN_THROUGHPUT, THROUGHPUT_STEP};

//! Strata: the embedded, log-structured, encrypted document store. This facade re-exports the
//! engine at the top level and the analytical tier (Arrow / encrypted Parquet) as
//! `strata::analytical`.

pub use strata_engine::*;

/// The analytical tier: a container's change feed replicated into encrypted Parquet.
pub mod analytical {
    pub use strata_analytical::*;
}

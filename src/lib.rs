pub use strata_engine::*;

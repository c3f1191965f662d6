//! The request-unit (RU) model: the charge of each operation, a pure function of sizes and the
//! encryption mode (never of timing or cache state). See docs/ru-model.md.

mod charge;

pub(crate) use charge::{point_read_charge, query_charge, query_load_charge, write_charge};

//! One module per command group; each turns parsed arguments into engine calls and a `Report`.
//! No storage logic lives here, only calls to the public engine API.

pub mod account;
pub mod analytics;
pub mod backup;
pub mod batch;
pub mod bench;
pub mod container;
pub mod db;
pub mod demo;
pub mod export;
pub mod feed;
pub mod identity;
pub mod import;
pub mod index;
pub mod item;
pub mod key;
pub mod ls;
pub mod query;
pub mod serve;
pub mod sproc;
pub mod stats;
pub mod sync;
pub mod trigger;
pub mod udf;
pub mod vault;

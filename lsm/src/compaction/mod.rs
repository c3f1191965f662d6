//! Leveled compaction, deciding apart from doing: `strategy` looks at segment metadata and returns
//! a task (pure, unit-tested alone); `worker` merges the task's inputs into new segment files, consulting the
//! optional `filter`.
//! Installing the result in the manifest is the db's job. See docs/compaction.md.

mod filter;
mod strategy;
mod worker;

pub use filter::CompactionFilter;

pub(crate) use strategy::{full, pick, StrategyConfig, Task};
pub(crate) use worker::{merge_into_segments, Outputs};

//! The `cordee` binary as an operator runs it: configuration refusals, migrate,
//! signals. The HTTP API is tested in the root package's `tests/e2e`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod backup;
mod conference_crash;
mod config;
mod directory;
mod durability;
mod keys;
mod logs;
mod shutdown;
mod support;

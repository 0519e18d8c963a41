//! Cordée's domain: the people and records a CPTS coordinates care with, the rules
//! that decide who may see what, and the store that persists them.
//!
//! Decisions are pure functions that receive `now`, the actor and the facts; the
//! `store` module persists with sqlx on SQLite or PostgreSQL. No HTTP types here.
#![cfg_attr(
    test,
    allow(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )
)]

#[macro_use]
pub mod names;

pub mod access;
pub mod account;
pub mod aci;
pub mod attachment;
pub mod audit;
pub mod care_team;
pub mod consent;
pub mod conversation;
pub mod cpts;
pub mod directory;
pub mod error;
pub mod file;
pub mod ids;
pub mod notification;
pub mod organisation;
pub mod patient;
pub mod policy;
pub mod profile;
pub mod session;
pub mod store;
pub mod stream;
#[cfg(feature = "test-support")]
pub mod testing;
pub mod time;
// Campaigns (issue 15)
pub mod campaign;
// Waiting list (issue 14)
pub mod waiting_list;

// Pathways, care plans and tasks (issue 12)
pub mod calendar;
pub mod care_plan;
pub mod protocol;
pub mod task;
// Case conferences (issue 13)
pub mod case_conference;

pub use error::{Error, Result};
pub use time::Millis;

//! The store conformance suite: one scripted story per aggregate, run against a
//! fresh SQLite file, or a fresh PostgreSQL database when `CORDEE_TEST_POSTGRES_URL`
//! is set (the test script runs it both ways).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod access;
mod accounts_sessions;
mod aci;
mod at_rest;
mod audit;
mod directory;
mod directory_members;
mod file;
mod messaging;
mod support;
// Campaigns (issue 15)
mod campaigns;
// Waiting list (issue 14)
mod waiting_list;
// Pathways, care plans and tasks (issue 12)
mod care_plans;
// Case conferences (issue 13)
mod case_conference_addenda;
mod case_conferences;

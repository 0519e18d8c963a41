//! End-to-end tests: the real gateway on 127.0.0.1:0 against a fresh database.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod aci;
mod auth;
mod browser;
mod directory;
mod errors;
mod file;
mod health;
mod lists;
mod messaging;
mod oidc;
mod security;
mod sessions;
mod support;
mod tls;
mod web;
mod web_aci;
mod web_directory;
// Campaigns (issue 15)
mod campaigns;
mod web_campaigns;
// Waiting list (issue 14)
mod waiting_list;
mod web_waiting;
// Pathways, care plans and tasks (issue 12)
mod care_plans;
mod web_plans;
// Case conferences (issue 13)
mod case_conference_record;
mod case_conferences;
mod web_conferences;

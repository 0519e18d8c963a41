//! End-to-end tests: the real gateway on 127.0.0.1:0 against a fresh database.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

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
mod web_directory;
// Case conferences (issue 13)
mod case_conferences;
mod web_conferences;

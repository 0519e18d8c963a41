//! HTTP routes. Each module exports `router()`; handlers are thin: extract, call the
//! domain, map the error.

pub mod admin;
pub mod attachments;
pub mod auth;
pub mod care_team;
pub mod cpts;
pub mod directory;
pub mod entries;
pub mod health;
pub mod me;
pub mod messages;
pub mod notifications;
pub mod organisations;
pub mod page;
pub mod patients;
pub mod rights;
pub mod schemas;
pub mod wire;
// Case conferences (issue 13)
pub mod case_conferences;

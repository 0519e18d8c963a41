//! HTTP routes. Each module exports `router()`; handlers are thin: extract, call the
//! domain, map the error.

pub mod auth;
pub mod health;
pub mod home;
pub mod me;
pub mod page;

//! HTTP routes. Each module exports `router()`; handlers are thin: extract, call the
//! domain, map the error.

pub mod health;

//! Logging in: Cordée as an OpenID Connect relying party of Pro Santé Connect (health
//! professionals) and of the CPTS's own provider (staff), and the sessions that follow.
//!
//! - `provider`: configured providers, discovery, keys, the HTTP client (and where
//!   mutual TLS plugs in);
//! - `flow` and `verify`: the authorization code flow and every check on its answers;
//! - `claims`: PSC and generic claims → `Identity`;
//! - `session`: cookies, CSRF, and the `Authenticated` extractor;
//! - `ratelimit`: per-address limit on login endpoints;
//! - `events`: the single door to the audit log.

pub mod claims;
pub mod events;
pub mod flow;
pub mod provider;
pub mod ratelimit;
pub mod session;
pub mod token;
pub mod verify;

use std::sync::Arc;

pub use session::{Authenticated, CurrentSession};

use crate::config::{ProviderConfig, Settings};
use provider::{ClientTrust, Provider};
use ratelimit::RateLimiter;

/// The providers users can log in with, in configuration order (the sandbox's two
/// first in demo mode).
pub struct Providers {
    list: Vec<Arc<Provider>>,
}

impl Providers {
    pub fn get(&self, id: &str) -> Option<Arc<Provider>> {
        self.list.iter().find(|p| p.id == id).cloned()
    }

    pub fn iter(&self) -> impl Iterator<Item = &Arc<Provider>> {
        self.list.iter()
    }
}

pub struct Auth {
    pub providers: Providers,
    pub limiter: RateLimiter,
}

impl Auth {
    /// `extra` are providers not in the settings file: the sandbox's, in demo mode.
    pub fn new(settings: &Settings, extra: &[ProviderConfig]) -> anyhow::Result<Auth> {
        let mut trust = ClientTrust::default();
        if !extra.is_empty()
            && let Some(tls) = &settings.tls
        {
            // The sandbox is this gateway: trust its own certificate when it calls itself.
            let pem = std::fs::read(&tls.cert)?;
            trust.extra_roots_pem.push(pem);
        }
        let mut list = Vec::new();
        for config in extra {
            list.push(Arc::new(Provider::new(
                config,
                &settings.public_url,
                &trust,
            )?));
        }
        for config in &settings.providers {
            list.push(Arc::new(Provider::new(
                config,
                &settings.public_url,
                &ClientTrust::default(),
            )?));
        }
        Ok(Auth {
            providers: Providers { list },
            limiter: RateLimiter::new(settings.login_rate_limit),
        })
    }
}

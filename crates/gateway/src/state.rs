//! What every handler can reach.

use std::sync::Arc;

use cordee_pathway::store::{Db, Store};

use crate::auth::Auth;
use crate::config::Settings;
use crate::sandbox::Sandbox;

#[derive(Clone)]
pub struct AppState(Arc<Inner>);

pub struct Inner {
    pub settings: Settings,
    pub db: Db,
    pub store: Store,
    /// Identity providers, login rate limit.
    pub auth: Auth,
    /// The PSC sandbox; `Some` only in demo mode.
    pub sandbox: Option<Arc<Sandbox>>,
}

impl AppState {
    /// Builds the state; in demo mode this loads (or makes) the sandbox signing key
    /// and adds the sandbox's two providers. Nothing here contacts a provider.
    pub async fn new(settings: Settings, db: Db, store: Store) -> anyhow::Result<AppState> {
        let sandbox = if settings.demo {
            Some(Arc::new(Sandbox::start(&settings).await?))
        } else {
            None
        };
        let extra = sandbox
            .as_ref()
            .map(|s| s.provider_configs())
            .unwrap_or_default();
        let auth = Auth::new(&settings, &extra)?;
        Ok(AppState(Arc::new(Inner {
            settings,
            db,
            store,
            auth,
            sandbox,
        })))
    }
}

impl std::ops::Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

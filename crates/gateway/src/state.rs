//! What every handler can reach.

use std::sync::Arc;

use cordee_pathway::ids::AccountId;
use cordee_pathway::store::{Db, Store};
use tokio::sync::watch;

use crate::config::Settings;
use crate::limits::RateLimit;
use crate::stream::hub::Hub;
use crate::stream::push::LogOnly;

#[derive(Clone)]
pub struct AppState(Arc<Inner>);

pub struct Inner {
    pub settings: Settings,
    pub db: Db,
    pub store: Store,
    pub hub: Hub,
    pub send_limiter: RateLimit<AccountId>,
    /// Turns true when the gateway starts shutting down (WebSockets close on it).
    pub closing: watch::Receiver<bool>,
    closing_tx: watch::Sender<bool>,
}

impl AppState {
    /// Needs a Tokio runtime (it starts the stream's fan-out task).
    pub fn new(settings: Settings, db: Db, store: Store) -> AppState {
        let hub = Hub::start(store.clone(), Arc::new(LogOnly));
        let (closing_tx, closing) = watch::channel(false);
        let send_limiter = RateLimit::per_minute(settings.send_rate_limit, "message.rate_limited");
        AppState(Arc::new(Inner { settings, db, store, hub, send_limiter, closing, closing_tx }))
    }

    /// Tells long-lived connections to finish.
    pub fn begin_shutdown(&self) {
        let _ = self.closing_tx.send(true);
    }
}

impl std::ops::Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

//! What every handler can reach.

use std::sync::Arc;

use cordee_pathway::ids::AccountId;
use cordee_pathway::store::{Db, Store};
use tokio::sync::watch;

use crate::auth::Auth;
use crate::clock::Clock;
use crate::config::Settings;
use crate::limits::FixedWindow;
use crate::sandbox::Sandbox;
use crate::stream::hub::Hub;
use crate::stream::push::LogOnly;

#[derive(Clone)]
pub struct AppState(Arc<Inner>);

pub struct Inner {
    pub settings: Settings,
    pub db: Db,
    pub store: Store,
    /// The one source of `now` (tests move it forward instead of sleeping).
    pub clock: Clock,
    /// Identity providers, login rate limit.
    pub auth: Auth,
    /// The PSC sandbox; `Some` only in demo mode.
    pub sandbox: Option<Arc<Sandbox>>,
    pub hub: Hub,
    /// Messages per account per minute.
    pub send_limiter: FixedWindow<AccountId>,
    /// Emergency-access lookups by identity per account per minute: a mistyped INS or
    /// two at the bedside, not a sweep of the CPTS's patients.
    pub break_glass_limiter: FixedWindow<AccountId>,
    /// This process among the gateways sharing the database (who holds a job).
    pub instance_id: String,
    /// Turns true when the gateway starts shutting down (WebSockets close on it).
    pub closing: watch::Receiver<bool>,
    closing_tx: watch::Sender<bool>,
}

pub const BREAK_GLASS_LOOKUPS_PER_MINUTE: u32 = 5;

impl AppState {
    /// Builds the state; in demo mode this loads (or makes) the sandbox signing key
    /// and adds the sandbox's two providers. Nothing here contacts a provider. Starts
    /// the stream's fan-out task (needs a Tokio runtime).
    pub async fn new(
        settings: Settings,
        db: Db,
        store: Store,
        clock: Clock,
    ) -> anyhow::Result<AppState> {
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
        let hub = Hub::start(store.clone(), Arc::new(LogOnly), clock.clone());
        let (closing_tx, closing) = watch::channel(false);
        let send_limiter = FixedWindow::per_minute(settings.send_rate_limit);
        Ok(AppState(Arc::new(Inner {
            settings,
            db,
            store,
            clock,
            auth,
            sandbox,
            hub,
            send_limiter,
            break_glass_limiter: FixedWindow::per_minute(BREAK_GLASS_LOOKUPS_PER_MINUTE),
            instance_id: uuid::Uuid::now_v7().to_string(),
            closing,
            closing_tx,
        })))
    }

    /// Tells long-lived connections to finish.
    /// The time, read once per request and passed down.
    pub fn now(&self) -> cordee_pathway::Millis {
        self.clock.now()
    }

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

//! The `cordee` gateway: configuration, HTTP API, TLS, and the commands of the
//! `cordee` binary. Handlers are thin; the domain lives in `cordee-pathway`.
#![cfg_attr(
    test,
    allow(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )
)]

pub mod aci;
pub mod app;
pub mod auth;
pub mod cli;
pub mod clock;
pub mod config;
pub mod demo;
pub mod demo_cpts;
pub mod directory;
pub mod error;
pub mod extract;
pub mod http;
pub mod jobs;
pub mod keys;
pub mod limits;
pub mod metrics;
pub mod openapi;
pub mod sandbox;
pub mod secret;
pub mod server;
pub mod state;
pub mod stream;
pub mod telemetry;
pub mod tls;
pub mod web;
// Campaigns (issue 15)
pub mod demo_campaigns;
// Waiting list (issue 14)
pub mod demo_waiting;
// Pathways, care plans and tasks (issue 12)
pub mod demo_plans;
// Case conferences (issue 13)
pub mod demo_conferences;

use std::future::Future;
use std::time::Duration;

use anyhow::Context;
use cordee_pathway::store::{Db, DbOptions, Store};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

use crate::config::Settings;
use crate::secret::redact_url;
use crate::state::AppState;

/// A gateway ready to serve: settings validated, TLS loaded, database migrated.
pub struct Gateway {
    state: AppState,
    tls: Option<TlsAcceptor>,
}

impl Gateway {
    /// Loads everything that can fail before a port is bound.
    pub async fn build(settings: Settings) -> anyhow::Result<Gateway> {
        Gateway::build_with_clock(settings, clock::Clock::system()).await
    }

    /// Same, with a clock the caller can move (tests).
    pub async fn build_with_clock(
        settings: Settings,
        clock: clock::Clock,
    ) -> anyhow::Result<Gateway> {
        let tls = settings.tls.as_ref().map(tls::acceptor).transpose()?;
        let key_file = keys::load_for_serve(&settings)?;
        let keys = keys::keys_for(&settings, &key_file)?;
        drop(key_file);
        let db = connect(&settings).await?;
        db.migrate()
            .await
            .context("Failed to apply database migrations")?;
        let store = Store::open(db.clone(), keys, clock.time_source());
        let state = AppState::new(settings, db, store, clock)
            .await
            .context("Failed to set up logins")?;
        Ok(Gateway { state, tls })
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves on `listener` until `shutdown` resolves, then drains requests in flight
    /// (bounded by the configured grace period) and closes the database.
    pub async fn run(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()>,
    ) -> anyhow::Result<()> {
        let settings = &self.state.settings;
        let grace = Duration::from_secs(settings.shutdown_grace_secs);
        let metrics_task = match settings.metrics_listen {
            Some(addr) => {
                let metrics_listener = TcpListener::bind(addr)
                    .await
                    .with_context(|| format!("CORDEE_METRICS_LISTEN: cannot listen on {addr}"))?;
                Some(tokio::spawn(async move {
                    let _ = axum::serve(metrics_listener, app::metrics_router()).await;
                }))
            }
            None => None,
        };
        jobs::start(self.state.clone());
        let router = app::router(self.state.clone());
        let state = self.state.clone();
        let shutdown = async move {
            shutdown.await;
            state.begin_shutdown();
        };
        server::serve(listener, self.tls.clone(), router, shutdown, grace).await;
        if let Some(task) = metrics_task {
            task.abort();
        }
        self.state.store.close().await;
        tracing::info!("database closed; bye");
        Ok(())
    }
}

pub async fn connect(settings: &Settings) -> anyhow::Result<Db> {
    let mut options = DbOptions::new(settings.database_url.expose());
    options.max_connections = settings.database_max_connections;
    Db::connect(&options).await.with_context(|| {
        format!(
            "Failed to open the database {}",
            redact_url(settings.database_url.expose())
        )
    })
}

/// Resolves on SIGTERM or SIGINT.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutdown signal received");
}

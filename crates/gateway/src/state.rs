//! What every handler can reach.

use std::sync::Arc;

use cordee_pathway::store::Db;

use crate::config::Settings;

#[derive(Clone)]
pub struct AppState(Arc<Inner>);

pub struct Inner {
    pub settings: Settings,
    pub db: Db,
}

impl AppState {
    pub fn new(settings: Settings, db: Db) -> AppState {
        AppState(Arc::new(Inner { settings, db }))
    }
}

impl std::ops::Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}
